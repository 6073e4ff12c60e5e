"""Every environment synthesizes; resources and properties asserted with cdktf Testing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cdktf
import pytest

from infra.alicloud import PROVIDER_SOURCE, PROVIDER_VERSION_CONSTRAINT
from infra.validation import StackValidationError, flow_files
from ossbatch.config import BUCKET_ROLES, JOBS, PROJECT_ROOT

ACCOUNT = r"(\$\{data\.alicloud_account\.current\.id\}|[0-9]{16})"

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
        "verify": env.verify.function,
    }
    functions = synthesized.resources("alicloud_fcv3_function")
    assert len(functions) == len(JOBS)
    for job in JOBS:
        assert has(
            synthesized.text,
            "alicloud_fcv3_function",
            {
                "function_name": env.function_name(job),
                "handler": f"index.{job}",
                "runtime": env.runtime,
                "memory_size": settings[job].memory_mb,
                "timeout": settings[job].timeout_s,
                "disk_size": settings[job].disk_mb,
                **({"cpu": settings[job].cpu} if settings[job].cpu else {}),
                "environment_variables": synthesized.stack.deployment.function(job).environment,
            },
        ), job
    for fn in functions.values():  # references order creation after the log project/store
        assert fn["log_config"]["project"].startswith("${alicloud_log_project.")
        assert fn["log_config"]["logstore"].startswith("${alicloud_log_store.")


def test_policies_rotate_and_everything_acting_as_a_role_waits_for_its_attachment(synthesized):
    # RAM keeps 5 policy versions: without rotation the 6th change fails at apply
    for policy in synthesized.resources("alicloud_ram_policy").values():
        assert policy["rotate_strategy"] == "DeleteOldestNonDefaultVersionWhenLimitExceeded"
    attach = "alicloud_ram_role_policy_attachment.attach_"
    functions = synthesized.resources("alicloud_fcv3_function")
    for name, fn in functions.items():
        role = {"function_trigger": "fc_trigger", "function_unzip": "fc_unzip"}.get(
            name, "fc_worker"
        )
        assert fn["depends_on"] == [attach + role], name
        assert fn["role"].endswith(f":role/{synthesized.env.name_prefix}-{role.replace('_', '-')}")
    (trigger,) = synthesized.resources("alicloud_fcv3_trigger").values()
    assert attach + "oss_trigger" in trigger["depends_on"]
    for flow in synthesized.resources("alicloud_fnf_flow").values():
        assert flow["depends_on"] == [attach + "flow"]


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
    assert trigger["trigger_name"] == f"{env.name_prefix}-unzip-upload"
    config = json.loads(trigger["trigger_config"])
    assert config["filter"]["key"] == {
        "prefix": env.unzip.watch_prefix,
        "suffix": env.unzip.watch_suffix,
    }
    assert "oss:ObjectCreated:CompleteMultipartUpload" in config["events"]
    assert trigger["source_arn"].startswith(f"acs:oss:{env.region}:")
    assert trigger["source_arn"].endswith(f":{env.buckets.packages.name}")
    assert "alicloud_oss_bucket.bucket_packages" in trigger["depends_on"]
    assert re.fullmatch(
        rf"acs:ram::{ACCOUNT}:role/{env.name_prefix}-oss-trigger", trigger["invocation_role"]
    )


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
        "role_fc_worker", "role_fc_unzip", "role_fc_trigger", "role_flow", "role_oss_trigger",
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


def test_a_job_kind_without_its_flow_file_cannot_synthesize(
    tmp_path, tiny_package, stacks, synth_stack
):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "copy.yaml").write_text("Type: StateMachine\nName: x\n")
    with pytest.raises(StackValidationError, match=r"restore\.yaml: no flow file"):
        synth_stack(stacks["dev"].env, flows, tiny_package)


def test_flow_definitions_are_deployed_with_their_name_and_interpolation_escaped(
    tmp_path, tiny_package, stacks, synth_stack
):
    flows = tmp_path / "flows"
    flows.mkdir()
    for stem in ("copy", "restore", "verify"):
        (flows / f"{stem}.yaml").write_text(
            f"# {stem}\nType: StateMachine\nName: {stem}\nStartAt: A\n"
        )
    (flows / "unzip.yaml").write_text('Type: StateMachine\nComment: "${not.terraform}"\n')
    result = synth_stack(stacks["dev"].env, flows, tiny_package)
    definitions = {
        f["name"]: f["definition"] for f in result.resources("alicloud_fnf_flow").values()
    }
    assert definitions["ossbatch-dev-copy"] == (
        "# copy\nType: StateMachine\nName: ossbatch-dev-copy\nStartAt: A\n"
    )
    assert definitions["ossbatch-dev-unzip"] == (
        'Type: StateMachine\nName: ossbatch-dev-unzip\nComment: "$${not.terraform}"\n'
    )
    for flow in result.resources("alicloud_fnf_flow").values():
        assert flow["type"] == "FDL"
        assert re.fullmatch(rf"acs:ram::{ACCOUNT}:role/ossbatch-dev-flow", flow["role_arn"])


@pytest.mark.parametrize("job", JOBS)
def test_every_function_handler_is_a_method_of_the_root_index_module(job):
    # FC's documented form: <file>.<method>, the file at the code package root
    import index

    handler = next(f.handler for f in _deployment().functions if f.kind == job)
    assert handler == f"index.{job}"
    assert callable(getattr(index, job))


def _deployment():
    from ossbatch.config import load_environment
    from ossbatch.deployment import cloud_target, deployment

    env = load_environment("prod")
    return deployment(env, cloud_target(env, "1" * 16))
