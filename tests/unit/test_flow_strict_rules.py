"""The strict engine accepts exactly the documented CloudFlow spec: one test per rule,
each naming the state and the field in its error (docs/localcloud-flow.md lists pages)."""

from __future__ import annotations

import pytest

from localcloud.flow.errors import FlowDefinitionError
from localcloud.flow.parser import parse_flow

HEADER = "Type: StateMachine\nName: t\nSpecVersion: v1\nStartAt: W\nStates:\n"
FC_TASK = (
    "  - Name: W\n    Type: Task\n    Action: FC:InvokeFunction\n"
    "    Parameters:\n      resourceArn: acs:fc:r:1:functions/f/LATEST\n"
    "      invocationType: Sync\n"
)


def problems(text: str) -> list[str]:
    with pytest.raises(FlowDefinitionError) as info:
        parse_flow(HEADER + text)
    return info.value.problems


def pass_with(key: str, expression: str) -> str:
    return f"  - Name: W\n    Type: Pass\n    OutputConstructor:\n      {key}.$: '{expression}'\n    End: true\n"


def choice_with(condition: str) -> str:
    return (
        f"  - Name: W\n    Type: Choice\n    Branches:\n      - Condition: '{condition}'\n"
        "        Next: E\n    Default: E\n  - Name: E\n    Type: Succeed\n"
    )


RULES = [
    # error-handling page: Description is Required on Retry and Catch rules
    (
        FC_TASK + "    Retry:\n      - Errors: [FnF.ALL]\n        MaxAttempts: 1\n"
        "        IntervalSeconds: 1\n    End: true\n",
        "Retry[0].Description",
    ),
    (
        FC_TASK + "    Catch:\n      - Errors: [FnF.ALL]\n        Next: W\n    End: true\n",
        "Catch[0].Description",
    ),
    # error-handling page: IntervalSeconds is an int
    (
        FC_TASK + "    Retry:\n      - Description: d\n        Errors: [FnF.ALL]\n"
        "        MaxAttempts: 1\n        IntervalSeconds: 0.5\n    End: true\n",
        "IntervalSeconds",
    ),
    # data-transfer page: the error is $Context.Current.Error, not a Catch's $Output
    (
        FC_TASK + "    Catch:\n      - Description: d\n        Errors: [FnF.ALL]\n        Next: W\n"
        "        OutputConstructor:\n          code.$: $Output.Code\n    End: true\n",
        "Catch[0].OutputConstructor",
    ),
    # Fail page: Detail required (Code optional)
    ("  - Name: W\n    Type: Fail\n    Code: X\n", "Detail"),
    # Task page: Timeout 0..604800
    (FC_TASK + "    Timeout: 604801\n    End: true\n", "Timeout"),
    (FC_TASK + "    Timeout: -1\n    End: true\n", "Timeout"),
    # wait page: Seconds 1..300 (Standard)
    ("  - Name: W\n    Type: Wait\n    Seconds: 0\n    End: true\n", "Seconds"),
    ("  - Name: W\n    Type: Wait\n    Seconds: 301\n    End: true\n", "Seconds"),
    # Choice page: Default required
    (
        "  - Name: W\n    Type: Choice\n    Branches:\n      - Condition: $Input.a == 1\n"
        "        Next: W\n",
        "Default",
    ),
    # Map page: inline Map documents no ToleratedFailure* fields
    (
        "  - Name: W\n    Type: Map\n    ItemsPath: $Input.a\n    ToleratedFailureCount: 1\n"
        "    Processor:\n      StartAt: X\n      States:\n        - {Name: X, Type: Succeed}\n"
        "    End: true\n",
        "ToleratedFailureCount",
    ),
    # Choice page: the condition grammar has no null literal and no function calls
    (choice_with("$Input.a != null"), "Branches[0].Condition"),
    (choice_with("arrayContains($Input.a, 1)"), "Branches[0].Condition"),
    (choice_with("$Input.a - 1 > 0"), "Branches[0].Condition"),
    (choice_with("$Input.a == ''x''"), "Branches[0].Condition"),  # single quotes
    (choice_with('$Input.a == {"k": 1}'), "Branches[0].Condition"),
    # built-in functions page: only documented functions, with their arity; no operators
    (pass_with("a", "jsonToString($Input)"), "OutputConstructor"),
    (pass_with("a", "$Input.n + 1"), "OutputConstructor"),
    (pass_with("a", "intAdd($Input.n)"), "OutputConstructor"),
    (pass_with("a", "jsonMerge($Input)"), "OutputConstructor"),
    (pass_with("a", "$Input.n == 1"), "OutputConstructor"),
    (pass_with("a", "jsonMerge($Input, $Input).x"), "OutputConstructor"),
    (pass_with("a", "null"), "OutputConstructor"),
    (pass_with("a", "length(" * 11 + "1" + ")" * 11), "OutputConstructor"),
]


@pytest.mark.parametrize("fragment, field", RULES)
def test_each_undocumented_construct_is_refused_naming_state_and_field(fragment, field):
    found = problems(fragment)
    assert any(f"state 'W', field {field}" in p for p in found), found


@pytest.mark.parametrize(
    "condition",
    [
        "$Input.kind == `zip`",  # backtick strings
        '"a" in $Input.list',  # array membership
        '"k" in $Input.map && !($Input.n >= 3) || -$Input.n < 0',
        "$Input.a[0] == 1.5",
    ],
)
def test_the_documented_condition_grammar_is_accepted(condition):
    parse_flow(HEADER + choice_with(condition))


@pytest.mark.parametrize(
    "expression",
    [
        "intAdd($Input.n, -1)",
        'format("{}--{}", $Context.Execution.Input.job_id, intAdd($Input.seq, 1))',
        'get(get(jsonMerge({"Body": $Output}, $Output), "Body"), "shard")',
        'arrayContains($Output.Items, {"done": false})',
        "toArray(1, 2, 3)",
        'hash("abc", "MD5")',
        "uuid()",
        "mapKeys($Input)",
    ],
)
def test_documented_built_ins_are_accepted_in_constructors(expression):
    parse_flow(HEADER + pass_with("a", expression))


def test_task_timeout_is_a_task_field():
    flow = parse_flow(HEADER + FC_TASK + "    Timeout: 960\n    End: true\n")
    assert flow.scope.states["W"].timeout == 960


def test_fail_code_is_optional():
    parse_flow(HEADER + "  - Name: W\n    Type: Fail\n    Detail: why\n")
