"""How many pages each shard may run in one execution before the event limit.

CloudFlow fails an execution at 5,000 history events. One execution of the copy or
restore flow costs

    events = FIXED + shards * (PER_SHARD + pages * PER_PAGE)

so pages = floor((limit * SAFETY - FIXED - shards * PER_SHARD) / (shards * PER_PAGE)).
The constants are measured on the local engine, which records history like CloudFlow
(tests/flows/test_flow_copy.py::test_event_cost_constants_match_the_engine re-measures
them; docs/decisions/flow-continuation.md shows the arithmetic).
"""

from __future__ import annotations

from dataclasses import dataclass

from ossbatch.cloud import ConfigError

SAFETY = 0.8  # retries add events (each attempt ~3): keep a fifth of the budget for them


@dataclass(frozen=True)
class EventCost:
    fixed: int  # per execution: start, the two Maps, the final choice/continuation/notify
    per_shard: int  # per shard and execution: iteration start/end, budget pass, done flag
    per_page: int  # per page: the Task (scheduled/started/succeeded + enter/exit) and the Choice


# measured with tests/flows (see module docstring); keep in sync with the flow files
COSTS = {
    # copy page: Choice (4) + Task (4 step + 3 task) = 11; shard: iteration 2, budget Pass 4,
    # last Choice 4, Succeed 4, flag iteration 2 + Pass 4 = 20; fixed: execution 2, two Maps 8,
    # Choice 4, then continuation Task 7 or notify Choice 4 + MNS Task 7 + Pass 4 = 15
    "copy": EventCost(fixed=30, per_shard=20, per_page=11),
    # restore step: at most Choice 4 + Wait 4 + poll Task 7 = 15; shard adds ShardFinished 4
    "restore": EventCost(fixed=30, per_shard=24, per_page=15),
}


def pages_per_execution(kind: str, shards: int, limit: int = 5000) -> int:
    cost = COSTS[kind]
    room = limit * SAFETY - cost.fixed - shards * cost.per_shard
    pages = int(room // (shards * cost.per_page)) if shards else 0
    if pages < 1:
        raise ConfigError(
            f"{shards} shards do not fit the {limit}-event limit of one execution "
            f"(each shard costs {cost.per_shard + cost.per_page} events for one page); "
            "use fewer shards (--concurrency)"
        )
    return pages


def events_per_execution(kind: str, shards: int, pages: int) -> int:
    cost = COSTS[kind]
    return cost.fixed + shards * (cost.per_shard + pages * cost.per_page)
