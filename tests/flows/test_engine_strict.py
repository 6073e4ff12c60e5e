"""Engine rules the docs state (CreateFlow name, names <= 128, 64 KiB data, StartExecution
on a running name) and the two readings of what they leave open (Catch input)."""

from __future__ import annotations

import json

import pytest
from flowkit import definition, events, named, run_flow
from jobkit import READINGS

from localcloud.flow import api_errors as api


def test_create_and_update_flow_need_the_definition_name_to_equal_the_flow_name(engine):
    with pytest.raises(api.InvalidArgument, match=r"state '<flow>', field Name: .*'fail'.*'f'"):
        engine.create_flow("f", definition("fail.yaml"))
    engine.create_flow("f", named(definition("fail.yaml"), "f"))
    with pytest.raises(api.InvalidArgument, match="field Name"):
        engine.update_flow("f", definition("fail.yaml"))


def test_execution_names_longer_than_128_characters_are_refused(engine):
    engine.create_flow("f", named(definition("wait_dynamic.yaml"), "f"))
    with pytest.raises(api.InvalidArgument, match="1..128"):
        engine.start_execution("f", "e" * 129, json.dumps({"delay": 1}))
    engine.start_execution("f", "e" * 128, json.dumps({"delay": 1}))
    assert engine.wait("f", "e" * 128, 10).status == "Succeeded"


def test_starting_a_running_execution_again_returns_it_and_a_finished_one_is_refused(engine):
    engine.create_flow("f", named(definition("wait_dynamic.yaml"), "f"))
    first = engine.start_execution("f", "again", json.dumps({"delay": 2}))
    second = engine.start_execution("f", "again", json.dumps({"delay": 2}))
    assert (second.name, second.status, second.started_time) == (
        "again",
        "Running",
        first.started_time,
    )
    assert engine.wait("f", "again", 10).status == "Succeeded"
    with pytest.raises(api.ExecutionAlreadyExists):
        engine.start_execution("f", "again", json.dumps({"delay": 2}))


BIG_OUTPUT = """
Type: StateMachine
Name: f
SpecVersion: v1
StartAt: Grow
States:
  - Name: Grow
    Type: Pass
    OutputConstructor:
      a.$: $Input.text
      b.$: $Input.text
    Next: Done
  - Name: Done
    Type: Succeed
"""


def test_state_output_over_64_kib_fails_the_execution_naming_the_state(engine):
    record = run_flow(engine, BIG_OUTPUT, {"text": "x" * 40_000})
    assert (record.status, record.error_code) == ("Failed", "FnF.DataLimitExceeded")
    assert "'Grow'" in record.error_detail and "65536" in record.error_detail
    assert events(engine)[-1].type == "ExecutionFailed"
    ok = run_flow(engine, BIG_OUTPUT, {"text": "x" * 30_000}, execution="e2")
    assert ok.status == "Succeeded"


CATCH_WITHOUT_OUTPUT = """
Type: StateMachine
Name: f
SpecVersion: v1
StartAt: Try
States:
  - Name: Try
    Type: Parallel
    Branches:
      - StartAt: Boom
        States:
          - {Name: Boom, Type: Fail, Code: Boom, Detail: always}
    Catch:
      - Description: any error
        Errors: [FnF.ALL]
        Next: After
    End: true
  - Name: After
    Type: Pass
    End: true
"""


@pytest.mark.parametrize("reading", READINGS)
def test_the_input_after_a_catch_without_output_constructor_follows_the_reading(
    make_engine, reading
):
    engine = make_engine(compat=reading == "compat")
    record = run_flow(engine, CATCH_WITHOUT_OUTPUT, {"kept": 1})
    expected = {"Code": "Boom", "Detail": "always"} if reading == "compat" else {"kept": 1}
    assert json.loads(record.output) == expected


def test_a_fail_state_without_code_fails_with_its_detail(engine):
    text = "Type: StateMachine\nName: f\nSpecVersion: v1\nStartAt: S\nStates:\n"
    text += "  - {Name: S, Type: Fail, Detail: nothing to do}\n"
    record = run_flow(engine, text)
    assert (record.status, record.error_code, record.error_detail) == (
        "Failed",
        "FnF.Failed",
        "nothing to do",
    )
