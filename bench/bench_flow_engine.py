"""Flow engine cost: a Map over 1,000 items with a trivial Pass processor (target: < 2 s)
next to a sequential Choice/Pass loop of the same number of states, in one run.

Prints wall times, events recorded, events/s, and the ratio Map time / target.
"""

from __future__ import annotations

import json
import tempfile
import time

from bench.record import write
from localcloud.flow.engine import FlowEngine

TARGET_SECONDS = 2.0
ITEMS = 1000

MAP_FLOW = """
Type: StateMachine
Name: bench-map
SpecVersion: v1
StartAt: Each
States:
  - Name: Each
    Type: Map
    ItemsPath: $Input.items
    Processor:
      StartAt: Touch
      States:
        - Name: Touch
          Type: Pass
          InputConstructor:
            n.$: intAdd($Input, 1)
          End: true
    End: true
"""

LOOP_FLOW = """
Type: StateMachine
Name: bench-loop
SpecVersion: v1
StartAt: Check
States:
  - Name: Check
    Type: Choice
    Branches:
      - Condition: $Input.n < $Input.limit
        Next: Step
    Default: Done
  - Name: Step
    Type: Pass
    InputConstructor:
      n.$: intAdd($Input.n, 1)
      limit.$: $Input.limit
    Next: Check
  - Name: Done
    Type: Succeed
"""


def _run(engine: FlowEngine, flow: str, text: str, payload: dict) -> tuple[float, int, str]:
    engine.create_flow(flow, text)
    started = time.perf_counter()
    engine.start_execution(flow, "e1", json.dumps(payload))
    record = engine.wait(flow, "e1", 120)
    elapsed = time.perf_counter() - started
    count = engine.store.event_count(flow, "e1")
    return elapsed, count, record.status


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        engine = FlowEngine(data_dir=tmp, max_events=100_000)
        try:
            map_s, map_events, map_status = _run(
                engine, "bench-map", MAP_FLOW, {"items": list(range(ITEMS))}
            )
            loop_s, loop_events, loop_status = _run(
                engine, "bench-loop", LOOP_FLOW, {"n": 0, "limit": ITEMS // 2}
            )
        finally:
            engine.close()
    figures = {
        "map_items": ITEMS,
        "map_seconds": round(map_s, 3),
        "map_events": map_events,
        "map_events_per_second": round(map_events / map_s),
        "loop_states": ITEMS + 1,
        "loop_seconds": round(loop_s, 3),
        "loop_events": loop_events,
        "loop_events_per_second": round(loop_events / loop_s),
        "map_vs_target_ratio": round(map_s / TARGET_SECONDS, 3),
    }
    print(
        f"Map over {ITEMS} items: {map_s:.2f}s, {map_events} events "
        f"({map_events / map_s:,.0f}/s), status {map_status}; target < {TARGET_SECONDS}s "
        f"-> ratio {map_s / TARGET_SECONDS:.2f}"
    )
    print(
        f"sequential loop of {ITEMS + 1} states: {loop_s:.2f}s, {loop_events} events "
        f"({loop_events / loop_s:,.0f}/s), status {loop_status}"
    )
    write("flow_engine", figures)
    ok = map_status == "Succeeded" and loop_status == "Succeeded" and map_s < TARGET_SECONDS
    return 0 if ok else 1
