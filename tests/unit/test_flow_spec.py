"""The parser turns a definition into typed states and rejects everything outside the
supported spec, naming the state and the field."""

from __future__ import annotations

import pytest

from localcloud.flow.errors import FlowDefinitionError
from localcloud.flow.parser import parse_flow
from localcloud.flow.spec import ChoiceState, MapState, TaskState

HEADER = "Type: StateMachine\nName: t\nSpecVersion: v1\n"


def problems(text: str) -> list[str]:
    with pytest.raises(FlowDefinitionError) as info:
        parse_flow(text)
    return info.value.problems


def test_a_valid_flow_becomes_typed_states():
    flow = parse_flow(
        HEADER
        + """StartAt: Route
States:
  - Name: Route
    Type: Choice
    Branches:
      - Condition: $Input.n > 1
        Next: Work
    Default: Work
  - Name: Work
    Type: Task
    Action: FC:InvokeFunction
    Parameters:
      resourceArn: acs:fc:cn-hangzhou:123:functions/copy/LATEST
      invocationType: Sync
      body.$: $Input
    Retry:
      - Description: throttled
        Errors: [FC.ResourceThrottled]
        MaxAttempts: 3
        IntervalSeconds: 1
    End: true
"""
    )
    assert isinstance(flow.scope.states["Route"], ChoiceState)
    task = flow.scope.states["Work"]
    assert isinstance(task, TaskState) and task.retry[0].max_attempts == 3


def test_every_problem_is_reported_at_once_with_state_and_field():
    found = problems(
        HEADER
        + """StartAt: Missing
States:
  - Name: A
    Type: Pass
    Result: 1
    Next: Nowhere
  - Name: B
    Type: Task
    Action: FC:InvokeFunction
    Parameters:
      resourceArn: arn:aws:lambda:x
    End: true
  - Name: C
    Type: Choice
    Branches:
      - Condition: $Input.x >
        Next: A
  - Name: D
    Type: Map
    ItemsPath: $Input.items
    Processor:
      StartAt: I
      States:
        - Name: I
          Type: Pass
          End: true
          Next: I
    MaxConcurrency: 500
    End: true
"""
    )
    text = "\n".join(found)
    assert "state '<flow>', field StartAt" in text
    assert "state 'A', field Result" in text
    assert "state 'A', field Next: 'Nowhere'" in text
    assert "state 'B', field Parameters.resourceArn" in text
    assert "state 'B', field Parameters.invocationType" in text
    assert "state 'C', field Branches[0].Condition" in text
    assert "state 'C', field Default" in text
    assert "state 'D/Processor/I', field Next" in text
    assert "state 'D', field MaxConcurrency" in text


@pytest.mark.parametrize(
    "fragment, field",
    [
        ("  - Name: W\n    Type: Wait\n    Seconds: 301\n    End: true\n", "Seconds"),
        (
            "  - Name: W\n    Type: Wait\n    Timestamp: '2030-01-01T00:00:00Z'\n    End: true\n",
            "Timestamp",
        ),
        (
            "  - Name: W\n    Type: Task\n    Action: HTTP:Request\n    Parameters: {}\n    End: true\n",
            "Action",
        ),
        (
            "  - Name: W\n    Type: Task\n    Action: FC:InvokeFunction\n    TaskMode: WaitForCustomCallback\n"
            "    Parameters:\n      resourceArn: acs:fc:r:1:functions/f/LATEST\n      invocationType: Sync\n    End: true\n",
            "TaskMode",
        ),
        (
            "  - Name: W\n    Type: Pass\n    InputConstructor:\n      a.$: $Output.x\n    End: true\n",
            "InputConstructor",
        ),
        ("  - Name: W\n    Type: Pass\n    End: true\n    Retry: []\n", "Retry"),
        ("  - Name: W\n    Type: Pass\n    Next: W\n    End: true\n", "Next"),
        ("  - Name: W\n    Type: Pass\n", "Next"),
        ("  - Name: W\n    Type: Fail\n", "Detail"),
        (
            "  - Name: W\n    Type: Choice\n    Branches:\n      - Condition: 'true'\n        Next: W\n",
            "Default",
        ),
        (
            "  - Name: W\n    Type: Map\n    ItemsPath: $Input.a\n    Processor:\n      StartAt: X\n"
            "      States:\n        - Name: X\n          Type: Pass\n          End: true\n"
            "    ItemConstructor: {}\n    End: true\n",
            "ItemConstructor",
        ),
        ("  - Name: W\n    Type: Parallel\n    Branches: []\n    End: true\n", "Branches"),
        (
            "  - Name: W\n    Type: Task\n    Action: MNS:SendMessage\n    Parameters:\n"
            "      resourceArn: acs:mns:r:1:/queues/q/messages\n      message: hi\n      priority: 17\n"
            "    End: true\n",
            "Parameters.priority",
        ),
        (
            "  - Name: W\n    Type: Parallel\n    Branches:\n      - StartAt: X\n        States:\n"
            "          - Name: X\n            Type: Pass\n            End: true\n"
            "    Retry:\n      - Errors: [States.ALL]\n        MaxAttempts: 1\n        IntervalSeconds: 1\n"
            "    End: true\n",
            "Retry[0].Errors",
        ),
        (
            "  - Name: W\n    Type: Parallel\n    Branches:\n      - StartAt: X\n        States:\n"
            "          - Name: X\n            Type: Pass\n            End: true\n"
            "    Catch:\n      - Errors: [FnF.ALL]\n    End: true\n",
            "Catch[0].Next",
        ),
    ],
)
def test_unsupported_or_invalid_fields_are_rejected_naming_state_and_field(fragment, field):
    found = problems(HEADER + "StartAt: W\nStates:\n" + fragment)
    assert any(f"state 'W', field {field}" in p for p in found), found


def test_top_level_must_be_the_current_spec():
    found = problems("version: v1\ntype: flow\nsteps: []\n")
    text = "\n".join(found)
    assert "field Type" in text and "field SpecVersion" in text and "field steps" in text


def test_duplicate_state_names_are_rejected():
    found = problems(
        HEADER + "StartAt: A\nStates:\n  - {Name: A, Type: Succeed}\n  - {Name: A, Type: Succeed}\n"
    )
    assert any("duplicate" in p for p in found)


def test_json_definitions_are_accepted():
    flow = parse_flow(
        '{"Type": "StateMachine", "Name": "j", "SpecVersion": "v1", "StartAt": "S",'
        ' "States": [{"Name": "S", "Type": "Succeed"}]}'
    )
    assert flow.name == "j"


def test_the_documented_map_concurrency_spelling_is_accepted():
    flow = parse_flow(
        HEADER
        + """StartAt: M
States:
  - Name: M
    Type: Map
    ItemsPath: $Input.items
    MaxConcuccency: 7
    Processor:
      StartAt: X
      States:
        - {Name: X, Type: Succeed}
    End: true
"""
    )
    state = flow.scope.states["M"]
    assert isinstance(state, MapState) and state.max_concurrency == 7
