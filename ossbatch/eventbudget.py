"""How many pages each shard may run in one execution before the event limit.

CloudFlow fails an execution at 5,000 history events (limits page). One execution of the
copy or restore flow costs

    events = FIXED + shards * (PER_SHARD + pages * PER_PAGE)

so pages = floor((limit * SAFETY - FIXED - shards * PER_SHARD) / (shards * PER_PAGE)).
The constants (ossbatch.config.JOB_KINDS) are measured on the local engine, which records history like CloudFlow
(tests/flows/test_flow_copy.py::test_event_cost_constants_match_the_engine re-measures
them; docs/decisions/flow-continuation.md shows the arithmetic).
"""

from __future__ import annotations

from dataclasses import dataclass

from ossbatch.cloud import ConfigError
from ossbatch.config import JOB_KINDS, EventCost

SAFETY = 0.8  # retries add events (4 per task attempt): keep a fifth of the budget for them
EVENTS_PER_TASK_ATTEMPT = 4  # TaskScheduled, TaskSubmitted, TaskStarted, TaskSucceeded/Failed
# the kinds whose executions page over shards, from the registry
COSTS: dict[str, EventCost] = {
    name: kind.event_cost for name, kind in JOB_KINDS.items() if kind.event_cost is not None
}


def cost_of(kind: str) -> EventCost:
    """A job kind's measured event cost (the registry, ossbatch.config.JOB_KINDS)."""
    cost = COSTS.get(kind)
    if cost is None:
        raise ConfigError(f"job kind {kind!r} runs no paged shards: it has no event budget")
    return cost


def pages_per_execution(kind: str, shards: int, limit: int = 5000) -> int:
    cost = cost_of(kind)
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
    cost = cost_of(kind)
    return cost.fixed + shards * (cost.per_shard + pages * cost.per_page)


@dataclass(frozen=True)
class Headroom:
    """What is left of the limit after a full execution: room for retried task attempts."""

    events: int
    retried_attempts: int  # failed attempts the execution absorbs before the limit
    fraction_of_tasks: float  # ... as a share of the execution's task attempts


def headroom(kind: str, shards: int, limit: int = 5000) -> Headroom:
    pages = pages_per_execution(kind, shards, limit)
    left = limit - events_per_execution(kind, shards, pages)
    attempts = left // EVENTS_PER_TASK_ATTEMPT
    return Headroom(left, attempts, attempts / (shards * pages))
