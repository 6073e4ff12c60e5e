"""The flow definitions a synthesized stack deploys (what CreateFlow receives, Terraform
escapes undone) pass `ossbatch flows check --synth`, for every environment."""

from __future__ import annotations

import pytest

from ossbatch import flowcheck

ENVIRONMENTS = ("local", "dev", "staging", "prod")


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_synthesized_flow_definitions_pass_the_strict_parser(stacks, tmp_path, name):
    stack = tmp_path / "cdk.tf.json"
    stack.write_text(stacks[name].text)
    reports = flowcheck.check_synthesized(stack)
    assert {r.name for r in reports} == {
        stacks[name].env.flow_name(stem) for stem in ("copy", "restore", "unzip", "verify")
    }
    assert all(r.problems == [] for r in reports), [(r.name, r.problems) for r in reports]


def test_a_synthesized_flow_under_another_name_is_reported(stacks, tmp_path):
    stack = tmp_path / "cdk.tf.json"
    stack.write_text(stacks["prod"].text.replace("Name: ossbatch-prod-copy", "Name: other", 1))
    problems = {r.name: r.problems for r in flowcheck.check_synthesized(stack)}
    assert problems["ossbatch-prod-copy"] == [
        "state '<flow>', field Name: 'other' is deployed as 'ossbatch-prod-copy'; set Name"
    ]
