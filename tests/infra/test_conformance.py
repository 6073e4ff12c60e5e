"""Offline stand-in for `terraform validate`: every synthesized resource fits the schema subset."""

from __future__ import annotations

import copy

import pytest

from infra import conformance


@pytest.fixture(scope="module")
def schema():
    return conformance.load_schema()


def test_schema_subset_covers_every_resource_type_the_bindings_declare(schema):
    from infra import alicloud

    declared = {
        cls.TERRAFORM_TYPE
        for cls in vars(alicloud).values()
        if isinstance(cls, type) and getattr(cls, "TERRAFORM_TYPE", "")
    }
    assert declared - {"alicloud_account"} <= set(schema["resource_schemas"])
    assert "alicloud_account" in schema["data_source_schemas"]


def test_every_environment_conforms_to_the_provider_schema(synthesized, schema):
    assert conformance.check_stack(synthesized.tf, schema) == []


def _function(synthesized) -> tuple[dict, str]:
    tf = copy.deepcopy(synthesized.tf)
    functions = tf["resource"]["alicloud_fcv3_function"]
    return tf, next(iter(functions))


def test_unknown_argument_is_reported(stacks, schema):
    tf, name = _function(stacks["dev"])
    tf["resource"]["alicloud_fcv3_function"][name]["memory"] = 512
    (problem,) = conformance.check_stack(tf, schema)
    assert f"alicloud_fcv3_function.{name}.memory: unknown argument" in problem


def test_missing_required_argument_is_reported(stacks, schema):
    tf, name = _function(stacks["dev"])
    del tf["resource"]["alicloud_fcv3_function"][name]["runtime"]
    assert conformance.check_stack(tf, schema) == [
        f"resource.alicloud_fcv3_function.{name}: required argument 'runtime' is missing"
    ]


def test_wrong_type_and_computed_only_are_reported(stacks, schema):
    tf, name = _function(stacks["dev"])
    body = tf["resource"]["alicloud_fcv3_function"][name]
    body["timeout"] = "ten minutes"
    body["function_arn"] = "acs:fc:..."
    problems = conformance.check_stack(tf, schema)
    assert any(".timeout: expected number" in p for p in problems)
    assert any(".function_arn: computed-only" in p for p in problems)


def test_nested_block_limits_and_required_fields_are_checked(stacks, schema):
    tf = copy.deepcopy(stacks["prod"].tf)
    buckets = tf["resource"]["alicloud_oss_bucket"]
    bucket = next(b for b in buckets.values() if "lifecycle_rule" in b)
    del bucket["lifecycle_rule"][0]["enabled"]
    bucket["versioning"] = [{"status": "Enabled"}, {"status": "Suspended"}]
    problems = conformance.check_stack(tf, schema)
    assert any("lifecycle_rule[0]: required argument 'enabled'" in p for p in problems)
    assert any(".versioning: at most 1" in p for p in problems)


def test_unknown_resource_type_is_reported(schema):
    problems = conformance.check_stack({"resource": {"alicloud_fc_function": {"x": {}}}}, schema)
    assert problems == ["resource.alicloud_fc_function: type not in the schema subset"]
