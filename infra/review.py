"""`make review ENV=x [BASE=ref]`: a Markdown review of a synthesized stack for platform teams.

Three parts: resources by type with their key settings, the permission matrix
(role -> actions -> resources, read from the policy documents), and what changed
against BASE's synth (resources added/removed/changed, argument by argument).
Everything is computed from `cdk.tf.json`, offline.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

ACCOUNT_REFERENCE = "${data.alicloud_account.current.id}"
REFERENCE = re.compile(r"^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}$")

# Arguments worth a column per resource type (others are summarized in the diff only).
KEY_SETTINGS = {
    "alicloud_oss_bucket": [
        "bucket", "storage_class", "versioning", "server_side_encryption_rule",
        "lifecycle_rule", "force_destroy", "lifecycle",
    ],
    "alicloud_oss_bucket_acl": ["bucket", "acl"],
    "alicloud_oss_bucket_public_access_block": ["bucket", "block_public_access"],
    "alicloud_oss_bucket_object": ["bucket", "key", "source", "content_md5"],
    "alicloud_fcv3_function": [
        "function_name", "runtime", "handler", "memory_size", "timeout", "disk_size", "role",
        "log_config", "code",
    ],
    "alicloud_fcv3_trigger": [
        "trigger_name", "function_name", "trigger_type", "source_arn", "trigger_config",
        "invocation_role",
    ],
    "alicloud_fnf_flow": ["name", "type", "role_arn", "definition"],
    "alicloud_message_service_queue": [
        "queue_name", "message_retention_period", "visibility_timeout", "dlq_policy",
    ],
    "alicloud_ram_role": ["role_name", "assume_role_policy_document"],
    "alicloud_ram_policy": ["policy_name"],
    "alicloud_ram_role_policy_attachment": ["role_name", "policy_name", "policy_type"],
    "alicloud_log_project": ["project_name"],
    "alicloud_log_store": ["project_name", "logstore_name", "retention_period", "shard_count"],
}  # fmt: skip


class ReviewError(RuntimeError):
    """BASE cannot be synthesized (unknown ref, broken stack)."""


def _strip_metadata(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "//"}


def resources(stack: dict) -> dict[str, dict]:
    """`type.name` -> arguments, for every resource and data source."""
    found = {}
    for rtype, instances in stack.get("resource", {}).items():
        for name, body in instances.items():
            found[f"{rtype}.{name}"] = _strip_metadata(body)
    for rtype, instances in stack.get("data", {}).items():
        for name, body in instances.items():
            found[f"data.{rtype}.{name}"] = _strip_metadata(body)
    return found


class Resolver:
    """Replaces `${type.name.attr}` references with the literal they point to, when there is one."""

    def __init__(self, stack: dict) -> None:
        self.by_address = resources(stack)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            value = value.replace(ACCOUNT_REFERENCE, "<account>")
            match = REFERENCE.match(value)
            if match:
                rtype, name, attr = match.groups()
                target = self.by_address.get(f"{rtype}.{name}", {}).get(attr)
                if isinstance(target, str | int | float | bool):
                    return self(target)
            return value
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        return value


def _short(value: Any) -> str:
    if isinstance(value, str) and value.startswith("{") and "\n" not in value:
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if isinstance(value, str) and ("\n" in value or len(value) > 120):
        digest = hashlib.sha256(value.encode()).hexdigest()[:12]
        return f"sha256:{digest} ({value.count(chr(10)) + 1} lines)"
    if isinstance(value, dict | list):
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
            value = value[0]
        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
        return text if len(text) <= 160 else text[:157] + "..."
    return json.dumps(value) if not isinstance(value, str) else value


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def resources_section(stack: dict) -> list[str]:
    resolve = Resolver(stack)
    by_type: dict[str, list[tuple[str, dict]]] = {}
    for address, body in resources(stack).items():
        rtype, _, name = address.rpartition(".")
        by_type.setdefault(rtype, []).append((name, resolve(body)))
    lines = ["## Resources by type", ""]
    lines += ["| type | count |", "|---|---|"]
    lines += [f"| `{t}` | {len(items)} |" for t, items in sorted(by_type.items())]
    for rtype, items in sorted(by_type.items()):
        keys = KEY_SETTINGS.get(rtype.removeprefix("data."), [])
        lines += ["", f"### `{rtype}`", ""]
        if not keys:
            lines += [f"- `{name}`" for name, _ in sorted(items)]
            continue
        lines += ["| resource | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
        for name, body in sorted(items):
            cells = [
                _cell(_short(body[k])) if k in body else "" for k in keys
            ]  # fmt: skip
            lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
        if rtype == "alicloud_fcv3_function":
            lines += ["", "Function environment variables:", ""]
            lines += ["| function | variable | value |", "|---|---|---|"]
            for _, body in sorted(items):
                for variable, value in sorted(body.get("environment_variables", {}).items()):
                    lines.append(f"| `{body['function_name']}` | `{variable}` | `{_cell(value)}` |")
    return lines


def permission_matrix(stack: dict) -> list[tuple[str, str, str]]:
    """(role, action, resource) rows from every custom policy attached to a role."""
    resolve = Resolver(stack)
    all_resources = resources(stack)
    policies = {
        body.get("policy_name"): json.loads(body["policy_document"])
        for address, body in all_resources.items()
        if address.startswith("alicloud_ram_policy.")
    }
    rows = []
    for address, body in all_resources.items():
        if not address.startswith("alicloud_ram_role_policy_attachment."):
            continue
        body = resolve(body)
        document = policies.get(body["policy_name"])
        if document is None:
            continue  # a system policy: named in the resource table
        for statement in document["Statement"]:
            actions = statement["Action"]
            targets = statement["Resource"]
            for action in [actions] if isinstance(actions, str) else actions:
                for target in [targets] if isinstance(targets, str) else targets:
                    rows.append((body["role_name"], action, resolve(target)))
    return sorted(rows)


def permission_section(stack: dict) -> list[str]:
    lines = ["## Permission matrix (role -> actions -> resources)", ""]
    rows = permission_matrix(stack)
    if not rows:
        return lines + ["No custom policies."]
    lines += ["| role | action | resource |", "|---|---|---|"]
    previous_role = None
    for role, action, target in rows:
        shown = f"`{role}`" if role != previous_role else ""
        lines.append(f"| {shown} | `{action}` | `{_cell(target)}` |")
        previous_role = role
    return lines


def _flatten(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat = {}
        for k, v in value.items():
            flat.update(_flatten(v, f"{path}.{k}" if path else k))
        return flat
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        flat = {}
        for i, v in enumerate(value):
            flat.update(_flatten(v, f"{path}[{i}]"))
        return flat
    return {path: value}


def diff(base: dict, head: dict) -> dict[str, Any]:
    old, new = resources(base), resources(head)
    changed = {}
    for address in sorted(old.keys() & new.keys()):
        a, b = _flatten(old[address]), _flatten(new[address])
        fields = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
        if fields:
            changed[address] = [(f, a.get(f), b.get(f)) for f in fields]
    outputs_old = set(base.get("output", {}))
    outputs_new = set(head.get("output", {}))
    return {
        "added": sorted(new.keys() - old.keys()),
        "removed": sorted(old.keys() - new.keys()),
        "changed": changed,
        "outputs_added": sorted(outputs_new - outputs_old),
        "outputs_removed": sorted(outputs_old - outputs_new),
    }


def permission_changes(base: dict, head: dict) -> tuple[list, list]:
    """(granted, revoked) permission rows between two stacks."""
    before, after = set(permission_matrix(base)), set(permission_matrix(head))
    return sorted(after - before), sorted(before - after)


def diff_section(base: dict | None, head: dict, base_ref: str | None) -> list[str]:
    title = f"## Changes against `{base_ref}`" if base_ref else "## Changes"
    if base_ref is None:
        return [title, "", "No BASE given (`make review ENV=x BASE=<git ref>`)."]
    if base is None:
        return [title, "", f"`{base_ref}` has no stack for this environment: everything is new."]
    changes = diff(base, head)
    lines = [title, ""]
    if not any(changes.values()):
        return lines + ["No changes."]
    for label, key in (("Added", "added"), ("Removed", "removed")):
        if changes[key]:
            lines += [f"**{label}** ({len(changes[key])}):", ""]
            lines += [f"- `{address}`" for address in changes[key]] + [""]
    if changes["changed"]:
        lines += [f"**Changed** ({len(changes['changed'])}):", ""]
        for address, fields in changes["changed"].items():
            lines.append(f"- `{address}`")
            for field, before, after in fields:
                lines.append(f"  - `{field}`: {_cell(_short(before))} -> {_cell(_short(after))}")
        lines.append("")
    granted, revoked = permission_changes(base, head)
    if granted or revoked:
        lines += ["**Permission changes** (role, action, resource):", ""]
        lines += [f"- granted: `{r}` `{a}` `{_cell(t)}`" for r, a, t in granted]
        lines += [f"- revoked: `{r}` `{a}` `{_cell(t)}`" for r, a, t in revoked]
        lines.append("")
    for label, key in (("Outputs added", "outputs_added"), ("Outputs removed", "outputs_removed")):
        if changes[key]:
            lines.append(f"**{label}**: " + ", ".join(f"`{o}`" for o in changes[key]))
    return lines


def render(
    stack: dict, stack_name: str, base: dict | None = None, base_ref: str | None = None
) -> str:
    counts = len(resources(stack))
    lines = [
        f"# Infra review: `{stack_name}`",
        "",
        f"{counts} resources and data sources. Generated offline from the synthesized "
        "`cdk.tf.json` (`make review`).",
        "",
        *resources_section(stack),
        "",
        *permission_section(stack),
        "",
        *diff_section(base, stack, base_ref),
    ]
    return "\n".join(lines).rstrip() + "\n"


def synth_at_ref(project_root: Path, ref: str, env_name: str) -> dict | None:
    """Synthesize BASE in a scratch export of `ref` (git archive), with the current code package."""
    scratch = Path(tempfile.mkdtemp(prefix="ossbatch-review-"))
    try:
        archive = subprocess.run(
            ["git", "-C", str(project_root), "archive", "--format=tar", ref],
            capture_output=True,
        )
        if archive.returncode != 0:
            raise ReviewError(f"BASE {ref!r}: {archive.stderr.decode().strip()}")
        tar_path = scratch / "base.tar"
        tar_path.write_bytes(archive.stdout)
        tree = scratch / "tree"
        with tarfile.open(tar_path) as tar:
            tar.extractall(tree, filter="data")
        if not (tree / "infra" / "stack.py").is_file():
            return None
        manifest = project_root / "build" / "package" / "manifest.json"
        if manifest.is_file():  # same code package on both sides: no false code diff
            (tree / "build" / "package").mkdir(parents=True, exist_ok=True)
            shutil.copy(manifest, tree / "build" / "package" / "manifest.json")
        outdir = scratch / "out"
        done = subprocess.run(
            [sys.executable, "-m", "infra", "synth", "--env", env_name, "--outdir", str(outdir)],
            cwd=tree,
            capture_output=True,
            text=True,
        )
        stack_file = outdir / "stacks" / f"ossbatch-{env_name}" / "cdk.tf.json"
        if done.returncode != 0 or not stack_file.is_file():
            if not (tree / "environments" / f"{env_name}.yaml").is_file():
                return None
            raise ReviewError(f"BASE {ref!r} does not synthesize:\n{done.stderr[-2000:]}")
        return json.loads(stack_file.read_text())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
