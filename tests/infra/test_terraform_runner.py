"""plan/deploy/destroy: stop at once naming what is missing; prod applies only a confirmed saved plan.

Every test controls PATH and HOME, so they behave the same whether or not terraform,
credentials or a provider mirror exist on this machine. The `terraform` used where one is
needed is a recording stand-in (the real provider cannot be fetched here).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from infra import terraform
from ossbatch.config import PROJECT_ROOT

FAKE_TERRAFORM = """#!/bin/bash
echo "$*" >> "$FAKE_TF_LOG"
case "$1" in
  plan) for a in "$@"; do case "$a" in -out=*) echo saved > "${a#-out=}";; esac; done ;;
  show) echo "Plan: 3 to add, 0 to change, 0 to destroy." ;;
esac
exit "${FAKE_TF_EXIT:-0}"
"""
CREDENTIALS = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "ak", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "sk"}


@pytest.fixture
def sandbox(tmp_path, tiny_package, monkeypatch, capsys):
    """bin/ with only node (jsii needs it), an empty HOME, a package manifest, an outdir.

    `run` calls the CLI in this process (jsii is already warm) with PATH/HOME/credentials
    replaced; `run_subprocess` is the same through `python -m infra`.
    """
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    node = shutil.which("node")
    if node:
        (bin_dir / "node").symlink_to(node)
    home = tmp_path / "home"
    home.mkdir()
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(tiny_package.__dict__))

    class Sandbox:
        log = tmp_path / "terraform.log"
        outdir = tmp_path / "out"

        def add_terraform(self):
            fake = bin_dir / "terraform"
            fake.write_text(FAKE_TERRAFORM)
            fake.chmod(0o755)

        def add_provider(self):
            mirror = home / ".terraform.d/plugins/registry.terraform.io/aliyun/alicloud/1.289.0"
            (mirror / "linux_amd64").mkdir(parents=True)
            (mirror / "linux_amd64" / "terraform-provider-alicloud_v1.289.0").write_bytes(b"")

        def _env(self, env_extra, credentials):
            env = {"PATH": str(bin_dir), "HOME": str(home), "FAKE_TF_LOG": str(self.log)}
            env |= CREDENTIALS if credentials else {}
            return env | (env_extra or {})

        def run(self, *args, env_extra=None, credentials=True):
            from infra import cli

            for name in list(os.environ):
                if name.startswith(("ALIBABA_CLOUD_", "ALICLOUD_", "TF_", "OSSBATCH_")) or name in (
                    "AUTO_APPROVE",
                    "FORCE",
                ):
                    monkeypatch.delenv(name)
            for name, value in self._env(env_extra, credentials).items():
                monkeypatch.setenv(name, value)
            argv = [*args, "--outdir", str(self.outdir), "--package-manifest", str(manifest)]
            capsys.readouterr()
            code = cli.main(argv)
            out, err = capsys.readouterr()
            return subprocess.CompletedProcess(argv, code, out, err)

        def run_subprocess(self, *args, env_extra=None, credentials=True):
            env = self._env(env_extra, credentials)
            command = [
                sys.executable, "-m", "infra", *args, "--outdir", str(self.outdir),
                "--package-manifest", str(manifest),
            ]  # fmt: skip
            return subprocess.run(
                command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                stdin=subprocess.DEVNULL, timeout=180,
            )  # fmt: skip

        def calls(self) -> list[str]:
            return self.log.read_text().splitlines() if self.log.exists() else []

    return Sandbox()


def test_plan_without_terraform_names_the_binary(sandbox):
    sandbox.add_provider()
    done = sandbox.run_subprocess("plan", "--env", "dev")
    assert done.returncode == 2
    assert "terraform binary: not on PATH" in done.stderr
    assert "credentials" not in done.stderr and "provider" not in done.stderr


def test_plan_without_credentials_names_the_variables_and_runs_nothing(sandbox):
    sandbox.add_terraform()
    sandbox.add_provider()
    done = sandbox.run("plan", "--env", "dev", credentials=False)
    assert done.returncode == 2
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID" in done.stderr
    assert sandbox.calls() == []


def test_plan_without_the_provider_says_how_to_get_it(sandbox):
    sandbox.add_terraform()
    done = sandbox.run("plan", "--env", "dev")
    assert done.returncode == 2
    assert "provider registry.terraform.io/aliyun/alicloud" in done.stderr
    assert "terraform providers mirror" in done.stderr
    assert sandbox.calls() == []


def test_everything_missing_is_reported_at_once(sandbox):
    done = sandbox.run("deploy", "--env", "dev", credentials=False)
    assert done.returncode == 2
    for missing in ("terraform binary", "credentials", "provider"):
        assert missing in done.stderr


def test_local_is_never_planned_with_terraform(sandbox):
    sandbox.add_terraform()
    sandbox.add_provider()
    done = sandbox.run("plan", "--env", "local")
    assert done.returncode == 2
    assert "ossbatch local up" in done.stderr
    assert sandbox.calls() == []


def test_profile_counts_as_credentials(tmp_path):
    (tmp_path / ".aliyun").mkdir()
    (tmp_path / ".aliyun" / "config.json").write_text("{}")
    env = {"ALIBABA_CLOUD_PROFILE": "ops", "PATH": "", "HOME": str(tmp_path)}
    with pytest.raises(terraform.PreconditionError) as err:
        terraform.check_preconditions(tmp_path, env, tmp_path)
    assert "credentials" not in str(err.value)


def test_dev_plan_runs_init_and_saves_the_plan(sandbox):
    sandbox.add_terraform()
    sandbox.add_provider()
    done = sandbox.run("plan", "--env", "dev")
    assert done.returncode == 0, done.stderr
    assert [c.split()[0] for c in sandbox.calls()] == ["init", "plan", "show"]
    assert "-out=tfplan" in sandbox.calls()[1]
    assert (sandbox.outdir / "stacks" / "ossbatch-dev" / "cdk.tf.json").is_file()
    assert "Plan: 3 to add" in done.stdout


def test_prod_deploy_without_confirmation_applies_nothing(sandbox):
    sandbox.add_terraform()
    sandbox.add_provider()
    done = sandbox.run("deploy", "--env", "prod")
    assert done.returncode == 3
    assert "not confirmed" in done.stderr and "AUTO_APPROVE=1" in done.stderr
    assert "Plan: 3 to add" in done.stdout  # shown before refusing
    assert not any(c.startswith("apply") for c in sandbox.calls())


def test_prod_deploy_with_auto_approve_applies_exactly_the_saved_plan(sandbox):
    sandbox.add_terraform()
    sandbox.add_provider()
    done = sandbox.run("deploy", "--env", "prod", env_extra={"AUTO_APPROVE": "1"})
    assert done.returncode == 0, done.stderr
    calls = sandbox.calls()
    assert [c.split()[0] for c in calls] == ["init", "plan", "show", "apply"]
    assert calls[-1] == "apply -input=false -no-color tfplan"


def test_prod_destroy_is_refused_without_force_before_anything_runs(sandbox):
    done = sandbox.run("destroy", "--env", "prod", env_extra={"AUTO_APPROVE": "1"})
    assert done.returncode == 3
    assert "FORCE=1" in done.stderr
    assert sandbox.calls() == []


def test_prod_protection_follows_the_file_not_the_argument(sandbox):
    prod_file = str(PROJECT_ROOT / "environments" / "prod.yaml")
    done = sandbox.run("destroy", "--env", prod_file, env_extra={"AUTO_APPROVE": "1"})
    assert done.returncode == 3 and "FORCE=1" in done.stderr
    sandbox.add_terraform()
    sandbox.add_provider()
    done = sandbox.run("deploy", "--env", prod_file)
    assert done.returncode == 3
    assert not any(c.startswith("apply") for c in sandbox.calls())


def test_prod_destroy_with_force_keeps_the_buckets(sandbox):
    sandbox.add_terraform()
    sandbox.add_provider()
    done = sandbox.run("destroy", "--env", "prod", env_extra={"FORCE": "1", "AUTO_APPROVE": "1"})
    assert done.returncode == 0, done.stderr
    plan = next(c for c in sandbox.calls() if c.startswith("plan"))
    assert "-destroy" in plan and "-target=alicloud_fcv3_function." in plan
    assert "-target=alicloud_oss_bucket." not in plan
    assert "-target=alicloud_oss_bucket_acl." not in plan
    assert sandbox.calls()[-1] == "apply -input=false -no-color tfplan"


def test_terraform_failure_exits_1(sandbox):
    sandbox.add_terraform()
    sandbox.add_provider()
    done = sandbox.run("plan", "--env", "dev", env_extra={"FAKE_TF_EXIT": "1"})
    assert done.returncode == 1
    assert "terraform init exited 1" in done.stderr


def test_destroy_targets_leave_protected_types_out():
    stack = {
        "resource": {
            "alicloud_oss_bucket": {"b": {}},
            "alicloud_oss_bucket_acl": {"a": {}},
            "alicloud_fnf_flow": {"f": {}},
        }
    }
    assert terraform.destroy_targets(stack) == ["alicloud_fnf_flow.f"]


def test_provider_locations_include_the_plugin_cache(tmp_path):
    env = {"TF_PLUGIN_CACHE_DIR": str(tmp_path / "cache")}
    locations = terraform.provider_locations(env, tmp_path, tmp_path / "stack")
    assert locations[0] == tmp_path / "cache" / "registry.terraform.io" / "aliyun" / "alicloud"
    assert os.sep.join(("plugins", "registry.terraform.io")) in str(locations[2])
