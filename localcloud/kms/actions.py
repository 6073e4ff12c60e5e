"""What each KMS action needs from RAM and what it does: `plan` turns one request's
parameters into the (action, resource) pairs the caller must be allowed and the work to run
once they are (api.py authorizes in between). Semantics live in secrets.py and keys.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from localcloud.ram import kms_access

from . import errors
from .keys import KEY_SPEC, KEY_USAGE, ORIGIN
from .secrets import SecretValue, SecretVersion
from .service import KmsService


@dataclass(frozen=True)
class Plan:
    needs: list[tuple[str, str]]  # (RAM action, resource) the caller must be allowed
    run: Callable[[], dict]  # the answer's fields besides RequestId


def required_param(p: dict, name: str) -> str:
    value = p.get(name)
    if not value:
        raise errors.MissingParameter(name)
    return value


def _value(version: SecretVersion) -> dict:
    return {
        "SecretName": version.name,
        "SecretType": "Generic",
        "SecretData": version.data,
        "SecretDataType": version.data_type,
        "VersionId": version.version_id,
        "VersionStages": {"VersionStage": list(version.stages)},
        "CreateTime": version.create_time,
        "AutomaticRotation": "Disabled",
    }


def plan(kms: KmsService, action: str, p: dict) -> Plan:
    if action in kms_access.SECRET_ACTIONS:
        return _secret_plan(kms, action, p)
    if action in kms_access.KEY_ACTIONS:
        return _key_plan(kms, action, p)
    raise errors.InvalidAction(f"the action {action!r} is not supported by localcloud's KMS")


def _secret_plan(kms: KmsService, action: str, p: dict) -> Plan:
    name = kms.secrets.name_of(required_param(p, "SecretName"))
    if action == "CreateSecret":
        given = p.get("EncryptionKeyId")
        key_id = kms.keys.id_of(given) if given else None
    else:
        key_id = kms.secrets.key_of(name)
    key_arn = kms.keys.arn(key_id) if key_id else None
    needs = kms_access.required(action, kms.secrets.arn(name), key_arn)
    if action == "DescribeSecret":
        return Plan(needs, lambda: kms.secrets.describe(name))
    runs = {"CreateSecret": _create_secret, "PutSecretValue": _put_value, "GetSecretValue": _get}
    return Plan(needs, lambda: runs[action](kms, name, key_id, p))


def _create_secret(kms: KmsService, name: str, key_id: str | None, p: dict) -> dict:
    if p.get("SecretType", "Generic") != "Generic":
        raise errors.InvalidParameter("localcloud's KMS holds Generic secrets only")
    if key_id is not None:  # GenerateDataKey under the key: it must exist and be Enabled
        kms.keys.require_enabled(key_id, "encrypt the secret")
    value = SecretValue(
        required_param(p, "VersionId"),
        required_param(p, "SecretData"),
        p.get("SecretDataType", "text"),
    )
    kms.secrets.create(name, value, p.get("Description", ""), key_id)
    return {
        "Arn": kms.secrets.arn(name),
        "SecretName": name,
        "SecretType": "Generic",
        "VersionId": value.version_id,
        "AutomaticRotation": "Disabled",
    }


def _put_value(kms: KmsService, name: str, key_id: str | None, p: dict) -> dict:
    if key_id is not None:
        kms.keys.require_enabled(key_id, "encrypt the new value")
    version = kms.secrets.put_value(
        name,
        required_param(p, "VersionId"),
        required_param(p, "SecretData"),
        p.get("SecretDataType", "text"),
    )
    return {
        "SecretName": name,
        "VersionId": version.version_id,
        "VersionStages": {"VersionStage": list(version.stages)},
    }


def _get(kms: KmsService, name: str, key_id: str | None, p: dict) -> dict:
    version = kms.secrets.value(name, p.get("VersionStage") or None, p.get("VersionId") or None)
    # the docs do not say what a secret whose key is Disabled answers; Decrypt under such a
    # key is 409 Rejected.Disabled (document_detail/44211), so by default so is the read
    if key_id is not None and kms.disabled_key_reads == "refuse":
        kms.keys.require_enabled(key_id, "decrypt the secret")
    return _value(version)


def _key_plan(kms: KmsService, action: str, p: dict) -> Plan:
    if action == "CreateKey":
        container = kms_access.key_container(kms.region, kms.account_id)
        return Plan(kms_access.key_required(action, container), lambda: _create_key(kms, p))
    key_id = kms.keys.id_of(required_param(p, "KeyId"))
    needs = kms_access.key_required(action, kms.keys.arn(key_id))
    if action == "DescribeKey":
        return Plan(needs, lambda: {"KeyMetadata": kms.keys.metadata(kms.keys.describe(key_id))})
    return Plan(needs, lambda: _change_state(kms, action, key_id, p))


def _change_state(kms: KmsService, action: str, key_id: str, p: dict) -> dict:
    if action == "ScheduleKeyDeletion":
        kms.keys.schedule_deletion(key_id, str(required_param(p, "PendingWindowInDays")))
    elif action == "CancelKeyDeletion":
        kms.keys.cancel_deletion(key_id)
    else:
        kms.keys.set_enabled(key_id, action == "EnableKey")
    return {}  # these answer only the RequestId


def _create_key(kms: KmsService, p: dict) -> dict:
    # the default symmetric key is all ossbatch needs; say so rather than pretend to be others
    for name, only in (("KeySpec", KEY_SPEC), ("KeyUsage", KEY_USAGE), ("Origin", ORIGIN)):
        if p.get(name, only) != only:
            raise errors.InvalidParameter(
                f"localcloud's KMS makes {name} {only} keys only, not {p[name]!r}"
            )
    if p.get("DKMSInstanceId"):
        raise errors.InvalidParameter("localcloud's KMS has no KMS instances (DKMSInstanceId)")
    return {"KeyMetadata": kms.keys.metadata(kms.keys.create(p.get("Description", "")))}
