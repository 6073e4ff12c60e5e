"""unzip.password: a sensitive Terraform variable in the cloud, the shell's variable locally,
and only ever the unzip function's environment; or (source kms) a KMS secret the stack
references by name and grants the unzip function's role kms:GetSecretValue on, nothing more."""

from __future__ import annotations

import pytest

from ossbatch import provision
from ossbatch.cloud import ConfigError
from ossbatch.config import PROJECT_ROOT, KmsPassword, UnzipPassword
from tests.infra.test_policies import documents

SECRET = "ossbatch/prod/unzip-password"


def with_password(env, password=None):
    unzip = env.unzip.model_copy(update={"password": password or UnzipPassword()})
    return env.model_copy(update={"unzip": unzip})


def with_kms_password(env):
    return with_password(env, KmsPassword(source="kms", secret_name=SECRET))


def test_the_cloud_password_is_a_sensitive_variable_only_the_unzip_function_reads(
    stacks, tiny_package, synth_stack
):
    env = with_password(stacks["prod"].env)
    result = synth_stack(env, PROJECT_ROOT / "flows", tiny_package)
    variable = result.tf["variable"]["unzip_password"]
    assert variable["sensitive"] is True and variable["type"] == "string"
    functions = {f["function_name"]: f for f in result.resources("alicloud_fcv3_function").values()}
    unzip_env = functions[env.function_name("unzip")]["environment_variables"]
    assert unzip_env["OSSBATCH_UNZIP_PASSWORD"] == "${var.unzip_password}"
    others = [f for name, f in functions.items() if name != env.function_name("unzip")]
    assert others and all(
        "OSSBATCH_UNZIP_PASSWORD" not in f["environment_variables"] for f in others
    )
    assert "unzip_password" not in result.tf.get("output", {})


def test_environments_without_a_password_declare_no_variable(stacks):
    assert "unzip_password" not in stacks["prod"].tf.get("variable", {})


def test_local_up_copies_the_shell_variable_and_names_it_when_missing(stacks, monkeypatch):
    env = with_password(stacks["local"].env)
    monkeypatch.delenv("OSSBATCH_UNZIP_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match=r"from \$OSSBATCH_UNZIP_PASSWORD, which is not set"):
        provision.password_environment(env)
    monkeypatch.setenv("OSSBATCH_UNZIP_PASSWORD", "from-the-shell")
    assert provision.password_environment(env) == {"OSSBATCH_UNZIP_PASSWORD": "from-the-shell"}
    assert provision.password_environment(stacks["local"].env) == {}


def test_a_kms_password_is_a_secret_name_and_one_grant_never_a_value_or_a_variable(
    stacks, tiny_package, synth_stack
):
    env = with_kms_password(stacks["prod"].env)
    result = synth_stack(env, PROJECT_ROOT / "flows", tiny_package)
    assert "unzip_password" not in result.tf.get("variable", {})
    # the stack references the existing secret: it creates no KMS resource at all
    assert not [t for t in result.tf.get("resource", {}) if t.startswith("alicloud_kms")]
    functions = {f["function_name"]: f for f in result.resources("alicloud_fcv3_function").values()}
    unzip_env = functions[env.function_name("unzip")]["environment_variables"]
    assert unzip_env["OSSBATCH_UNZIP_PASSWORD_SECRET"] == SECRET
    assert unzip_env["OSSBATCH_KMS_ENDPOINT"] == f"https://kms.{env.region}.aliyuncs.com"
    assert "OSSBATCH_UNZIP_PASSWORD" not in unzip_env
    for name, fn in functions.items():
        if name != env.function_name("unzip"):
            assert "OSSBATCH_UNZIP_PASSWORD_SECRET" not in fn["environment_variables"], name
    grants = {
        kind: [s for s in doc["Statement"] if any(a.startswith("kms:") for a in s["Action"])]
        for kind, doc in documents(result).items()
    }
    # unzip's own role: copy, restore and verify (fc-worker) cannot read the secret
    assert {kind for kind, found in grants.items() if found} == {"fc-unzip"}
    (grant,) = grants["fc-unzip"]
    assert grant["Action"] == ["kms:GetSecretValue"]
    assert grant["Resource"] == [
        f"acs:kms:{env.region}:${{data.alicloud_account.current.id}}:secret/{SECRET}"
    ]


def test_without_a_kms_password_no_role_may_read_any_secret(stacks):
    for synthesized in stacks.values():
        for document in documents(synthesized).values():
            assert not [
                a for s in document["Statement"] for a in s["Action"] if a.startswith("kms:")
            ]


def test_a_secret_name_outside_the_kms_rules_is_refused_when_the_file_is_read():
    import pydantic

    for bad in ("", "acs/reserved", "has space", "x" * 193, "semi;colon"):
        with pytest.raises(pydantic.ValidationError, match="not a KMS secret name|at least"):
            KmsPassword(source="kms", secret_name=bad)
    assert KmsPassword(source="kms", secret_name="a/b+c=d.e-f@g_h").secret_name


def test_a_secret_under_a_user_key_adds_kms_decrypt_on_that_key_only(
    stacks, tiny_package, synth_stack
):
    key = "key-hzz62f1cb66fa42qo1234"
    env = with_password(
        stacks["prod"].env, KmsPassword(source="kms", secret_name=SECRET, key_id=key)
    )
    result = synth_stack(env, PROJECT_ROOT / "flows", tiny_package)
    unzip_role = documents(result)["fc-unzip"]["Statement"]
    kms = {a: s["Resource"] for s in unzip_role for a in s["Action"] if a.startswith("kms:")}
    account = "${data.alicloud_account.current.id}"
    assert kms == {
        "kms:GetSecretValue": [f"acs:kms:{env.region}:{account}:secret/{SECRET}"],
        "kms:Decrypt": [f"acs:kms:{env.region}:{account}:key/{key}"],
    }
