"""Each state type and its data passing, run on the local engine."""

from __future__ import annotations

import json
import time

from flowkit import definition, events, run_flow


def test_pass_builds_input_and_output_with_context(engine):
    record = run_flow(
        engine,
        definition("pass_constructors.yaml"),
        {"a": 2, "b": 3, "job": "j-1"},
        execution="run-7",
    )
    assert record.status == "Succeeded"
    assert json.loads(record.output) == {
        "sum": 5,
        "job": "j-1",
        "where": "Shape",
        "execution": "run-7",
    }


def test_choice_takes_the_first_true_branch(engine):
    for name, payload, route in [
        ("big", {"size": 500, "kind": "zip"}, "big-zip"),
        ("small", {"size": 5, "kind": "zip"}, "small-zip"),
        ("other", {"size": 5, "kind": "txt"}, "other"),
    ]:
        record = run_flow(engine, definition("choice.yaml"), payload, execution=name)
        assert json.loads(record.output) == {"route": route}, name


def test_choice_condition_on_a_missing_field_fails_the_execution_with_a_named_error(engine):
    record = run_flow(engine, definition("choice.yaml"), {"kind": "txt"})
    assert record.status == "Failed"
    assert record.error_code == "FnF.ExpressionError"
    assert "Condition" in record.error_detail


def test_map_runs_the_processor_per_item_in_order(engine):
    record = run_flow(engine, definition("map_pass.yaml"), {"items": [1, 2, 3, 4, 5]})
    output = json.loads(record.output)
    assert output == {"doubled": [{"value": v * 2} for v in [1, 2, 3, 4, 5]], "count": 5}


def test_map_over_an_empty_array_outputs_no_items(engine):
    record = run_flow(engine, definition("map_pass.yaml"), {"items": []})
    assert json.loads(record.output) == {"doubled": [], "count": 0}


def test_map_items_path_that_is_not_an_array_fails(engine):
    record = run_flow(engine, definition("map_pass.yaml"), {"items": {"a": 1}})
    assert (record.status, record.error_code) == ("Failed", "FnF.InvalidItemsPath")


def test_map_honours_max_concurrency(engine, tmp_path):
    # 12 items sleeping 0.2 s each with MaxConcurrency 4 take >= 3 rounds
    text = definition("map_pass.yaml").replace(
        "Type: Pass\n          InputConstructor:\n            value.$: intAdd($Input, $Input)\n"
        "          End: true",
        "Type: Wait\n          Seconds: 1\n          End: true",
    )
    started = time.monotonic()
    record = run_flow(engine, text, {"items": list(range(8))})
    elapsed = time.monotonic() - started
    assert record.status == "Succeeded"
    assert elapsed >= 2.0, f"8 one-second items at concurrency 4 finished in {elapsed:.2f}s"


def test_parallel_runs_branches_concurrently_and_names_outputs_by_branch(engine):
    started = time.monotonic()
    record = run_flow(engine, definition("parallel.yaml"), {"n": 7})
    assert time.monotonic() - started < 3
    assert json.loads(record.output) == {
        "Branch0": {"side": "left", "n": 7},
        "Branch1": {"side": "right"},
    }


def test_wait_reads_seconds_from_an_expression(engine):
    started = time.monotonic()
    record = run_flow(engine, definition("wait_dynamic.yaml"), {"delay": 1})
    assert record.status == "Succeeded"
    assert time.monotonic() - started >= 1.0


def test_wait_with_an_out_of_range_dynamic_value_fails(engine):
    record = run_flow(engine, definition("wait_dynamic.yaml"), {"delay": 301})
    assert (record.status, record.error_code) == ("Failed", "FnF.InvalidArgument")


def test_fail_state_ends_the_execution_with_its_code_and_detail(engine):
    record = run_flow(engine, definition("fail.yaml"))
    assert (record.status, record.error_code) == ("Failed", "JobDeadlineExceeded")
    assert record.error_detail == "the job deadline passed"
    assert json.loads(record.output) == {
        "Error": "JobDeadlineExceeded",
        "Cause": "the job deadline passed",
    }
    assert events(engine)[-1].type == "ExecutionFailed"


def test_succeed_ends_the_execution_with_its_input(engine):
    record = run_flow(engine, definition("loop_counter.yaml"), {"n": 0, "limit": 3})
    assert record.status == "Succeeded"
    assert json.loads(record.output) == {"n": 3, "limit": 3}


def test_a_loop_records_four_events_per_state_visit_linked_by_schedule_ids(engine):
    run_flow(engine, definition("loop_counter.yaml"), {"n": 0, "limit": 10})
    history = events(engine)
    # 10 x (Check + Step) + final Check + Done, 4 events each, + start/end
    assert len(history) == (10 * 2 + 2) * 4 + 2
    assert [e.event_id for e in history] == list(range(1, len(history) + 1))
    assert [e.type for e in history[:6]] == [
        "ExecutionStarted",
        "StepEntered",
        "StepStarted",
        "StepSucceeded",
        "StepExited",
        "StepEntered",
    ]
    assert {e.type for e in history} == {
        "ExecutionStarted",
        "StepEntered",
        "StepStarted",
        "StepSucceeded",
        "StepExited",
        "ExecutionSucceeded",
    }
    # each event points at the one before it in its state (or the previous state's exit)
    assert all(e.schedule_event_id == e.event_id - 1 for e in history[1:])


def test_state_output_larger_than_64_kib_fails_like_the_cloud(engine):
    doubling = """
Type: StateMachine
Name: big
SpecVersion: v1
StartAt: Double
States:
  - Name: Double
    Type: Pass
    InputConstructor:
      a.$: $Input.blob
      b.$: $Input.blob
    End: true
"""
    record = run_flow(engine, doubling, {"blob": "x" * 40000})
    assert (record.status, record.error_code) == ("Failed", "FnF.DataLimitExceeded")
    assert "Double" in record.error_detail
