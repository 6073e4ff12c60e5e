"""Every environment synthesizes; resources and properties asserted with cdktf Testing."""

from __future__ import annotations

import json
from pathlib import Path

import cdktf
import pytest

from infra.alicloud import PROVIDER_SOURCE, PROVIDER_VERSION_CONSTRAINT
from infra.validation import flow_files
from ossbatch.config import BUCKET_ROLES, JOBS, PROJECT_ROOT

has = cdktf.Testing.to_have_resource_with_properties


def test_stack_is_named_after_the_environment(synthesized):
    assert synthesized.stack.node.id == f"ossbatch-{synthesized.env.name}"


def test_provider_is_aliyun_alicloud_with_the_pinned_constraint(synthesized):
    tf = synthesized.tf
    assert tf["terraform"]["required_providers"]["alicloud"] == {
        "source": PROVIDER_SOURCE,
        "version": PROVIDER_VERSION_CONSTRAINT,
    }
    assert tf["provider"]["alicloud"] == [{"region": synthesized.env.region}]


def test_every_managed_bucket_is_private_blocked_and_encrypted(synthesized):
    env = synthesized.env
    managed = [name for name, spec in env.buckets.distinct().items() if spec.managed]
    assert len(synthesized.resources("alicloud_oss_bucket")) == len(managed)
    for name in managed:
        assert has(
            synthesized.text,
            "alicloud_oss_bucket",
            {"bucket": name, "server_side_encryption_rule": {"sse_algorithm": "AES256"}},
        ), name
    acls = synthesized.resources("alicloud_oss_bucket_acl").values()
    blocks = synthesized.resources("alicloud_oss_bucket_public_access_block").values()
    assert len(acls) == len(managed) and all(acl["acl"] == "private" for acl in acls)
    assert len(blocks) == len(managed) and all(b["block_public_access"] for b in blocks)


def test_unmanaged_source_bucket_is_never_created(stacks):
    dev = stacks["dev"]
    names = {b["bucket"] for b in dev.resources("alicloud_oss_bucket").values()}
    assert "ossbatch-dev-sources" not in names
    assert dev.tf["output"]["bucket_sources"]["value"] == "ossbatch-dev-sources"


def test_versioning_and_lifecycle_follow_the_environment(stacks):
    prod = stacks["prod"]
    assert has(
        prod.text,
        "alicloud_oss_bucket",
        {"bucket": "ossbatch-prod-archive", "versioning": {"status": "Enabled"}},
    )
    assert has(
        prod.text,
        "alicloud_oss_bucket",
        {
            "bucket": "ossbatch-prod-reports",
            "lifecycle_rule": [
                {"prefix": "reports/", "enabled": True, "expiration": [{"days": 90}]}
            ],
        },
    )
    dev_buckets = stacks["dev"].resources("alicloud_oss_bucket").values()
    archive = next(b for b in dev_buckets if b["bucket"] == "ossbatch-dev-archive")
    assert "versioning" not in archive


def test_prod_buckets_are_protected_from_destroy(stacks):
    for bucket in stacks["prod"].resources("alicloud_oss_bucket").values():
        assert bucket["force_destroy"] is False
        assert bucket["lifecycle"] == {"prevent_destroy": True}
    for bucket in stacks["dev"].resources("alicloud_oss_bucket").values():
        assert bucket["force_destroy"] is True and "lifecycle" not in bucket


def test_functions_take_memory_timeout_env_and_logs_from_the_environment(synthesized):
    env = synthesized.env
    settings = {
        "copy": env.copy_job.function,
        "restore": env.restore.function,
        "unzip": env.unzip.function,
        "trigger": env.unzip.trigger_function,
    }
    functions = synthesized.resources("alicloud_fcv3_function")
    assert len(functions) == len(JOBS)
    for job in JOBS:
        assert has(
            synthesized.text,
            "alicloud_fcv3_function",
            {
                "function_name": env.function_name(job),
                "handler": f"handlers.{job}.handler",
                "runtime": env.runtime,
                "memory_size": settings[job].memory_mb,
                "timeout": settings[job].timeout_s,
                "disk_size": settings[job].disk_mb,
                **({"cpu": settings[job].cpu} if settings[job].cpu else {}),
                "environment_variables": env.handler_environment(job),
            },
        ), job
    for fn in functions.values():  # references order creation after the log project/store
        assert fn["log_config"]["project"].startswith("${alicloud_log_project.")
        assert fn["log_config"]["logstore"].startswith("${alicloud_log_store.")


def test_functions_run_the_hashed_code_package_with_its_checksum(synthesized, tiny_package):
    env = synthesized.env
    assert has(
        synthesized.text,
        "alicloud_oss_bucket_object",
        {"key": tiny_package.object_key, "content_md5": tiny_package.md5_base64},
    )
    (code,) = synthesized.resources("alicloud_oss_bucket_object").values()
    assert code["source"].startswith("assets/") and code["source"].endswith(
        Path(tiny_package.path).name
    )  # a cdktf asset: copied into the stack directory, path independent of the machine
    for fn in synthesized.resources("alicloud_fcv3_function").values():
        assert fn["code"]["checksum"] == tiny_package.crc64
        assert fn["code"]["oss_object_name"] == "${alicloud_oss_bucket_object.code_package.key}"
        assert env.buckets.artifacts.name in json.dumps(synthesized.tf["resource"])


def test_oss_trigger_watches_the_packages_prefix_and_suffix(synthesized):
    env = synthesized.env
    (trigger,) = synthesized.resources("alicloud_fcv3_trigger").values()
    assert trigger["trigger_type"] == "oss" and trigger["qualifier"] == "LATEST"
    config = json.loads(trigger["trigger_config"])
    assert config["filter"]["key"] == {
        "prefix": env.unzip.watch_prefix,
        "suffix": env.unzip.watch_suffix,
    }
    assert "oss:ObjectCreated:CompleteMultipartUpload" in config["events"]
    assert trigger["source_arn"].startswith(f"acs:oss:{env.region}:")
    assert trigger["source_arn"].endswith(":${alicloud_oss_bucket.bucket_packages.bucket}")
    assert trigger["invocation_role"] == "${alicloud_ram_role.role_oss_trigger.arn}"


def test_notification_queue_has_a_dead_letter_policy(synthesized):
    env = synthesized.env
    queues = {
        q["queue_name"]: q for q in synthesized.resources("alicloud_message_service_queue").values()
    }
    assert set(queues) == {env.unzip.notification_queue, env.unzip.dead_letter_queue}
    dlq = queues[env.unzip.notification_queue]["dlq_policy"]
    assert dlq["enabled"] is True
    assert dlq["max_receive_count"] == env.unzip.max_receive_count
    assert dlq["dead_letter_target_queue"] == (
        "${alicloud_message_service_queue.dead_letter_queue.queue_name}"
    )


def test_log_project_and_store(synthesized):
    env = synthesized.env
    assert has(synthesized.text, "alicloud_log_project", {"project_name": env.log.project})
    assert has(
        synthesized.text,
        "alicloud_log_store",
        {"logstore_name": env.log.store, "retention_period": env.log.retention_days},
    )


def test_one_flow_per_flow_file_in_the_checkout(synthesized):
    files = flow_files(PROJECT_ROOT / "flows")
    flows = synthesized.resources("alicloud_fnf_flow")
    assert sorted(f["name"] for f in flows.values()) == sorted(
        synthesized.env.flow_name(p.stem) for p in files
    )


def test_resource_addresses_are_readable_and_stable(stacks):
    tf = stacks["prod"].tf["resource"]
    assert set(tf["alicloud_oss_bucket"]) == {
        "bucket_archive", "bucket_packages", "bucket_extraction", "bucket_reports",
        "bucket_artifacts",
    }  # fmt: skip
    assert set(tf["alicloud_fcv3_function"]) == {f"function_{job}" for job in JOBS}
    assert set(tf["alicloud_ram_role"]) == {
        "role_fc_worker", "role_fc_trigger", "role_flow", "role_oss_trigger",
    }  # fmt: skip


def test_outputs_name_buckets_queues_and_function_arns(synthesized):
    outputs = synthesized.tf["output"]
    for role in BUCKET_ROLES:
        assert f"bucket_{role}" in outputs
    for job in JOBS:
        assert outputs[f"function_{job}_arn"]["value"].endswith(".function_arn}")
    assert {"queue_notifications", "queue_dead_letter"} <= set(outputs)


def test_cloud_environments_use_the_oss_backend_with_tablestore_locking(stacks):
    for name in ("dev", "staging", "prod"):
        backend = stacks[name].tf["terraform"]["backend"]["oss"]
        state = stacks[name].env.state
        assert backend["bucket"] == state.bucket
        assert backend["tablestore_table"] == state.tablestore_table
        assert backend["tablestore_endpoint"] == state.tablestore_endpoint
        assert backend["encrypt"] is True
    assert "local" in stacks["local"].tf["terraform"]["backend"]


def test_account_comes_from_the_data_source_unless_configured(stacks):
    assert "alicloud_account" in stacks["dev"].tf.get("data", {})
    assert "data" not in stacks["local"].tf
    assert "1234567890123456" in json.dumps(stacks["local"].tf["resource"])


def test_zero_flow_files_make_no_flows(tmp_path, tiny_package, stacks, synth_stack):
    env = stacks["dev"].env
    result = synth_stack(env, [], tiny_package)
    assert result.resources("alicloud_fnf_flow") == {}
    statements = json.loads(
        next(
            p["policy_document"]
            for p in result.resources("alicloud_ram_policy").values()
            if p["policy_name"].endswith("-flow-policy")
        )
    )["Statement"]
    assert all("fnf:StartExecution" not in s["Action"] for s in statements)


def test_flow_definitions_are_deployed_verbatim_with_interpolation_escaped(
    tmp_path, tiny_package, stacks, synth_stack
):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "alpha.yaml").write_text("Type: StateMachine\nName: alpha\nStartAt: A\n")
    (flows / "beta.yaml").write_text('Type: StateMachine\nComment: "${not.terraform}"\n')
    result = synth_stack(stacks["dev"].env, flow_files(flows), tiny_package)
    definitions = {
        f["name"]: f["definition"] for f in result.resources("alicloud_fnf_flow").values()
    }
    assert definitions["ossbatch-dev-alpha"] == "Type: StateMachine\nName: alpha\nStartAt: A\n"
    assert definitions["ossbatch-dev-beta"] == 'Type: StateMachine\nComment: "$${not.terraform}"\n'
    for flow in result.resources("alicloud_fnf_flow").values():
        assert flow["type"] == "FDL" and flow["role_arn"] == "${alicloud_ram_role.role_flow.arn}"


@pytest.mark.parametrize("job", JOBS)
def test_handler_modules_exist_for_every_function(job):
    # the function handler strings point at modules of handlers/ (another helper writes them)
    module = PROJECT_ROOT / "handlers" / f"{job}.py"
    if not module.exists():
        pytest.skip(f"handlers/{job}.py not written yet")
    assert "def handler(" in module.read_text()
