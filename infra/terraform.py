"""Running terraform on a synthesized stack: preconditions first, then init/plan/apply.

Preconditions fail at once, all together, naming what is missing: the terraform
binary, Alibaba Cloud credentials, the aliyun/alicloud provider (which cannot be
downloaded where the registry is unreachable). Prod safety: `deploy` applies
only the saved plan that was shown and confirmed; `destroy` needs FORCE=1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

PROVIDER_ADDRESS = "registry.terraform.io/aliyun/alicloud"
PLAN_FILE = "tfplan"
PROTECTED_ENVIRONMENTS = ("prod",)


class PreconditionError(RuntimeError):
    """Something terraform needs is missing; the message lists each item and how to get it."""


class SafetyRefusal(RuntimeError):
    """A protected environment operation was not confirmed (FORCE=1 / AUTO_APPROVE=1 / typed)."""


class TerraformFailed(RuntimeError):
    """terraform itself exited non-zero."""


def _credentials_present(environ: Mapping[str, str], home: Path) -> bool:
    pairs = (
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        ("ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY"),
    )
    if any(environ.get(a) and environ.get(b) for a, b in pairs):
        return True
    profile = environ.get("ALIBABA_CLOUD_PROFILE") or environ.get("ALICLOUD_PROFILE")
    config = Path(environ.get("ALIBABA_CLOUD_CONFIG_FILE", home / ".aliyun" / "config.json"))
    return bool(profile) and config.is_file()


def provider_locations(environ: Mapping[str, str], home: Path, stack_dir: Path) -> list[Path]:
    """Where terraform finds provider binaries without the registry (implied local mirrors)."""
    roots = [
        stack_dir / ".terraform" / "providers",
        home / ".terraform.d" / "plugins",
        home / ".local" / "share" / "terraform" / "plugins",
        Path("/usr/local/share/terraform/plugins"),
        Path("/usr/share/terraform/plugins"),
    ]
    if environ.get("TF_PLUGIN_CACHE_DIR"):
        roots.insert(0, Path(environ["TF_PLUGIN_CACHE_DIR"]))
    return [root / PROVIDER_ADDRESS for root in roots]


def _provider_present(environ: Mapping[str, str], home: Path, stack_dir: Path) -> bool:
    if environ.get("OSSBATCH_TF_REGISTRY") == "1":
        return True  # the registry is reachable from here: terraform init downloads it
    if environ.get("TF_CLI_CONFIG_FILE"):
        return True  # an explicit provider_installation (network mirror) is configured
    return any(
        location.is_dir() and any(location.rglob("terraform-provider-alicloud*"))
        for location in provider_locations(environ, home, stack_dir)
    )


def check_preconditions(
    stack_dir: Path, environ: Mapping[str, str] | None = None, home: Path | None = None
) -> str:
    """The terraform binary path, or PreconditionError listing everything that is missing."""
    environ = os.environ if environ is None else environ
    home = home or Path(environ.get("HOME", str(Path.home())))
    missing = []
    terraform = shutil.which("terraform", path=environ.get("PATH", ""))
    if not terraform:
        missing.append(
            "terraform binary: not on PATH. Install Terraform >= 1.5 "
            "(or OpenTofu as `terraform`), or use `make hcl` and run it elsewhere."
        )
    if not _credentials_present(environ, home):
        missing.append(
            "credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET "
            "(or ALIBABA_CLOUD_PROFILE with ~/.aliyun/config.json)."
        )
    if not _provider_present(environ, home, stack_dir):
        missing.append(
            f"provider {PROVIDER_ADDRESS} (>= 1.252.0, < 2.0.0): not in any local plugin "
            "directory and the registry is not known to be reachable. Run `terraform providers "
            "mirror ~/.terraform.d/plugins` on a connected machine and copy it here, or set "
            "OSSBATCH_TF_REGISTRY=1 if this machine can reach the registry."
        )
    if missing:
        raise PreconditionError("cannot run terraform; missing:\n  - " + "\n  - ".join(missing))
    assert terraform is not None
    return terraform


@dataclass
class Terraform:
    binary: str
    stack_dir: Path
    echo: Callable[[str], None] = print

    def run(self, *args: str, capture: bool = False) -> str:
        self.echo(f"$ terraform {' '.join(args)}   (in {self.stack_dir})")
        done = subprocess.run(
            [self.binary, *args],
            cwd=self.stack_dir,
            text=True,
            capture_output=capture,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            detail = (done.stderr or "").strip()[-2000:] if capture else ""
            raise TerraformFailed(f"terraform {args[0]} exited {done.returncode}\n{detail}")
        return done.stdout or ""

    def init(self) -> None:
        self.run("init", "-input=false", "-no-color")

    def plan(self, destroy: bool = False, targets: list[str] | None = None) -> str:
        args = ["plan", "-input=false", "-no-color", f"-out={PLAN_FILE}"]
        if destroy:
            args.append("-destroy")
        args += [f"-target={address}" for address in targets or []]
        self.run(*args)
        return self.run("show", "-no-color", PLAN_FILE, capture=True)

    def apply_saved_plan(self) -> None:
        self.run("apply", "-input=false", "-no-color", PLAN_FILE)


PROTECTED_TYPES = (
    "alicloud_oss_bucket",
    "alicloud_oss_bucket_acl",
    "alicloud_oss_bucket_public_access_block",
)


def destroy_targets(stack: dict) -> list[str]:
    """Everything but the protected buckets (and their ACL/access block): data outlives a destroy."""
    return sorted(
        f"{rtype}.{name}"
        for rtype, instances in stack.get("resource", {}).items()
        if rtype not in PROTECTED_TYPES
        for name in instances
    )


def confirm(env_name: str, auto_approve: bool, what: str) -> None:
    """Auto-approve, or the operator types the environment name on a terminal."""
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise SafetyRefusal(
            f"{what} {env_name}: not confirmed. Review the plan above, then re-run with "
            "AUTO_APPROVE=1 or from a terminal to type the environment name."
        )
    answer = input(f"Type '{env_name}' to {what} exactly the plan shown above: ").strip()
    if answer != env_name:
        raise SafetyRefusal(
            f"{what} {env_name}: confirmation {answer!r} did not match; nothing applied"
        )
