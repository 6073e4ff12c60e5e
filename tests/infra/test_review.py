"""`make review`: resources by type, permission matrix, and the diff against BASE."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from infra import review
from ossbatch.config import PROJECT_ROOT


def test_review_lists_resources_by_type_with_key_settings(stacks):
    markdown = review.render(stacks["prod"].tf, "ossbatch-prod")
    assert markdown.startswith("# Infra review: `ossbatch-prod`")
    assert "| `alicloud_fcv3_function` | 5 |" in markdown
    assert "ossbatch-prod-unzip | python3.10 | index.unzip | 4096 | 900 | 10240" in markdown
    assert '"prevent_destroy":true' in markdown
    assert "| `ossbatch-prod-trigger` | `OSSBATCH_UNZIP_FLOW` | `ossbatch-prod-unzip` |" in markdown


def test_permission_matrix_names_roles_actions_and_resources(stacks):
    rows = review.permission_matrix(stacks["prod"].tf)
    assert ("ossbatch-prod-oss-trigger", "fc:InvokeFunction") in {(r, a) for r, a, _ in rows}
    deletes = [(role, target) for role, action, target in rows if action == "oss:DeleteObject"]
    assert sorted(deletes) == [
        ("ossbatch-prod-fc-unzip", "acs:oss:*:<account>:ossbatch-prod-packages/incoming/*"),
        (
            "ossbatch-prod-fc-unzip",
            "acs:oss:*:<account>:ossbatch-prod-reports/reports/leases/unzip/*",
        ),
        ("ossbatch-prod-fc-worker", "acs:oss:*:<account>:ossbatch-prod-reports/reports/*/pace/*"),
    ]
    markdown = review.render(stacks["prod"].tf, "ossbatch-prod")
    assert "| `ossbatch-prod-oss-trigger` | `fc:InvokeFunction` |" in markdown
    assert "acs:oss:*:<account>:ossbatch-prod-packages/incoming/*" in markdown


def test_diff_reports_added_removed_and_changed_arguments(stacks):
    base = stacks["dev"].tf
    head = copy.deepcopy(base)
    functions = head["resource"]["alicloud_fcv3_function"]
    name = next(n for n in functions if "unzip" in n)
    functions[name]["memory_size"] = 8192
    removed = head["resource"].pop("alicloud_fcv3_trigger")
    changes = review.diff(base, head)
    assert changes["removed"] == [f"alicloud_fcv3_trigger.{n}" for n in removed]
    assert changes["changed"][f"alicloud_fcv3_function.{name}"] == [("memory_size", 2048, 8192)]
    markdown = "\n".join(review.diff_section(base, head, "main"))
    assert "`memory_size`: 2048 -> 8192" in markdown and "**Removed** (1)" in markdown


def test_permission_changes_are_listed_row_by_row(stacks):
    base = stacks["dev"].tf
    head = copy.deepcopy(base)
    policies = head["resource"]["alicloud_ram_policy"]
    name = next(n for n, p in policies.items() if p["policy_name"].endswith("oss-trigger-policy"))
    document = json.loads(policies[name]["policy_document"])
    document["Statement"][0]["Action"].append("fc:GetFunction")
    policies[name]["policy_document"] = json.dumps(document)
    granted, revoked = review.permission_changes(base, head)
    assert revoked == []
    assert {(r, a) for r, a, _ in granted} == {("ossbatch-dev-oss-trigger", "fc:GetFunction")}
    markdown = "\n".join(review.diff_section(base, head, "main"))
    assert "- granted: `ossbatch-dev-oss-trigger` `fc:GetFunction`" in markdown


def test_same_stack_has_no_changes(stacks):
    assert review.diff_section(stacks["dev"].tf, stacks["dev"].tf, "HEAD")[-1] == "No changes."


def test_review_against_a_git_ref_runs_offline(tmp_path):
    """BASE = HEAD of this checkout, synthesized from a scratch export of the ref."""
    head = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    out = tmp_path / "review.md"
    done = subprocess.run(
        [
            sys.executable, "-m", "infra", "review", "--env", "dev", "--base", "HEAD",
            "--outdir", str(tmp_path / "out"), "--output", str(out),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "## Changes against `HEAD`" in text
    assert "## Permission matrix" in text


def test_unknown_base_ref_is_a_clear_error(tmp_path):
    with pytest.raises(review.ReviewError, match="no-such-ref"):
        review.synth_at_ref(PROJECT_ROOT, "no-such-ref", "dev")


def test_resolver_replaces_literal_references(stacks):
    resolve = review.Resolver(stacks["dev"].tf)
    attachment = next(iter(stacks["dev"].resources("alicloud_ram_role_policy_attachment").values()))
    resolved = resolve(attachment)
    assert resolved["role_name"].startswith("ossbatch-dev-")
    assert json.dumps(resolved).count("${") == 0
