"""RAM policies are least privilege: exact actions, resources inside the environment's scope."""

from __future__ import annotations

import json
import re

import pytest

ACCOUNT = r"(\$\{data\.alicloud_account\.current\.id\}|[0-9]{16})"


def documents(synthesized) -> dict[str, dict]:
    """role kind (fc-worker, fc-unzip, fc-trigger, flow, oss-trigger) -> parsed policy document."""
    found = {}
    prefix = synthesized.env.name_prefix + "-"
    for policy in synthesized.resources("alicloud_ram_policy").values():
        kind = policy["policy_name"].removeprefix(prefix).removesuffix("-policy")
        found[kind] = json.loads(policy["policy_document"])
    return found


def statements(document: dict):
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        yield statement["Action"], statement["Resource"]


def test_each_role_has_exactly_one_custom_policy_attached(synthesized):
    attachments = synthesized.resources("alicloud_ram_role_policy_attachment").values()
    assert len(attachments) == 5
    assert all(a["policy_type"] == "Custom" for a in attachments)
    assert set(documents(synthesized)) == {
        "fc-worker", "fc-unzip", "fc-trigger", "flow", "oss-trigger",
    }  # fmt: skip


def test_no_wildcard_actions_and_no_wildcard_resources(synthesized):
    for kind, document in documents(synthesized).items():
        for actions, resources in statements(document):
            for action in actions:
                assert "*" not in action, (kind, action)
                assert action != "oss:*"
            # only StartExecution needs Resource "*" (its API page: "All Resource")
            if "*" in resources:
                assert actions == ["fnf:StartExecution"] and resources == ["*"], (kind, actions)


def test_every_oss_resource_is_inside_the_environments_buckets(synthesized):
    env = synthesized.env
    buckets = {spec.name for spec in env.buckets.distinct().values()}
    for kind, document in documents(synthesized).items():
        for _, resources in statements(document):
            for arn in resources:
                if not arn.startswith("acs:oss:"):
                    continue
                match = re.fullmatch(rf"acs:oss:\*:{ACCOUNT}:([a-z0-9-]+)(/.*)?", arn)
                assert match, arn
                assert match.group(2) in buckets, (kind, arn)


def _objects(document: dict, bucket: str) -> set[str]:
    """The object resources (`<bucket>/<pattern>`) of one bucket in a document."""
    return {
        arn.split(":", 4)[4]
        for _, resources in statements(document)
        for arn in resources
        if arn.startswith("acs:oss:") and arn.split(":", 4)[4].startswith(bucket + "/")
    }


def test_prefix_scoped_grants_stay_inside_their_prefixes(synthesized):
    env = synthesized.env
    b, reports = env.buckets, env.report_prefix
    docs = documents(synthesized)
    if b.extraction.name not in {b.sources.name, b.archive.name, b.reports.name}:
        assert _objects(docs["fc-unzip"], b.extraction.name) == {
            f"{b.extraction.name}/{env.unzip.output_prefix}*"
        }
    # unzip's report objects: its report parts (job ids unzip-...) and its package leases
    assert _objects(docs["fc-unzip"], b.reports.name) == {
        f"{b.reports.name}/{reports}unzip-*",
        f"{b.reports.name}/{reports}leases/unzip/*",
    }
    for arn in _objects(docs["fc-worker"], b.reports.name):
        assert arn.startswith(f"{b.reports.name}/{reports}"), arn


def test_copy_restore_and_verify_get_nothing_of_unzip_and_unzip_nothing_of_theirs(synthesized):
    env = synthesized.env
    b = env.buckets
    docs = documents(synthesized)
    worker, unzip = json.dumps(docs["fc-worker"]), json.dumps(docs["fc-unzip"])
    theirs = {b.sources.name, b.archive.name, b.reports.name}
    for name in {b.packages.name, b.extraction.name} - theirs:  # distinct buckets in every env
        assert f":{name}" not in worker, name
    for action in ("kms:", "oss:ListObjectVersions", "oss:DeleteObjectVersion"):
        assert action not in worker, action
    for name in {b.sources.name, b.archive.name} - {b.packages.name, b.extraction.name}:
        assert f":{name}" not in unzip, name
    for action in ("oss:RestoreObject", "oss:PutObjectTagging", "oss:GetObjectTagging", "fnf:"):
        assert action not in unzip, action
    functions = synthesized.stack.deployment.functions
    assert {f.kind for f in functions if f.role == "fc-unzip"} == {"unzip"}
    assert {f.kind for f in functions if f.role == "fc-worker"} == {"copy", "restore", "verify"}


def test_fc_roles_cannot_delete_outside_their_packages_and_leases(synthesized):
    env = synthesized.env
    reports = f"{env.buckets.reports.name}/{env.report_prefix}"
    # unzip: the package and its own package lease; copy/restore/verify: request-budget leases
    expected = {
        "fc-unzip": {
            f"{env.buckets.packages.name}/{env.unzip.watch_prefix}*",
            f"{reports}leases/unzip/*",
        },
        "fc-worker": {f"{reports}*/pace/*"},
    }
    deleted: dict[str, set] = {}
    for kind, document in documents(synthesized).items():
        for actions, resources in statements(document):
            if any("Delete" in action for action in actions):
                assert kind in expected, kind
                deleted.setdefault(kind, set()).update(arn.split(":", 4)[4] for arn in resources)
                if "oss:DeleteObjectVersion" in actions:  # a versioned package by its versionId
                    package = f"{env.buckets.packages.name}/{env.unzip.watch_prefix}*"
                    assert [arn.split(":", 4)[4] for arn in resources] == [package]
    assert deleted == expected


def test_trigger_role_can_only_invoke_the_trigger_function(synthesized):
    env = synthesized.env
    document = documents(synthesized)["oss-trigger"]
    (only,) = list(statements(document))
    actions, resources = only
    assert actions == ["fc:InvokeFunction"]
    trigger = env.function_name("trigger")
    assert resources, resources
    for arn in resources:
        assert re.fullmatch(rf"acs:fc:{env.region}:{ACCOUNT}:functions/{trigger}(/\*)?", arn), arn


def test_flow_role_invokes_workers_but_not_the_trigger(synthesized):
    env = synthesized.env
    invoke = [
        arn
        for actions, resources in statements(documents(synthesized)["flow"])
        if "fc:InvokeFunction" in actions
        for arn in resources
    ]
    names = {re.search(r"functions/([^/]+)", arn).group(1) for arn in invoke}
    assert names == {env.function_name(j) for j in ("copy", "restore", "unzip", "verify")}


def test_flow_role_sends_only_to_the_notification_queue(synthesized):
    env = synthesized.env
    for actions, resources in statements(documents(synthesized)["flow"]):
        if "mns:SendMessage" in actions:
            assert resources == [
                r
                for r in resources
                if r.endswith(f"/queues/{env.unzip.notification_queue}/messages")
            ]


def test_start_execution_is_granted_on_all_resources_as_its_api_page_documents(synthesized):
    # StartExecution lists its resource as "All Resource"; a flow ARN makes the grant
    # ineffective, so the trigger could not start unzip and long jobs could not continue
    docs = documents(synthesized)
    for kind in ("fc-trigger", "flow"):
        starts = [res for actions, res in statements(docs[kind]) if "fnf:StartExecution" in actions]
        assert starts == [["*"]], (kind, starts)
    for kind in ("fc-worker", "fc-unzip"):
        for actions, _ in statements(docs[kind]):
            assert "fnf:StartExecution" not in actions, kind


def test_the_wildcard_start_execution_carries_its_documented_reason(stacks):
    from ossbatch.config import load_environment
    from ossbatch.policies import Arns, fc_trigger_policy

    document = fc_trigger_policy(load_environment("dev"), Arns("cn-hangzhou", "1"))
    (start,) = [s for s in document.statements if "fnf:StartExecution" in s.actions]
    assert start.resources == ("*",) and "122628" in start.wildcard_reason


@pytest.mark.parametrize(
    "kind,service",
    [
        ("fc-worker", "fc"),
        ("fc-unzip", "fc"),
        ("fc-trigger", "fc"),
        ("flow", "fnf"),
        ("oss-trigger", "oss"),
    ],
)
def test_roles_trust_exactly_one_service(stacks, kind, service):
    prod = stacks["prod"]
    role = next(
        r
        for r in prod.resources("alicloud_ram_role").values()
        if r["role_name"] == f"ossbatch-prod-{kind}"
    )
    trust = json.loads(role["assume_role_policy_document"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": [f"{service}.aliyuncs.com"]}


def test_statements_refuse_wildcards_unless_a_reason_is_given():
    from ossbatch.policies import PolicyError, Statement

    with pytest.raises(PolicyError, match="wildcard actions"):
        Statement("S", ("oss:*",), ("acs:oss:*:1:b/*",), "why")
    with pytest.raises(PolicyError, match="wildcard_reason"):
        Statement("S", ("log:GetProject",), ("*",), "why")
    allowed = Statement("S", ("log:ListProject",), ("*",), "why", wildcard_reason="no ARN")
    assert allowed.to_ram()["Resource"] == ["*"]
