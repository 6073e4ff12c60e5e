"""Customer master keys in localcloud's KMS through the real alibabacloud-kms20160120 SDK:
CreateKey/DescribeKey/EnableKey/DisableKey, secrets encrypted with a key (EncryptionKeyId),
and RAM asking a role for kms:Decrypt on the key of a secret it reads (GetSecretValue API
reference) and kms:GenerateDataKey on the key of a secret it writes (CreateSecret API
reference). docs/localcloud-kms.md."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest
from alibabacloud_kms20160120 import models as m
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from localcloud.kms import errors
from localcloud.kms.keys import check_key_id, key_arn, key_id_of
from ossbatch.config import KmsPassword
from tests.contract.ramkit import allow
from tests.contract.test_kms_api import _name, _role_client, code_of, create, kms, value_of


def _new_key(client, description: str = "") -> m.CreateKeyResponseBodyKeyMetadata:
    return client.create_key(m.CreateKeyRequest(description=description)).body.key_metadata


def _secret_with_key(client, key_id: str, value: str = "s3cret") -> str:
    name = _name()
    client.create_secret(
        m.CreateSecretRequest(
            secret_name=name, version_id="v1", secret_data=value, encryption_key_id=key_id
        )
    )
    return name


def _refusal(call) -> tuple[str, int, str]:
    with pytest.raises(Exception) as info:
        call()
    exc = info.value
    return str(exc.code), int((exc.data or {}).get("statusCode", 0)), str(exc.message)


def _secret_arn(cloud, name: str) -> str:
    return f"acs:kms:{cloud.region}:{cloud.account_id}:secret/{name}"


@pytest.mark.parametrize("signature_version", [None, "v4"])
def test_create_key_makes_an_enabled_key_whose_id_kms_chooses(localcloud, signature_version):
    client = kms(localcloud, signature_version=signature_version)
    made = _new_key(client, "unzip password key")
    assert str(uuid.UUID(made.key_id)) == made.key_id  # a UUID, as in the API examples
    assert made.arn == key_arn(localcloud.region, localcloud.account_id, made.key_id)
    assert (made.key_state, made.key_usage, made.key_spec, made.origin) == (
        "Enabled",
        "ENCRYPT/DECRYPT",
        "Aliyun_AES_256",
        "Aliyun_KMS",
    )
    for named in (made.key_id, made.arn):
        described = client.describe_key(m.DescribeKeyRequest(key_id=named)).body.key_metadata
        assert (described.key_id, described.description) == (made.key_id, "unzip password key")
    assert _new_key(client).key_id != made.key_id


def test_unknown_keys_and_keys_of_other_accounts_are_not_found(localcloud):
    client = kms(localcloud)
    missing = str(uuid.uuid4())
    other = key_arn(localcloud.region, "1999999999999999", _new_key(client).key_id)
    for named in (missing, other):
        request = m.DescribeKeyRequest(key_id=named)
        code, status, _ = _refusal(lambda r=request: client.describe_key(r))
        assert (code, status) == ("Forbidden.KeyNotFound", 404)
    code, status, message = _refusal(lambda: _secret_with_key(client, missing))
    assert (code, status) == ("Forbidden.KeyNotFound", 404) and missing in message


def test_a_disabled_key_protects_no_new_secret_and_yields_none_it_protects(localcloud):
    client = kms(localcloud)
    key = _new_key(client).key_id
    name = _secret_with_key(client, key, "before")
    client.disable_key(m.DisableKeyRequest(key_id=key))
    state = client.describe_key(m.DescribeKeyRequest(key_id=key)).body.key_metadata.key_state
    assert state == "Disabled"
    # GenerateDataKey and Decrypt under a Disabled key: 409 Rejected.Disabled (doc 44211)
    assert _refusal(lambda: _secret_with_key(client, key))[:2] == ("Rejected.Disabled", 409)
    code, status, message = _refusal(lambda: value_of(client, name))
    assert (code, status) == ("Rejected.Disabled", 409) and key in message
    put = m.PutSecretValueRequest(secret_name=name, version_id="v2", secret_data="after")
    assert code_of(lambda: client.put_secret_value(put)) == "Rejected.Disabled"
    client.enable_key(m.EnableKeyRequest(key_id=key))
    assert value_of(client, name).secret_data == "before"


def test_with_disabled_key_reads_allowed_a_disabled_key_still_yields_its_secrets(
    localcloud_factory,
):
    cloud = localcloud_factory("--kms-disabled-key-reads", "allow")
    client = kms(cloud)
    key = _new_key(client).key_id
    name = _secret_with_key(client, key, "readable")
    client.disable_key(m.DisableKeyRequest(key_id=key))
    assert value_of(client, name).secret_data == "readable"
    # only the read is relaxed: no new secret under a Disabled key
    assert code_of(lambda: _secret_with_key(client, key)) == "Rejected.Disabled"


def test_a_role_needs_decrypt_on_the_key_of_a_secret_it_reads(localcloud):
    owner = kms(localcloud)
    key = _new_key(owner)
    name = _secret_with_key(owner, key.key_id, "encrypted value")
    secret = _secret_arn(localcloud, name)
    without = _role_client(localcloud, allow("kms:GetSecretValue", secret))
    code, status, message = _refusal(lambda: value_of(without, name))
    assert (code, status) == ("Forbidden.NoPermission", 403)
    assert f"kms:Decrypt on resource {key.arn}" in message, message
    granted = _role_client(
        localcloud, allow("kms:GetSecretValue", secret), allow("kms:Decrypt", key.arn)
    )
    assert value_of(granted, name).secret_data == "encrypted value"
    # Decrypt on the key is not GetSecretValue on the secret
    decrypt_only = _role_client(localcloud, allow("kms:Decrypt", key.arn))
    code, _, message = _refusal(lambda: value_of(decrypt_only, name))
    assert code == "Forbidden.NoPermission" and "kms:GetSecretValue" in message


def test_a_secret_under_the_service_key_needs_no_decrypt(localcloud):
    owner = kms(localcloud)
    name = _name()
    create(owner, name, "plain")
    role = _role_client(localcloud, allow("kms:GetSecretValue", _secret_arn(localcloud, name)))
    assert value_of(role, name).secret_data == "plain"


def test_a_role_needs_generate_data_key_on_the_key_of_a_secret_it_writes(localcloud):
    owner = kms(localcloud)
    key = _new_key(owner)
    name = _name()
    secrets = f"acs:kms:{localcloud.region}:{localcloud.account_id}:secret/*"
    writer = _role_client(localcloud, allow(["kms:CreateSecret", "kms:PutSecretValue"], secrets))
    code, _, message = _refusal(lambda: _secret_with_key(writer, key.key_id))
    assert code == "Forbidden.NoPermission" and f"kms:GenerateDataKey on resource {key.arn}" in (
        message
    )
    name = _secret_with_key(owner, key.key_id)
    put = m.PutSecretValueRequest(secret_name=name, version_id="v2", secret_data="x")
    assert code_of(lambda: writer.put_secret_value(put)) == "Forbidden.NoPermission"
    keyed = _role_client(
        localcloud,
        allow(["kms:CreateSecret", "kms:PutSecretValue"], secrets),
        allow("kms:GenerateDataKey", key.arn),
    )
    _secret_with_key(keyed, key.key_id)
    keyed.put_secret_value(put)


def test_key_actions_are_authorized_on_the_key_and_create_key_on_the_container(localcloud):
    key = _new_key(kms(localcloud))
    describer = _role_client(localcloud, allow("kms:DescribeKey", key.arn))
    request = m.DescribeKeyRequest(key_id=key.key_id)
    assert describer.describe_key(request).body.key_metadata.key_id == key.key_id
    code, _, message = _refusal(
        lambda: describer.disable_key(m.DisableKeyRequest(key_id=key.key_id))
    )
    assert code == "Forbidden.NoPermission" and "kms:DisableKey" in message
    code, _, message = _refusal(lambda: _new_key(describer))
    container = f"acs:kms:{localcloud.region}:{localcloud.account_id}:key"
    assert code == "Forbidden.NoPermission" and f"on resource {container}:" in message
    maker = _role_client(localcloud, allow("kms:CreateKey", container))
    assert _new_key(maker).key_state == "Enabled"


def test_only_the_default_symmetric_key_is_made(localcloud):
    client = kms(localcloud)
    for request in (
        m.CreateKeyRequest(key_spec="RSA_2048", key_usage="SIGN/VERIFY"),
        m.CreateKeyRequest(origin="EXTERNAL"),
        m.CreateKeyRequest(dkmsinstance_id="kst-local"),
    ):
        assert code_of(lambda r=request: client.create_key(r)) == "InvalidParameter"


def _seed(cloud, body) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{cloud.admin_endpoint}/kms/keys", method="POST", data=json.dumps(body).encode()
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_admin_control_seeds_a_key_under_the_id_the_environment_names(localcloud):
    key_id = f"key-lc{uuid.uuid4().hex[:12]}"
    status, answer = _seed(localcloud, {"key_id": key_id, "description": "from the cloud"})
    assert status == 200 and answer["created"] is True
    assert answer["KeyMetadata"]["Arn"].endswith(f":key/{key_id}")
    client = kms(localcloud)
    client.disable_key(m.DisableKeyRequest(key_id=key_id))
    status, again = _seed(localcloud, {"key_id": key_id})
    # idempotent: an existing key keeps its state (a user's DisableKey is not undone)
    assert status == 200 and again["created"] is False
    assert again["KeyMetadata"]["KeyState"] == "Disabled"
    assert _seed(localcloud, {"key_id": "alias/not-a-key-id"})[0] == 400


def test_keys_and_the_keys_of_secrets_survive_a_restart(localcloud_factory, tmp_path):
    data_dir = tmp_path / "kms-restart"
    cloud = localcloud_factory(data_dir=data_dir)
    client = kms(cloud)
    key = _new_key(client)
    name = _secret_with_key(client, key.key_id, "kept")
    client.disable_key(m.DisableKeyRequest(key_id=key.key_id))
    cloud.stop()
    again = kms(localcloud_factory(data_dir=data_dir))
    assert again.describe_key(
        m.DescribeKeyRequest(key_id=key.key_id)
    ).body.key_metadata.key_state == ("Disabled")
    assert code_of(lambda: value_of(again, name)) == "Rejected.Disabled"
    again.enable_key(m.EnableKeyRequest(key_id=key.key_id))
    assert value_of(again, name).secret_data == "kept"


REGION = st.from_regex(r"[a-z]{2}-[a-z]{3,10}(-[0-9])?", fullmatch=True)
ACCOUNT = st.from_regex(r"[0-9]{16}", fullmatch=True)
KEY_IDS = st.one_of(st.uuids().map(str), st.from_regex(r"key-[a-z0-9]{8,24}", fullmatch=True))


@settings(max_examples=200, deadline=None)
@given(REGION, ACCOUNT, KEY_IDS)
def test_a_key_is_found_by_its_id_or_its_arn(region, account, key_id):
    assert key_id_of(key_id, region, account) == key_id
    assert key_id_of(key_arn(region, account, key_id), region, account) == key_id


@settings(max_examples=200, deadline=None)
@given(REGION, ACCOUNT, ACCOUNT, KEY_IDS)
def test_a_key_arn_of_another_account_names_no_key_here(region, account, other, key_id):
    if other == account:
        return
    with pytest.raises(errors.KeyNotFound):
        key_id_of(key_arn(region, other, key_id), region, account)
    with pytest.raises(errors.KeyNotFound):
        key_id_of(key_arn(f"{region}x", account, key_id), region, account)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="ascii"), min_size=0, max_size=140))
def test_localcloud_and_the_environment_schema_agree_on_key_ids(key_id):
    try:
        check_key_id(key_id)
        local_ok = True
    except errors.InvalidParameter:
        local_ok = False
    try:
        KmsPassword(source="kms", secret_name="s", key_id=key_id)
        schema_ok = True
    except ValidationError:
        schema_ok = False
    assert local_ok == schema_ok, key_id


def test_describe_secret_names_the_key_that_protects_it_and_never_the_value(localcloud):
    client = kms(localcloud)
    key = _new_key(client).key_id
    keyed, plain = _secret_with_key(client, key, "hidden"), _name()
    create(client, plain, "hidden too")
    described = client.describe_secret(m.DescribeSecretRequest(secret_name=keyed)).body
    assert (described.secret_name, described.encryption_key_id) == (keyed, key)
    assert described.arn == _secret_arn(localcloud, keyed)
    assert (
        client.describe_secret(m.DescribeSecretRequest(secret_name=plain)).body.encryption_key_id
        is None
    )
    assert "hidden" not in json.dumps(described.to_map())
    # metadata needs kms:DescribeSecret only, not the key
    reader = _role_client(localcloud, allow("kms:DescribeSecret", _secret_arn(localcloud, keyed)))
    assert (
        reader.describe_secret(m.DescribeSecretRequest(secret_name=keyed)).body.secret_name == keyed
    )


def test_a_key_pending_deletion_protects_nothing_until_its_deletion_is_cancelled(localcloud):
    client = kms(localcloud)
    key = _new_key(client).key_id
    name = _secret_with_key(client, key, "kept")
    for days in (6, 367):
        schedule = m.ScheduleKeyDeletionRequest(key_id=key, pending_window_in_days=days)
        assert code_of(lambda r=schedule: client.schedule_key_deletion(r)) == "InvalidParameter"
    client.schedule_key_deletion(m.ScheduleKeyDeletionRequest(key_id=key, pending_window_in_days=7))
    meta = client.describe_key(m.DescribeKeyRequest(key_id=key)).body.key_metadata
    assert meta.key_state == "PendingDeletion" and meta.delete_date
    assert _refusal(lambda: value_of(client, name))[:2] == ("Rejected.PendingDeletion", 409)
    assert code_of(lambda: _secret_with_key(client, key)) == "Rejected.PendingDeletion"
    # doc 44211: EnableKey/DisableKey/ScheduleKeyDeletion of such a key: StateModifiedFailed
    enable = m.EnableKeyRequest(key_id=key)
    assert _refusal(lambda: client.enable_key(enable))[:2] == ("Rejected.StateModifiedFailed", 409)
    client.cancel_key_deletion(m.CancelKeyDeletionRequest(key_id=key))
    # CancelKeyDeletion's page: the key returns to the Enabled state
    meta = client.describe_key(m.DescribeKeyRequest(key_id=key)).body.key_metadata
    assert (meta.key_state, meta.delete_date) == ("Enabled", None)
    assert value_of(client, name).secret_data == "kept"
    cancel = m.CancelKeyDeletionRequest(key_id=key)
    assert code_of(lambda: client.cancel_key_deletion(cancel)) == "Rejected.StateModifiedFailed"
