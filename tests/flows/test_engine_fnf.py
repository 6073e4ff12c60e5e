"""FNF:StartExecution: continuing in a fresh execution, and waiting for a child."""

from __future__ import annotations

import json

from flowkit import definition, events, named


def test_request_complete_continues_the_job_in_a_chain_of_fresh_executions(engine):
    engine.create_flow("chain", named(definition("chain.yaml"), "chain"))
    engine.start_execution("chain", "job-part-0", json.dumps({"part": 0, "parts": 3}))
    first = engine.wait("chain", "job-part-0", 10)
    assert first.status == "Succeeded"
    # the documented output of the integration: {FlowName, ExecutionName, RequestID}
    output = json.loads(first.output)
    assert (output["FlowName"], output["ExecutionName"]) == ("chain", "job-part-1")
    assert output["RequestID"]
    last = None
    for part in (1, 2, 3):
        last = engine.wait("chain", f"job-part-{part}", 10)
        assert last.status == "Succeeded", part
    assert json.loads(last.output) == {"finished": 3}
    # each link is a fresh execution with its own short history
    assert len(events(engine, "chain", "job-part-1")) == 2 + 2 * 4 + 4  # 4 task events


def test_starting_a_duplicate_execution_name_is_a_task_error(engine):
    engine.create_flow("chain", named(definition("chain.yaml"), "chain"))
    engine.start_execution("chain", "job-part-1", json.dumps({"part": 9, "parts": 3}))
    engine.wait("chain", "job-part-1", 10)
    engine.start_execution("chain", "job-part-0", json.dumps({"part": 0, "parts": 3}))
    record = engine.wait("chain", "job-part-0", 10)
    assert (record.status, record.error_code) == ("Failed", "FnF.ExecutionAlreadyExists")


def test_wait_for_system_callback_takes_the_child_output(engine):
    engine.create_flow("child", named(definition("child.yaml"), "child"))
    engine.create_flow("parent", named(definition("child_wait.yaml"), "parent"))
    engine.start_execution("parent", "p1", json.dumps({"value": 42}))
    record = engine.wait("parent", "p1", 10)
    assert json.loads(record.output) == {"child": "done", "got": 42}


def test_a_failed_child_raises_its_error_in_the_parent_where_catch_handles_it(engine):
    engine.create_flow("child", named(definition("child.yaml"), "child"))
    engine.create_flow("parent", named(definition("child_wait.yaml"), "parent"))
    engine.start_execution("parent", "p1", json.dumps({"fail": True}))
    record = engine.wait("parent", "p1", 10)
    assert record.status == "Succeeded"
    assert json.loads(record.output) == {"failed": True}
    types = [e.type for e in events(engine, "parent", "p1")]
    assert "TaskFailed" in types


def test_starting_an_unknown_flow_fails_the_task(engine):
    engine.create_flow("parent", named(definition("child_wait.yaml"), "parent"))
    engine.start_execution("parent", "p1", "{}")
    record = engine.wait("parent", "p1", 10)
    assert (record.status, record.error_code) == ("Failed", "FnF.FlowNotExists")
