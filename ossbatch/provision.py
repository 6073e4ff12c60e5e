"""`ossbatch local up`: create or update exactly the Deployment's objects on localcloud.

Everything comes from `ossbatch.deployment` (the model infra renders as Terraform),
through the real SDKs: roles and policies (alibabacloud-ram20150501), buckets (oss2),
queues (aliyun-mns-sdk), functions and the OSS trigger (alibabacloud-fc20230330), flows
(alibabacloud-fnf20190315). Every step is create-or-update, so `local up` after a crash
converges again. Roles come first: functions, the trigger and flows act as them.
"""

from __future__ import annotations

import base64
import io
import json
import os
import urllib.error
import urllib.request
import uuid
import zipfile
from pathlib import Path

from ossbatch.cloud import ConfigError, Connection
from ossbatch.config import KmsPassword
from ossbatch.deployment import Deployment, Function, Role, deployment, local_target
from ossbatch.retrying import call

PROJECT_ROOT = Path(__file__).resolve().parents[1]
HANDLERS_DIR = PROJECT_ROOT / "handlers"
ENTRY_MODULE = PROJECT_ROOT / "index.py"
FLOWS_DIR = PROJECT_ROOT / "flows"
# RAM keeps 5 versions of a policy; the oldest non-default one goes (as infra's policies do)
ROTATE_STRATEGY = "DeleteOldestNonDefaultVersionWhenLimitExceeded"


def local_deployment(env, conn: Connection) -> Deployment:
    """The environment's deployment for the localcloud `conn` points at."""
    target = local_target(conn.account_id, conn.oss_endpoint, conn.fnf_endpoint, conn.kms_endpoint)
    return deployment(env, target)


def resource_names(env) -> dict:
    """Logical -> real names for the CLI (written into the local state file)."""
    return deployment(env, local_target("0" * 16, "", "")).names()


def handlers_zip() -> bytes:
    """The FC code package: index.py and handlers/ at the root (dependencies come from the
    runtime locally)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(ENTRY_MODULE, ENTRY_MODULE.name)
        for path in sorted(HANDLERS_DIR.rglob("*.py")):
            zf.write(path, path.relative_to(PROJECT_ROOT).as_posix())
    return buf.getvalue()


def secret_environment(fn: Function) -> dict[str, str]:
    """A local function's secrets, copied from the shell (never into the model or a flow)."""
    values = {}
    for secret in fn.secrets:
        value = os.environ.get(secret.local_variable)
        if not value:
            raise ConfigError(
                f"{fn.name} reads {secret.variable} from ${secret.local_variable}, which is not "
                f"set: export {secret.local_variable}=... and run local up again"
            )
        values[secret.variable] = value
    return values


def password_environment(env) -> dict[str, str]:
    """The local unzip function's password (env unzip.password), from the shell."""
    plan = deployment(env, local_target("0" * 16, "", ""))
    return secret_environment(plan.function("unzip"))


def kms_password_value(env) -> tuple[str, str] | None:
    """(secret name, value from the shell) of a KMS unzip password, None for other sources."""
    password = env.unzip.password
    if not isinstance(password, KmsPassword):
        return None
    value = os.environ.get(password.local_variable)
    if not value:
        raise ConfigError(
            f"unzip.password is the KMS secret {password.secret_name!r}; local up creates it "
            f"from ${password.local_variable}, which is not set: export "
            f"{password.local_variable}=... and run local up again"
        )
    return password.secret_name, value


def ensure_secrets(env, conn: Connection) -> list[str]:
    """The KMS secret of unzip.password {source: kms}, created or given a new current
    version in localcloud's KMS when the shell's value differs (never printed); with a
    key_id, the secret is encrypted with that key, which local up gives the local account
    first (ensure_local_key). Returns the secrets it created or changed."""
    wanted = kms_password_value(env)
    if wanted is None:
        return []
    if not conn.kms_endpoint:
        raise ConfigError(
            "this localcloud has no KMS endpoint (started by an older version?): "
            "run `ossbatch local down` and `ossbatch local up`"
        )
    from alibabacloud_kms20160120 import models as kms_models

    (name, value), key_id = wanted, env.unzip.password.key_id
    if key_id:
        ensure_local_key(conn, key_id)
    client = conn.kms()
    current = _current_secret(client, name)
    if current is None:
        call(
            client.create_secret,
            kms_models.CreateSecretRequest(
                secret_name=name,
                version_id="v1",
                secret_data=value,
                secret_data_type="text",
                description="unzip.password of ossbatch (local up)",
                encryption_key_id=key_id,
            ),
        )
        return [name]
    current_value, current_key = current
    if current_key != key_id:
        raise ConfigError(_other_key_message(name, current_key, key_id))
    if current_value == value:
        return []
    call(
        client.put_secret_value,
        kms_models.PutSecretValueRequest(
            secret_name=name, version_id=f"v{uuid.uuid4().hex[:12]}", secret_data=value
        ),
    )
    return [name]


def _current_secret(client, name: str) -> tuple[str, str | None] | None:
    """(current value, id of the key protecting it or None) of a local secret; None if absent."""
    from alibabacloud_kms20160120 import models as kms_models

    try:
        value = call(
            client.get_secret_value, kms_models.GetSecretValueRequest(secret_name=name)
        ).body.secret_data
    except Exception as exc:  # noqa: BLE001 - Tea exceptions carry the API code
        if error_code(exc) != "Forbidden.ResourceNotFound":
            raise
        return None
    described = call(client.describe_secret, kms_models.DescribeSecretRequest(secret_name=name))
    return value, described.body.encryption_key_id or None


def _other_key_message(name: str, current: str | None, wanted: str | None) -> str:
    def key(key_id):
        return f"key {key_id}" if key_id else "the service's own key"

    # KMS has no way to move a secret to another key: a new secret is the way
    return (
        f"the local KMS secret {name!r} is encrypted with {key(current)}, but "
        f"unzip.password.key_id names {key(wanted)}; a secret keeps its key: give "
        "unzip.password a new secret_name, or start localcloud on a fresh --data-dir"
    )


def ensure_local_key(conn: Connection, key_id: str) -> None:
    """Give the local account the customer master key `key_id` (Enabled), unless it has it.

    CreateKey cannot choose an id (KMS makes it), and in the cloud the key exists before
    infra runs (infra only names it), so local up seeds it under the environment's own id
    through localcloud's admin control: the policies local up provisions then name exactly
    the key infra's do (docs/decisions/local-kms-keys.md)."""
    if not conn.admin_endpoint:
        raise ConfigError(
            "this localcloud has no admin endpoint in the local state: "
            "run `ossbatch local down` and `ossbatch local up`"
        )
    body = json.dumps({"key_id": key_id, "description": "unzip.password.key_id (local up)"})
    request = urllib.request.Request(
        f"{conn.admin_endpoint}/kms/keys", data=body.encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            state = json.loads(response.read())["KeyMetadata"]["KeyState"]
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:300]
        raise ConfigError(
            f"localcloud refused the KMS key {key_id!r} of unzip.password.key_id "
            f"({exc.code}: {detail}); is localcloud older than local up? run "
            "`ossbatch local down` and `ossbatch local up`"
        ) from None
    if state != "Enabled":  # local up leaves a key someone disabled as it is
        raise ConfigError(
            f"the local KMS key {key_id!r} of unzip.password.key_id is {state}, so the unzip "
            "function could not read its secret: EnableKey it (alibabacloud-kms20160120) "
            "and run local up again"
        )


def error_code(exc: BaseException) -> str:
    """The API error code the Tea SDKs (RAM, FC, FnF) carry on their exception."""
    return str(getattr(exc, "code", "") or "")


# --- RAM -----------------------------------------------------------------------------


def ensure_roles(plan: Deployment, conn: Connection) -> list[str]:
    if not conn.ram_endpoint:
        raise ConfigError(
            "this localcloud has no RAM endpoint (started by an older version?): "
            "run `ossbatch local down` and `ossbatch local up`"
        )
    client = conn.ram()
    for role in plan.roles:
        _ensure_role(client, role)
        _ensure_policy(client, role)
        _ensure_attached(client, role)
    return [role.name for role in plan.roles]


def _ensure_role(client, role: Role) -> None:
    from alibabacloud_ram20150501 import models as ram

    try:
        found = client.get_role(ram.GetRoleRequest(role_name=role.name)).body.role
    except Exception as exc:
        if error_code(exc) != "EntityNotExist.Role":
            raise
        client.create_role(
            ram.CreateRoleRequest(
                role_name=role.name,
                assume_role_policy_document=role.trust_policy,
                description=role.description,
            )
        )
        return
    if json.loads(found.assume_role_policy_document) != json.loads(role.trust_policy):
        client.update_role(
            ram.UpdateRoleRequest(
                role_name=role.name,
                new_assume_role_policy_document=role.trust_policy,
                new_description=role.description,
            )
        )


def _ensure_policy(client, role: Role) -> None:
    from alibabacloud_ram20150501 import models as ram

    try:
        body = client.get_policy(
            ram.GetPolicyRequest(policy_name=role.policy_name, policy_type="Custom")
        ).body
    except Exception as exc:
        if error_code(exc) != "EntityNotExist.Policy":
            raise
        client.create_policy(
            ram.CreatePolicyRequest(
                policy_name=role.policy_name,
                policy_document=role.policy_document,
                description=role.policy_description,
            )
        )
        return
    current = body.default_policy_version.policy_document
    if json.loads(current) != json.loads(role.policy_document):
        client.create_policy_version(
            ram.CreatePolicyVersionRequest(
                policy_name=role.policy_name,
                policy_document=role.policy_document,
                set_as_default=True,
                rotate_strategy=ROTATE_STRATEGY,
            )
        )


def _ensure_attached(client, role: Role) -> None:
    from alibabacloud_ram20150501 import models as ram

    listed = client.list_policies_for_role(ram.ListPoliciesForRoleRequest(role_name=role.name))
    policies = listed.body.policies.policy if listed.body.policies else []
    if any(p.policy_name == role.policy_name for p in policies or []):
        return
    client.attach_policy_to_role(
        ram.AttachPolicyToRoleRequest(
            policy_type="Custom", policy_name=role.policy_name, role_name=role.name
        )
    )


# --- OSS and MNS -----------------------------------------------------------------------


def ensure_buckets(plan: Deployment, conn: Connection) -> list[str]:
    import oss2

    made = []
    for spec in plan.buckets:
        bucket = conn.oss_bucket(spec.name)
        try:
            info = call(bucket.get_bucket_info)
            _ensure_versioning(bucket, spec, info.versioning_status)
            continue
        except oss2.exceptions.NoSuchBucket:
            pass
        try:
            call(
                bucket.create_bucket,
                oss2.BUCKET_ACL_PRIVATE,
                oss2.models.BucketCreateConfig(spec.storage_class),
            )
        except oss2.exceptions.OssError as exc:
            # a retried create whose first answer was lost finds its own bucket
            if exc.code != "BucketAlreadyExists":
                raise
        _ensure_versioning(bucket, spec, None)
        made.append(spec.name)
    return made


def _ensure_versioning(bucket, spec, status: str | None) -> None:
    """Versioning on where the environment asks for it, as the stack does in the cloud (an
    existing bucket's versioning is never turned off: OSS can only suspend it)."""
    import oss2

    if spec.versioning and status != "Enabled":
        config = oss2.models.BucketVersioningConfig()
        config.status = oss2.BUCKET_VERSIONING_ENABLE
        call(bucket.put_bucket_versioning, config)


def ensure_queues(plan: Deployment, conn: Connection) -> list[str]:
    from mns.mns_exception import MNSExceptionBase
    from mns.queue import QueueMeta

    account = conn.mns()
    made = []
    for spec in plan.queues:
        queue = account.get_queue(spec.name)
        try:
            call(queue.get_attributes)
            continue
        except MNSExceptionBase as exc:
            if getattr(exc, "type", "") != "QueueNotExist":
                raise
        meta = QueueMeta()
        meta.set_message_retention_period(spec.message_retention_s)
        if spec.visibility_timeout_s is not None:
            meta.set_visibilitytimeout(spec.visibility_timeout_s)
        if spec.polling_wait_s is not None:
            meta.set_polling_wait_seconds(spec.polling_wait_s)
        call(queue.create, meta)
        made.append(spec.name)
    return made


# --- FC --------------------------------------------------------------------------------


def code_checksum(data: bytes) -> str:
    """CRC-64/ECMA of the code zip, as FC reports it (codeChecksum)."""
    import oss2

    crc = oss2.utils.Crc64()
    crc.update(data)
    return str(crc.crc)


def _function_settings(fn: Function, code) -> dict:
    return {
        "code": code,
        "handler": fn.handler,
        "runtime": fn.runtime,
        "description": fn.description,
        "memory_size": fn.memory_mb,
        "timeout": fn.timeout_s,
        "disk_size": fn.disk_mb,
        "cpu": fn.cpu,
        "role": fn.role_arn,
        "environment_variables": {**fn.environment, **secret_environment(fn)},
    }


def _unchanged(got, wanted: dict, checksum: str) -> bool:
    """The deployed function already is what the model says (so its instances stay warm)."""
    same = (
        got.code_checksum == checksum
        and (got.environment_variables or {}) == wanted["environment_variables"]
        and got.role == wanted["role"]
    )
    for field in ("handler", "runtime", "description", "memory_size", "timeout", "disk_size"):
        same = same and getattr(got, field) == wanted[field]
    return same and (wanted["cpu"] is None or got.cpu == wanted["cpu"])


def ensure_functions(
    plan: Deployment, conn: Connection, renew: frozenset[str] = frozenset()
) -> list[str]:
    """Create missing functions, update those that differ from the model or are named in
    `renew` (an update replaces their warm instances); returns changed."""
    from alibabacloud_fc20230330 import models as fc

    client = conn.fc()
    data = handlers_zip()
    code = fc.InputCodeLocation(zip_file=base64.b64encode(data).decode())
    changed = []
    for fn in plan.functions:
        settings = _function_settings(fn, code)
        try:
            got = client.get_function(fn.name, fc.GetFunctionRequest()).body
        except Exception as exc:
            if error_code(exc) != "FunctionNotFound":
                raise
            body = fc.CreateFunctionInput(function_name=fn.name, **settings)
            client.create_function(fc.CreateFunctionRequest(body=body))
            changed.append(fn.name)
            continue
        if fn.name not in renew and _unchanged(got, settings, code_checksum(data)):
            continue
        body = fc.UpdateFunctionInput(**settings)
        client.update_function(fn.name, fc.UpdateFunctionRequest(body=body))
        changed.append(fn.name)
    return changed


def ensure_trigger(plan: Deployment, conn: Connection) -> str:
    from alibabacloud_fc20230330 import models as fc

    client = conn.fc()
    trigger = plan.trigger
    try:
        got = client.get_trigger(trigger.function, trigger.name).body
    except Exception as exc:
        if error_code(exc) != "TriggerNotFound":
            raise
        body = fc.CreateTriggerInput(
            trigger_name=trigger.name,
            trigger_type=trigger.trigger_type,
            trigger_config=trigger.config_json,
            source_arn=trigger.source_arn,
            qualifier=trigger.qualifier,
            invocation_role=trigger.invocation_role_arn,
            description=trigger.description,
        )
        client.create_trigger(trigger.function, fc.CreateTriggerRequest(body=body))
        return trigger.name
    if (
        json.loads(got.trigger_config or "{}") == json.loads(trigger.config_json)
        and got.invocation_role == trigger.invocation_role_arn
        and got.description == trigger.description
    ):
        return trigger.name
    body = fc.UpdateTriggerInput(
        trigger_config=trigger.config_json,
        qualifier=trigger.qualifier,
        invocation_role=trigger.invocation_role_arn,
        description=trigger.description,
    )
    client.update_trigger(trigger.function, trigger.name, fc.UpdateTriggerRequest(body=body))
    return trigger.name


# --- CloudFlow -------------------------------------------------------------------------


def ensure_flows(plan: Deployment, conn: Connection) -> list[str]:
    from alibabacloud_fnf20190315 import models as fnf

    client = conn.fnf()
    for flow in plan.flows:
        try:
            got = client.describe_flow(fnf.DescribeFlowRequest(name=flow.name)).body
        except Exception as exc:
            if error_code(exc) != "FlowNotExists":
                raise
            client.create_flow(
                fnf.CreateFlowRequest(
                    name=flow.name,
                    definition=flow.definition,
                    description=flow.description,
                    type=flow.flow_type,
                    role_arn=flow.role_arn,
                )
            )
            continue
        if (got.definition, got.role_arn, got.description) == (
            flow.definition,
            flow.role_arn,
            flow.description,
        ):
            continue  # already what the model says
        client.update_flow(
            fnf.UpdateFlowRequest(
                name=flow.name,
                definition=flow.definition,
                description=flow.description,
                type=flow.flow_type,
                role_arn=flow.role_arn,
            )
        )
    return [flow.name for flow in plan.flows]


def provision(env, conn: Connection) -> dict:
    plan = local_deployment(env, conn)
    secrets = ensure_secrets(env, conn)  # first: a missing value stops before anything
    # a changed password must not wait for warm instances that cached the old one
    renew = frozenset({plan.function("unzip").name} if secrets else ())
    return {
        "secrets": secrets,
        "roles": ensure_roles(plan, conn),
        "buckets": ensure_buckets(plan, conn),
        "queues": ensure_queues(plan, conn),
        "functions": ensure_functions(plan, conn, renew),
        "trigger": ensure_trigger(plan, conn),
        "flows": ensure_flows(plan, conn),
    }
