"""The Makefile's infra targets call `python -m infra` with ENV and the safety switches."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from ossbatch.config import PROJECT_ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")


def dry_run(*args: str) -> str:
    done = subprocess.run(
        ["make", "-n", "-W", "pyproject.toml", *args],  # -n: print, never run
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("target", ["synth", "hcl", "review", "plan", "deploy", "destroy"])
def test_targets_take_env_and_default_to_local(target):
    assert f"-m infra {target} --env dev" in dry_run(target, "ENV=dev")
    assert f"-m infra {target} --env local" in dry_run(target)


@pytest.mark.parametrize("target", ["synth", "package", "plan"])
def test_targets_depend_on_setup(target):
    # -W pyproject.toml pretends it changed: setup's install step must show up first
    lines = dry_run(target).splitlines()
    install = next(i for i, line in enumerate(lines) if "pip install" in line)
    infra = next(i for i, line in enumerate(lines) if "-m infra" in line)
    assert install < infra


def test_review_passes_base_only_when_given():
    assert "--base origin/main" in dry_run("review", "ENV=prod", "BASE=origin/main")
    assert "--base" not in dry_run("review", "ENV=prod")


def test_safety_switches_reach_the_cli():
    assert "--auto-approve" in dry_run("deploy", "ENV=prod", "AUTO_APPROVE=1")
    assert "--auto-approve" not in dry_run("deploy", "ENV=prod")
    assert "--force" in dry_run("destroy", "ENV=prod", "FORCE=1")
    assert "--force" not in dry_run("destroy", "ENV=prod")
