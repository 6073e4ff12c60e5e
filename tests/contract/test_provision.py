"""`ossbatch local up` creates exactly the Deployment's objects on localcloud through the
real SDKs (RAM, OSS, MNS, FC, FnF), and a second run converges instead of failing."""

from __future__ import annotations

import dataclasses
import json
import uuid

import pytest
import yaml
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fnf20190315 import models as fnf_models
from alibabacloud_ram20150501 import models as ram_models

from ossbatch import provision
from ossbatch.cloud import ConfigError, Connection
from ossbatch.config import PROJECT_ROOT, load_environment


def variant(tmp_path, **changes):
    """environments/local.yaml with its own names (the session's localcloud is shared)."""
    data = yaml.safe_load((PROJECT_ROOT / "environments" / "local.yaml").read_text())
    tag = uuid.uuid4().hex[:8]
    data["name_prefix"] = f"pv-{tag}"
    for role, spec in data["buckets"].items():
        spec["name"] = f"pv-{tag}-{role}"
    data["unzip"]["notification_queue"] = f"pv-{tag}-done"
    data["unzip"]["dead_letter_queue"] = f"pv-{tag}-dead"
    data.update(changes)
    path = tmp_path / f"local-{tag}.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_environment(path)


def connection(cloud) -> Connection:
    return Connection(
        region=cloud.region,
        account_id=str(cloud.account_id),
        access_key_id=cloud.access_key_id,
        access_key_secret=cloud.access_key_secret,
        oss_endpoint=cloud.oss_endpoint,
        mns_endpoint=cloud.mns_endpoint,
        fc_endpoint=cloud.fc_endpoint,
        fnf_endpoint=cloud.fnf_endpoint,
        ram_endpoint=cloud.ram_endpoint,
        kms_endpoint=cloud.kms_endpoint,
        admin_endpoint=cloud.admin_endpoint,
    )


@pytest.fixture
def provisioned(localcloud, tmp_path):
    env = variant(tmp_path, report_prefix="audit/ossbatch/")
    conn = connection(localcloud)
    provision.provision(env, conn)
    return env, conn, provision.local_deployment(env, conn)


def test_roles_carry_the_trust_and_policy_documents_infra_synthesizes(provisioned):
    _, conn, plan = provisioned
    ram = conn.ram()
    for role in plan.roles:
        got = ram.get_role(ram_models.GetRoleRequest(role_name=role.name)).body.role
        assert got.arn == role.arn
        assert json.loads(got.assume_role_policy_document) == json.loads(role.trust_policy)
        policy = ram.get_policy(
            ram_models.GetPolicyRequest(policy_name=role.policy_name, policy_type="Custom")
        ).body
        document = policy.default_policy_version.policy_document
        assert json.loads(document) == json.loads(role.policy_document)
        attached = ram.list_policies_for_role(
            ram_models.ListPoliciesForRoleRequest(role_name=role.name)
        ).body.policies.policy
        assert [p.policy_name for p in attached] == [role.policy_name]


def test_functions_get_their_role_and_only_their_own_variables(provisioned):
    env, conn, plan = provisioned
    client = conn.fc()
    for fn in plan.functions:
        got = client.get_function(fn.name, fc_models.GetFunctionRequest()).body
        assert (got.handler, got.role, got.memory_size, got.timeout) == (
            fn.handler,
            fn.role_arn,
            fn.memory_mb,
            fn.timeout_s,
        )
        assert got.environment_variables == fn.environment
    copy = plan.function("copy").environment
    assert copy["OSSBATCH_REPORT_PREFIX"] == "audit/ossbatch/"  # the file's, not "reports/"
    assert "OSSBATCH_UNZIP_FLOW" not in copy and "OSSBATCH_OUTPUT_BUCKET" not in copy
    unzip = plan.function("unzip").environment
    assert unzip["OSSBATCH_OUTPUT_BUCKET"] == env.buckets.extraction.name


def test_the_trigger_and_the_flows_are_the_models(provisioned):
    env, conn, plan = provisioned
    trigger = conn.fc().get_trigger(plan.trigger.function, plan.trigger.name).body
    assert trigger.trigger_name == f"{env.name_prefix}-unzip-upload"
    assert trigger.invocation_role == plan.role("oss-trigger").arn
    assert json.loads(trigger.trigger_config)["events"] == list(plan.trigger.events)
    for flow in plan.flows:
        got = conn.fnf().describe_flow(fnf_models.DescribeFlowRequest(name=flow.name)).body
        assert got.definition == flow.definition and got.role_arn == flow.role_arn
        assert f"\nName: {flow.name}\n" in got.definition


def test_a_second_run_converges_and_a_changed_policy_becomes_a_new_default_version(
    provisioned, tmp_path
):
    env, conn, plan = provisioned
    changed = env.model_copy(update={"report_prefix": "audit/v2/"})
    assert provision.provision(changed, conn)["buckets"] == []  # nothing created twice
    worker = plan.role("fc-worker")
    policy = (
        conn.ram()
        .get_policy(
            ram_models.GetPolicyRequest(policy_name=worker.policy_name, policy_type="Custom")
        )
        .body
    )
    assert policy.default_policy_version.version_id == "v2"
    assert "audit/v2/*" in policy.default_policy_version.policy_document
    got = conn.fc().get_function(plan.function("copy").name, fc_models.GetFunctionRequest())
    assert got.body.environment_variables["OSSBATCH_REPORT_PREFIX"] == "audit/v2/"


def test_an_unchanged_deployment_leaves_functions_alone(provisioned):
    env, conn, plan = provisioned
    before = {
        fn.name: conn.fc().get_function(fn.name, fc_models.GetFunctionRequest()).body
        for fn in plan.functions
    }
    again = provision.provision(env, conn)
    assert again["functions"] == [] and again["buckets"] == [] and again["queues"] == []
    for fn in plan.functions:
        after = conn.fc().get_function(fn.name, fc_models.GetFunctionRequest()).body
        assert after.last_modified_time == before[fn.name].last_modified_time, fn.name


def _kms_variant(tmp_path, secret: str | None = None, **password):
    data = yaml.safe_load((PROJECT_ROOT / "environments" / "local.yaml").read_text())
    secret = secret or f"ossbatch/pv-{uuid.uuid4().hex[:8]}"
    password = {"source": "kms", "secret_name": secret, **password}
    return variant(tmp_path, unzip={**data["unzip"], "password": password}), secret


def _secret_value(conn, name: str) -> str:
    from alibabacloud_kms20160120 import models as kms_models

    request = kms_models.GetSecretValueRequest(secret_name=name)
    return conn.kms().get_secret_value(request).body.secret_data


def test_a_kms_password_becomes_a_local_secret_from_the_shell_and_a_name_on_the_function(
    localcloud, tmp_path, monkeypatch
):
    env, secret = _kms_variant(tmp_path)
    conn = connection(localcloud)
    monkeypatch.setenv("OSSBATCH_UNZIP_PASSWORD", "first-value")
    assert provision.provision(env, conn)["secrets"] == [secret]
    assert _secret_value(conn, secret) == "first-value"
    plan = provision.local_deployment(env, conn)
    got = conn.fc().get_function(plan.function("unzip").name, fc_models.GetFunctionRequest())
    variables = got.body.environment_variables
    assert variables["OSSBATCH_UNZIP_PASSWORD_SECRET"] == secret
    assert variables["OSSBATCH_KMS_ENDPOINT"] == localcloud.kms_endpoint
    assert "first-value" not in json.dumps(got.body.to_map())
    assert provision.provision(env, conn)["secrets"] == []  # same value: nothing changes
    monkeypatch.setenv("OSSBATCH_UNZIP_PASSWORD", "second-value")  # converge: a new version
    again = provision.provision(env, conn)
    assert _secret_value(conn, secret) == "second-value"
    # and the unzip function is updated, so no warm instance keeps the old value
    assert again["secrets"] == [secret] and again["functions"] == [plan.function("unzip").name]


def _as_unzip_function(localcloud, conn, plan):
    """conn's KMS client (Connection.kms) signed as the unzip function's role."""
    from localcloud.ram.remote import RemoteSessions

    role_arn = f"acs:ram::{localcloud.account_id}:role/{plan.role('fc-unzip').name.lower()}"
    session = RemoteSessions(localcloud.admin_endpoint).assume_role(role_arn, "fc.aliyuncs.com")
    return dataclasses.replace(
        conn,
        access_key_id=session.access_key_id,
        access_key_secret=session.access_key_secret,
        security_token=session.security_token,
    ).kms()


def test_a_kms_password_with_a_key_id_is_encrypted_with_that_key_under_its_own_id(
    localcloud, tmp_path, monkeypatch
):
    from alibabacloud_kms20160120 import models as kms_models

    key_id = f"key-pv{uuid.uuid4().hex[:16]}"
    env, secret = _kms_variant(tmp_path, key_id=key_id)
    conn = connection(localcloud)
    monkeypatch.setenv("OSSBATCH_UNZIP_PASSWORD", "keyed-value")
    assert provision.provision(env, conn)["secrets"] == [secret]
    kms = conn.kms()
    key = kms.describe_key(kms_models.DescribeKeyRequest(key_id=key_id)).body.key_metadata
    assert (key.key_id, key.key_state) == (key_id, "Enabled")
    described = kms.describe_secret(kms_models.DescribeSecretRequest(secret_name=secret)).body
    assert described.encryption_key_id == key_id
    # the unzip function's role, as local up provisioned it, reads it: it holds kms:Decrypt
    plan = provision.local_deployment(env, conn)
    reader = _as_unzip_function(localcloud, conn, plan)
    request = kms_models.GetSecretValueRequest(secret_name=secret)
    assert reader.get_secret_value(request).body.secret_data == "keyed-value"
    assert provision.provision(env, conn)["secrets"] == []  # converges: key and secret kept


def test_a_secret_under_another_key_than_the_environment_names_stops_local_up(
    localcloud, tmp_path, monkeypatch
):
    env, secret = _kms_variant(tmp_path)
    conn = connection(localcloud)
    monkeypatch.setenv("OSSBATCH_UNZIP_PASSWORD", "unkeyed")
    provision.provision(env, conn)
    keyed, _ = _kms_variant(tmp_path, secret, key_id=f"key-pv{uuid.uuid4().hex[:16]}")
    with pytest.raises(ConfigError, match=rf"'{secret}' is encrypted with the service's own key"):
        provision.provision(keyed, conn)


def test_a_kms_password_without_its_shell_variable_stops_local_up_before_anything_exists(
    localcloud, tmp_path, monkeypatch
):
    env, secret = _kms_variant(tmp_path)
    conn = connection(localcloud)
    monkeypatch.delenv("OSSBATCH_UNZIP_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match=rf"KMS secret '{secret}'.*OSSBATCH_UNZIP_PASSWORD"):
        provision.provision(env, conn)
    plan = provision.local_deployment(env, conn)
    with pytest.raises(Exception) as missing:
        conn.ram().get_role(ram_models.GetRoleRequest(role_name=plan.roles[0].name))
    assert missing.value.code == "EntityNotExist.Role"


def test_local_up_creates_every_role_for_the_longest_name_prefix(localcloud, tmp_path):
    # 40 characters, the most environments allow: localcloud's RAM refuses a RoleName over 64
    longest = f"pv-{uuid.uuid4().hex[:8]}-" + "x" * 28
    assert len(longest) == 40
    env = variant(tmp_path, name_prefix=longest)
    conn = connection(localcloud)
    provision.provision(env, conn)
    plan = provision.local_deployment(env, conn)
    assert len(plan.role("fc-unzip").name) == 49
    for role in plan.roles:
        got = conn.ram().get_role(ram_models.GetRoleRequest(role_name=role.name)).body.role
        assert got.role_name == role.name
    unzip = conn.fc().get_function(plan.function("unzip").name, fc_models.GetFunctionRequest())
    assert unzip.body.role == plan.role("fc-unzip").arn
