"""Properties of executions: event counts follow the documented cost model, ids are
contiguous, and Map output keeps item order whatever the concurrency."""

from __future__ import annotations

import itertools
import json

import pytest
from flowkit import definition, events, named
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localcloud.flow.engine import FlowEngine
from localcloud.flow.history import EVENTS_PER

names = (f"e{i}" for i in itertools.count())


@pytest.fixture(scope="module")
def shared_engine(tmp_path_factory):
    engine = FlowEngine(data_dir=tmp_path_factory.mktemp("props"), max_events=100_000)
    engine.create_flow("loop", named(definition("loop_counter.yaml"), "loop"))
    engine.create_flow("map", named(definition("map_pass.yaml"), "map"))
    yield engine
    engine.close()


def run(engine, flow, payload):
    name = next(names)
    engine.start_execution(flow, name, json.dumps(payload))
    return name, engine.wait(flow, name, 30)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.integers(0, 40))
def test_a_loop_of_n_turns_costs_what_the_model_says(shared_engine, n):
    name, record = run(shared_engine, "loop", {"n": 0, "limit": n})
    assert record.status == "Succeeded"
    history = events(shared_engine, "loop", name)
    states_visited = 2 * n + 2  # n x (Check, Step) + final Check + Done
    assert len(history) == EVENTS_PER["execution"] + states_visited * EVENTS_PER["state"]
    assert [e.event_id for e in history] == list(range(1, len(history) + 1))


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(-1000, 1000), max_size=60))
def test_map_output_keeps_item_order_and_costs_per_iteration(shared_engine, items):
    name, record = run(shared_engine, "map", {"items": items})
    assert json.loads(record.output) == {
        "doubled": [{"value": v * 2} for v in items],
        "count": len(items),
    }
    per_item = EVENTS_PER["map_iteration"] + EVENTS_PER["state"]
    expected = EVENTS_PER["execution"] + EVENTS_PER["state"] + len(items) * per_item
    assert len(events(shared_engine, "map", name)) == expected
