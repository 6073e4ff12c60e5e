"""unzip.password: a sensitive Terraform variable in the cloud, the shell's variable locally,
and only ever the unzip function's environment."""

from __future__ import annotations

import pytest

from ossbatch import provision
from ossbatch.cloud import ConfigError
from ossbatch.config import PROJECT_ROOT, UnzipPassword


def with_password(env):
    unzip = env.unzip.model_copy(update={"password": UnzipPassword()})
    return env.model_copy(update={"unzip": unzip})


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
