"""The deployment model: one description of what an environment deploys, for both targets."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from handlers import settings as handler_settings
from ossbatch.config import FUNCTION_KINDS, JOB_KINDS, PROJECT_ROOT, load_environment
from ossbatch.deployment import (
    DeploymentError,
    cloud_target,
    deployment,
    local_target,
    named_definition,
)

ENVIRONMENTS = ("local", "dev", "staging", "prod")
CLOUD_ACCOUNT, LOCAL_ACCOUNT = "1111222233334444", "9999888877776666"
# which settings class each function's handler reads (handlers/<kind>.py `run`)
SETTINGS_OF = {
    "copy": handler_settings.WorkerSettings,
    "restore": handler_settings.ObjectSettings,
    "unzip": handler_settings.UnzipSettings,
    "trigger": handler_settings.TriggerSettings,
    "verify": handler_settings.ObjectSettings,
}


def both(name: str):
    env = load_environment(name)
    cloud = deployment(env, cloud_target(env, CLOUD_ACCOUNT))
    local = deployment(
        env, local_target(LOCAL_ACCOUNT, "http://127.0.0.1:7001", "http://127.0.0.1:7002")
    )
    return env, cloud, local


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_cloud_and_local_deployments_differ_only_by_endpoints_and_account(name):
    env, cloud, local = both(name)
    assert cloud.target != local.target
    text = json.dumps(local.model_dump(exclude={"target"}), sort_keys=True)
    for local_value, cloud_value in (
        (local.target.oss_endpoint, cloud.target.oss_endpoint),
        (local.target.fnf_endpoint, cloud.target.fnf_endpoint),
        (LOCAL_ACCOUNT, CLOUD_ACCOUNT),
    ):
        text = text.replace(local_value, cloud_value)
    assert json.loads(text) == json.loads(json.dumps(cloud.model_dump(exclude={"target"})))
    assert LOCAL_ACCOUNT in json.dumps(local.model_dump())  # the account really is in ARNs


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_every_variable_a_function_is_given_is_read_by_its_settings_and_back(name):
    _, plan, _ = both(name)
    assert set(SETTINGS_OF) == {fn.kind for fn in plan.functions} == set(FUNCTION_KINDS)
    for fn in plan.functions:
        settings = SETTINGS_OF[fn.kind]
        given = set(fn.environment) | {s.variable for s in fn.secrets}
        # a secret (the unzip password) is set only when the environment configures one
        assert given <= settings.variables(), (fn.kind, given - settings.variables())
        assert settings.variables() - given <= settings.conditional_variables(), fn.kind
        # and the values parse: the settings model accepts what the deployment sets
        settings.from_environ(fn.environment)


def test_a_configured_password_is_a_secret_of_the_unzip_function_only():
    from ossbatch.config import UnzipPassword

    env = load_environment("prod")
    env = env.model_copy(
        update={"unzip": env.unzip.model_copy(update={"password": UnzipPassword()})}
    )
    plan = deployment(env, cloud_target(env, CLOUD_ACCOUNT))
    (secret,) = plan.function("unzip").secrets
    assert secret.variable in handler_settings.UnzipSettings.secret_variables()
    assert secret.variable not in plan.function("unzip").environment  # no value in the model
    assert all(not fn.secrets for fn in plan.functions if fn.kind != "unzip")
    settings = handler_settings.UnzipSettings.from_environ({secret.variable: "pw"})
    assert settings.password == b"pw" and "pw" not in repr(settings)


def test_the_settings_see_what_the_environment_file_says():
    env, plan, _ = both("prod")
    unzip = handler_settings.UnzipSettings.from_environ(plan.function("unzip").environment)
    assert unzip.output_bucket == env.buckets.extraction.name != env.buckets.packages.name
    assert unzip.report_prefix == env.report_prefix
    assert unzip.limits.max_entries == env.unzip.limits.max_entries == 2_000_000
    assert unzip.limits.max_total_bytes == env.unzip.limits.max_total_bytes
    assert unzip.limits.max_entry_bytes == env.unzip.limits.max_entry_bytes
    assert unzip.processes == 2 and unzip.name_encoding == env.unzip.name_encoding
    trigger = handler_settings.TriggerSettings.from_environ(plan.function("trigger").environment)
    assert trigger.unzip_flow == env.flow_name("unzip")
    assert trigger.delete_after_success is True
    assert trigger.watch_prefix == env.unzip.watch_prefix


def test_report_prefix_comes_from_the_environment_not_a_constant(tmp_path):
    data = yaml.safe_load((PROJECT_ROOT / "environments" / "local.yaml").read_text())
    data["report_prefix"] = "audit/ossbatch/"
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(data))
    env = load_environment(path)
    plan = deployment(env, local_target(LOCAL_ACCOUNT, "http://o", "http://f"))
    for fn in plan.functions:
        if "OSSBATCH_REPORT_PREFIX" in fn.environment:
            assert fn.environment["OSSBATCH_REPORT_PREFIX"] == "audit/ossbatch/"
    for key in ("fc-worker", "fc-unzip"):
        document = json.loads(plan.role(key).policy_document)
        reports = [
            r
            for s in document["Statement"]
            for r in s["Resource"]
            if f":{env.buckets.reports.name}/" in r
        ]
        assert reports and all(
            f":{env.buckets.reports.name}/audit/ossbatch/" in r for r in reports
        ), (key, reports)


def test_copy_and_unzip_processes_come_from_the_whole_vcpus():
    _, prod, _ = both("prod")
    _, dev, _ = both("dev")
    assert prod.function("copy").environment["OSSBATCH_PROCESSES"] == "2"
    assert prod.function("unzip").environment["OSSBATCH_PROCESSES"] == "2"
    # no cpu configured: FC picks a fraction of a vCPU from memory, one process is all it has
    assert dev.function("copy").environment["OSSBATCH_PROCESSES"] == "1"
    assert "OSSBATCH_PROCESSES" not in prod.function("restore").environment


def test_documented_variables_are_the_ones_the_deployment_sets():
    table = (PROJECT_ROOT / "docs" / "internals.md").read_text()
    documented = set(re.findall(r"`(OSSBATCH_[A-Z_]+)`", table))
    env, plan, _ = both("dev")
    given_names = {name for fn in plan.functions for name in fn.environment}
    # and those only an unzip.password source sets: env's secret, kms's name and endpoint
    from ossbatch.config import KmsPassword, UnzipPassword

    for password in (UnzipPassword(), KmsPassword(source="kms", secret_name="s")):
        variant = env.model_copy(
            update={"unzip": env.unzip.model_copy(update={"password": password})}
        )
        for fn in deployment(variant, cloud_target(variant, CLOUD_ACCOUNT)).functions:
            given_names |= set(fn.environment) | {s.variable for s in fn.secrets}
    assert documented == given_names


def test_functions_run_as_their_roles_with_fc_handler_strings():
    env, plan, _ = both("dev")
    for fn in plan.functions:
        assert fn.handler == f"index.{fn.kind}"
        role = plan.role(fn.role)
        assert fn.role_arn == role.arn == f"acs:ram::{CLOUD_ACCOUNT}:role/{role.name.lower()}"
        assert role.trusted_service == "fc.aliyuncs.com"
    assert plan.role("flow").trusted_service == "fnf.aliyuncs.com"
    assert plan.trigger.invocation_role_arn == plan.role("oss-trigger").arn
    assert plan.role("oss-trigger").trusted_service == "oss.aliyuncs.com"
    assert plan.trigger.function == env.function_name("trigger")


def test_every_job_kind_has_a_flow_whose_name_is_the_deployed_name():
    _, plan, _ = both("staging")
    assert {flow.kind for flow in plan.flows} == set(JOB_KINDS)
    for flow in plan.flows:
        assert (
            yaml.safe_load(flow.definition)["Name"] == flow.name == f"ossbatch-staging-{flow.kind}"
        )
        assert flow.role_arn == plan.role("flow").arn


def test_the_name_line_is_replaced_in_place_keeping_comments():
    text = "# about\nType: StateMachine\nName: old # note\nStates:\n  - Name: Inner\n"
    assert named_definition(text, "ossbatch-x-copy", "f.yaml") == (
        "# about\nType: StateMachine\nName: ossbatch-x-copy\nStates:\n  - Name: Inner\n"
    )
    added = named_definition("Type: StateMachine\nStartAt: A\n", "n1", "f.yaml")
    assert yaml.safe_load(added) == {"Type": "StateMachine", "Name": "n1", "StartAt": "A"}


def test_a_name_that_does_not_take_is_refused_with_the_file():
    with pytest.raises(DeploymentError, match="f.yaml"):
        named_definition("Type: StateMachine\nName: |\n  block\n", "n1", "f.yaml")


@given(st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,60}", fullmatch=True))
def test_any_valid_flow_name_survives_yaml(name):
    text = named_definition("Type: StateMachine\nName: x\nSpecVersion: v1\n", name, "f.yaml")
    assert yaml.safe_load(text)["Name"] == name


def test_the_trigger_name_and_events_are_the_models():
    env, plan, _ = both("dev")
    assert plan.trigger.name == f"{env.name_prefix}-unzip-upload"
    config = json.loads(plan.trigger.config_json)
    assert config["filter"]["key"] == {"prefix": "incoming/", "suffix": ".zip"}
    assert "oss:ObjectCreated:CompleteMultipartUpload" in config["events"]


# --notify-queue ---------------------------------------------------------------------


def _state(tmp_path):
    info = {
        "pid": 2**22 + 12345,
        "region": "cn-hangzhou",
        "account_id": "1234567890123456",
        "access_key_id": "ak",
        "access_key_secret": "sk",
        "oss_endpoint": "http://127.0.0.1:1",
        "mns_endpoint": "http://127.0.0.1:2",
        "fc_endpoint": "http://127.0.0.1:3",
        "fnf_endpoint": "http://127.0.0.1:4",
    }
    (tmp_path / "ossbatch-local.json").write_text(json.dumps({"localcloud": info, "names": {}}))


@pytest.mark.parametrize("command", ["copy", "restore"])
def test_a_notify_queue_no_role_may_send_to_is_refused_before_the_job_starts(tmp_path, command):
    from ossbatch.cli import app

    _state(tmp_path)
    args = ["--data-dir", str(tmp_path), command, "start", "--source", "oss://src-bucket/p/"]
    if command == "copy":
        args += ["--dest", "oss://dst-bucket/p/"]
    result = CliRunner().invoke(app, [*args, "--notify-queue", "someone-elses-queue"])
    assert result.exit_code == 2, result.output
    line = " ".join(result.output.split())
    assert "'someone-elses-queue'" in line and "unzip.notification_queue" in line
    assert "Traceback" not in result.output


def test_the_granted_notification_queue_passes_the_check():
    from ossbatch.deployment import notify_queue_refusal

    env = load_environment("local")
    assert notify_queue_refusal(env, env.unzip.notification_queue) is None
    assert notify_queue_refusal(env, "") is None
    assert "unzip.notification_queue" in notify_queue_refusal(env, env.unzip.dead_letter_queue)


# the registry is the one list ------------------------------------------------------


def test_a_kind_added_to_the_registry_is_deployed_with_its_flow_and_grants(monkeypatch, tmp_path):
    import shutil

    from ossbatch import jobs
    from ossbatch.config import FunctionKind, JobKind

    # what adding a kind means (docs/internals.md): registry entries, handler, index entry,
    # flow file; here the new kind reuses copy's settings section
    monkeypatch.setitem(
        FUNCTION_KINDS, "scan", FunctionKind("scan", "copy_job.function", "fc-worker", ("objects",))
    )
    monkeypatch.setitem(JOB_KINDS, "scan", JobKind("scan", "scan", "scan"))
    flows = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", flows)
    (flows / "scan.yaml").write_text("Type: StateMachine\nName: scan\nSpecVersion: v1\n")
    env = load_environment("dev")
    plan = deployment(env, cloud_target(env, CLOUD_ACCOUNT), flows)
    scan = plan.function("scan")
    assert (scan.name, scan.handler) == ("ossbatch-dev-scan", "index.scan")
    assert scan.role_arn == plan.role("fc-worker").arn
    (flow,) = [f for f in plan.flows if f.kind == "scan"]
    assert yaml.safe_load(flow.definition)["Name"] == "ossbatch-dev-scan"
    invoke = next(
        s["Resource"]
        for s in json.loads(plan.role("flow").policy_document)["Statement"]
        if "fc:InvokeFunction" in s["Action"]
    )
    assert f"acs:fc:{env.region}:{CLOUD_ACCOUNT}:functions/ossbatch-dev-scan" in invoke
    assert plan.names()["flows"]["scan"] == "ossbatch-dev-scan"
    assert jobs.kind_of("scan-20261201-000000-abcd") == "scan"


def test_a_kms_password_gives_the_unzip_function_the_secret_name_and_endpoint_only():
    from ossbatch.config import KmsPassword

    env = load_environment("prod")
    password = KmsPassword(source="kms", secret_name="ossbatch/prod/unzip")
    env = env.model_copy(update={"unzip": env.unzip.model_copy(update={"password": password})})
    plan = deployment(env, cloud_target(env, CLOUD_ACCOUNT))
    unzip = plan.function("unzip")
    assert unzip.secrets == ()  # no value travels through the model, not even by reference
    assert unzip.environment["OSSBATCH_UNZIP_PASSWORD_SECRET"] == "ossbatch/prod/unzip"
    assert unzip.environment["OSSBATCH_KMS_ENDPOINT"] == f"https://kms.{env.region}.aliyuncs.com"
    assert all(
        "OSSBATCH_UNZIP_PASSWORD_SECRET" not in fn.environment
        for fn in plan.functions
        if fn.kind != "unzip"
    )
    settings = handler_settings.UnzipSettings.from_environ(unzip.environment)
    assert settings.unzip_password_secret == "ossbatch/prod/unzip" and settings.password is None
    unzip_role = json.loads(plan.role("fc-unzip").policy_document)
    kms = [s for s in unzip_role["Statement"] if s["Action"] == ["kms:GetSecretValue"]]
    assert kms == [
        {
            "Effect": "Allow",
            "Action": ["kms:GetSecretValue"],
            "Resource": [f"acs:kms:{env.region}:{CLOUD_ACCOUNT}:secret/ossbatch/prod/unzip"],
        }
    ]
    others = [
        plan.role(k).policy_document for k in ("fc-worker", "fc-trigger", "flow", "oss-trigger")
    ]
    assert not any("kms:" in doc for doc in others)  # copy, restore and verify least of all


# RAM's naming rules (API reference: CreateRole, CreatePolicy), written out here so the test
# does not just re-run the deployment's own check
RAM_ROLE_NAME = re.compile(r"[A-Za-z0-9.-]{1,64}")
RAM_POLICY_NAME = re.compile(r"[A-Za-z0-9-]{1,128}")


def test_every_role_and_policy_name_fits_ram_for_the_longest_name_prefix():
    from ossbatch.config import NAME_PREFIX_RE

    longest = "p" + "x" * 38 + "9"
    assert re.fullmatch(NAME_PREFIX_RE, longest) and not re.fullmatch(NAME_PREFIX_RE, longest + "x")
    for name in ENVIRONMENTS:
        env = load_environment(name).model_copy(update={"name_prefix": longest})
        plan = deployment(env, cloud_target(env, CLOUD_ACCOUNT))
        assert {r.key for r in plan.roles} == {
            "fc-worker", "fc-unzip", "fc-trigger", "flow", "oss-trigger",
        }  # fmt: skip
        for role in plan.roles:
            assert RAM_ROLE_NAME.fullmatch(role.name), (role.name, len(role.name))
            assert RAM_POLICY_NAME.fullmatch(role.policy_name), role.policy_name
    assert len(f"{longest}-fc-unzip") == 49  # the longest, -oss-trigger, is 52 of 64


def test_a_role_key_too_long_for_ram_is_a_deployment_error(monkeypatch):
    from ossbatch import policies

    env = load_environment("dev")
    monkeypatch.setitem(policies.TRUSTED_SERVICE, "k" * 60, "fc.aliyuncs.com")
    with pytest.raises(DeploymentError, match="RAM allows 1-64 letters"):
        deployment(env, cloud_target(env, CLOUD_ACCOUNT))


def test_only_the_unzip_function_runs_as_fc_unzip():
    for name in ENVIRONMENTS:
        _, cloud, local = both(name)
        for plan in (cloud, local):
            by_role = {f.kind: f.role_arn for f in plan.functions}
            assert by_role["unzip"] == plan.role("fc-unzip").arn
            assert {k for k, arn in by_role.items() if arn == plan.role("fc-worker").arn} == {
                "copy", "restore", "verify",
            }  # fmt: skip


@given(
    st.text(min_size=1, max_size=80),
    st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=32),
    st.sampled_from(["reports/", "audit/ossbatch/", ""]),
)
def test_unzip_report_parts_and_leases_lie_where_the_unzip_role_may_write(key, etag, prefix):
    from handlers.packagelease import lease_key
    from handlers.report import part_key
    from handlers.trigger import execution_name
    from ossbatch.policies import UNZIP_JOB_PREFIX, UNZIP_LEASE_PREFIX

    # the trigger's job id names the report parts: fc-unzip may write <prefix>unzip-*
    job_id = execution_name("ossbatch-prod-packages", f"incoming/{key}.zip", etag)
    assert job_id.startswith(UNZIP_JOB_PREFIX)
    assert part_key(prefix, job_id, "unzip", "p-00000000").startswith(prefix + UNZIP_JOB_PREFIX)
    lease = lease_key(prefix, "ossbatch-prod-packages", f"incoming/{key}.zip")
    assert lease.startswith(prefix + UNZIP_LEASE_PREFIX), lease
