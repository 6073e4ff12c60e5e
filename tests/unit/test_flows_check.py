"""`ossbatch flows check` (and `make check-flows`): the flows as every environment deploys
them pass the strict parser; a broken one is named by environment, state and field."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ossbatch import flowcheck
from ossbatch.cli import app
from ossbatch.config import JOB_KINDS, load_environment


def deployed_definition(env_name: str, kind: str) -> str:
    env = load_environment(env_name)
    return next(f.definition for f in flowcheck.deployed_flows(env) if f.kind == kind)


def test_every_flow_of_every_environment_passes_the_strict_parser():
    result = CliRunner().invoke(app, ["flows", "check", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {row["environment"] for row in rows} == set(flowcheck.environment_names())
    assert len(rows) == len(JOB_KINDS) * len(flowcheck.environment_names())
    assert all(row["result"] == "ok" and row["problems"] == [] for row in rows), rows


def test_a_definition_outside_the_spec_is_reported_with_state_and_field():
    good = deployed_definition("dev", "copy")
    broken = good.replace(
        "            - Description: FC throttling, timeouts and internal errors are transient; back off.\n"
        "              Errors:",
        "            - Errors:",
    ).replace("$Input.pages_left <= 0", "$Input.pages_left - 1 < 0")
    assert broken != good
    found = flowcheck.strict_problems(
        [
            {"name": "ossbatch-dev-copy", "definition": broken},
            {"name": "ossbatch-dev-other", "definition": good},
        ]
    )
    text = "\n".join(found["ossbatch-dev-copy"])
    assert "state 'CopyShards/Processor/CopyPage', field Retry[0].Description" in text
    assert "state 'CopyShards/Processor/ShardHasWork', field Branches[1].Condition" in text
    assert found["ossbatch-dev-other"] == [
        "state '<flow>', field Name: 'ossbatch-dev-copy' is deployed as 'ossbatch-dev-other'; "
        "set Name"
    ]


def test_an_fc_task_timeout_below_the_function_timeout_is_reported():
    env = load_environment("prod")
    definition = deployed_definition("prod", "copy")
    assert flowcheck.timeout_problems(definition, flowcheck.function_timeout(env, "copy")) == []
    problems = flowcheck.timeout_problems(definition, 3600)
    assert problems == [
        "state 'CopyPage', field Timeout: 960 is below the function timeout 3600 s of this "
        "environment; set Timeout >= 3600"
    ]
