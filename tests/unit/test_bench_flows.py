"""The flow engine bench's flows are ones the strict engine accepts and runs to the end.

Its timing target lives in bench/ (make bench); here only that it still runs at all: an
undocumented operator in its InputConstructor once made every `make bench` stop there.
"""

from __future__ import annotations

import pytest

from bench import bench_flow_engine as bench
from localcloud.flow.engine import FlowEngine


@pytest.mark.parametrize(
    ("flow", "text", "payload", "states"),
    [
        ("bench-map", bench.MAP_FLOW, {"items": list(range(5))}, 5),
        ("bench-loop", bench.LOOP_FLOW, {"n": 0, "limit": 3}, 3),
    ],
)
def test_the_bench_flows_run_to_success(tmp_path, flow, text, payload, states):
    engine = FlowEngine(data_dir=str(tmp_path), max_events=10_000)
    try:
        _, events, status = bench._run(engine, flow, text, payload)
    finally:
        engine.close()
    assert status == "Succeeded"
    assert events > 4 * states  # each item or loop step recorded its state's events
