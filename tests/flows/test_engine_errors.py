"""Retry, Catch, Map failures, the event limit and StopExecution."""

from __future__ import annotations

import json
import time

from flowkit import definition, events, named, run_flow


def test_retry_exhausted_then_catch_sees_the_error_and_the_retry_count(engine):
    record = run_flow(engine, definition("retry_catch.yaml"))
    assert record.status == "Succeeded"
    assert json.loads(record.output) == {"code": "Boom", "detail": "always fails", "retries": 2}
    history = events(engine)
    # the Parallel ran 1 + 2 retries = 3 times, each attempt with its branch events
    assert sum(1 for e in history if e.type == "BranchEntered") == 3
    assert [e.step_name for e in history if e.type == "StepEntered"] == [
        "Flaky",
        "Boom",
        "Boom",
        "Boom",
        "Recover",
    ]


def test_retry_waits_with_backoff_between_attempts(engine):
    started = time.monotonic()
    run_flow(
        engine,
        definition("retry_catch.yaml").replace(
            "IntervalSeconds: 0\n        BackoffRate: 2",
            "IntervalSeconds: 1\n        BackoffRate: 2",
        ),
    )
    # 1 s then 2 s (BackoffRate 2); IntervalSeconds is an int (error-handling page)
    assert time.monotonic() - started >= 3


def test_max_backoff_caps_the_retry_interval(engine):
    text = definition("retry_catch.yaml").replace(
        "IntervalSeconds: 0\n        BackoffRate: 2",
        "IntervalSeconds: 1\n        BackoffRate: 10\n        MaxBackoffSeconds: 1",
    )
    started = time.monotonic()
    run_flow(engine, text)
    assert 2 <= time.monotonic() - started < 5


def test_an_uncaught_error_fails_the_execution_after_retries(engine):
    text = definition("retry_catch.yaml").replace("Errors: [FnF.ALL]", "Errors: [SomethingElse]")
    record = run_flow(engine, text)
    assert (record.status, record.error_code, record.error_detail) == (
        "Failed",
        "Boom",
        "always fails",
    )


def test_a_failed_map_item_fails_the_map_with_the_item_error(engine):
    record = run_flow(
        engine, definition("map_check.yaml"), {"items": [{"ok": True}, {"ok": False}]}
    )
    assert (record.status, record.error_code) == ("Failed", "ItemBroken")


def test_event_limit_fails_the_execution_like_the_cloud(make_engine):
    engine = make_engine(max_events=50)
    record = run_flow(engine, definition("loop_counter.yaml"), {"n": 0, "limit": 100})
    assert (record.status, record.error_code) == ("Failed", "FnF.EventLimitExceeded")
    history = events(engine)
    assert len(history) == 50
    assert history[-1].type == "ExecutionFailed"


def test_an_execution_needing_exactly_the_limit_succeeds(make_engine):
    # limit 10 loops: (10*2 + 2) states * 4 events + 2 = 90 events
    engine = make_engine(max_events=90)
    record = run_flow(engine, definition("loop_counter.yaml"), {"n": 0, "limit": 10})
    assert record.status == "Succeeded"
    engine2 = make_engine(max_events=89, data_dir=engine.store.path.parent / "other")
    record = run_flow(engine2, definition("loop_counter.yaml"), {"n": 0, "limit": 10})
    assert record.error_code == "FnF.EventLimitExceeded"


def test_event_limit_inside_a_map_aborts_every_iteration(make_engine):
    engine = make_engine(max_events=200)
    record = run_flow(engine, definition("map_pass.yaml"), {"items": list(range(100))})
    assert (record.status, record.error_code) == ("Failed", "FnF.EventLimitExceeded")
    assert len(events(engine)) == 200


def test_a_map_over_1000_items_costs_six_events_per_item(make_engine):
    engine = make_engine(max_events=10_000)
    record = run_flow(engine, definition("map_pass.yaml"), {"items": list(range(1000))})
    assert record.status == "Succeeded"
    # start + Map state (4) + 1000 x (iteration 2 + processor state 4) + end
    assert len(events(engine)) == 2 + 4 + 1000 * 6


def test_the_same_map_overflows_the_default_5000_event_limit(engine):
    record = run_flow(engine, definition("map_pass.yaml"), {"items": list(range(1000))})
    assert (record.status, record.error_code) == ("Failed", "FnF.EventLimitExceeded")


def test_stop_execution_interrupts_a_wait(engine):
    engine.create_flow("f", named(definition("wait_dynamic.yaml"), "f"))
    engine.start_execution("f", "e1", json.dumps({"delay": 200}))
    time.sleep(0.2)
    started = time.monotonic()
    record = engine.stop_execution("f", "e1", "UserStop", "operator asked")
    assert time.monotonic() - started < 5
    assert (record.status, record.error_code, record.error_detail) == (
        "Stopped",
        "UserStop",
        "operator asked",
    )
    assert events(engine)[-1].type == "ExecutionStopped"
