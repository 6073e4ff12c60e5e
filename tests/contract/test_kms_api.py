"""localcloud's KMS secrets through the real alibabacloud-kms20160120 SDK: both signatures the
SDK sends (ACS3 by default, ACS4 with signature_version v4), versions and stages, the
documented name rules, and RAM enforced for role (STS) credentials."""

from __future__ import annotations

import uuid

import pytest
from alibabacloud_kms20160120 import models as m
from alibabacloud_kms20160120.client import Client
from alibabacloud_tea_openapi.models import Config
from hypothesis import given, settings
from hypothesis import strategies as st

from localcloud.kms.errors import InvalidParameter
from localcloud.kms.secrets import check_name
from localcloud.ram.remote import RemoteSessions
from ossbatch.config import KMS_SECRET_NAME
from tests.contract.ramkit import allow, make_role


def kms(cloud, *, key=None, secret=None, token=None, signature_version=None, region=None):
    return Client(
        Config(
            access_key_id=key or cloud.access_key_id,
            access_key_secret=secret or cloud.access_key_secret,
            security_token=token,
            endpoint=cloud.kms_endpoint.removeprefix("http://"),
            protocol="http",
            region_id=region or cloud.region,
            signature_version=signature_version,
        )
    )


def code_of(call) -> str:
    with pytest.raises(Exception) as info:
        call()
    return str(getattr(info.value, "code", ""))


def _name() -> str:
    return f"ossbatch/test-{uuid.uuid4().hex[:8]}"


def create(client, name: str, value: str, version: str = "v1"):
    return client.create_secret(
        m.CreateSecretRequest(secret_name=name, version_id=version, secret_data=value)
    )


def value_of(client, name: str, **kw) -> str:
    return client.get_secret_value(m.GetSecretValueRequest(secret_name=name, **kw)).body


@pytest.mark.parametrize("signature_version", [None, "v4"])
def test_a_secret_is_created_and_read_with_either_signature(localcloud, signature_version):
    client, name = kms(localcloud, signature_version=signature_version), _name()
    made = create(client, name, "p@ss word").body
    assert made.arn == f"acs:kms:{localcloud.region}:{localcloud.account_id}:secret/{name}"
    body = value_of(client, name)
    assert body.secret_data == "p@ss word" and body.secret_data_type == "text"
    assert body.version_id == "v1" and body.version_stages.version_stage == ["ACSCurrent"]
    assert value_of(client, made.arn).secret_data == "p@ss word"  # by ARN too


def test_a_new_value_becomes_current_and_the_old_one_previous(localcloud):
    client, name = kms(localcloud), _name()
    create(client, name, "one")
    client.put_secret_value(
        m.PutSecretValueRequest(secret_name=name, version_id="v2", secret_data="two")
    )
    assert value_of(client, name).secret_data == "two"
    assert value_of(client, name, version_stage="ACSPrevious").secret_data == "one"
    assert value_of(client, name, version_id="v1").secret_data == "one"
    again = m.PutSecretValueRequest(secret_name=name, version_id="v2", secret_data="x")
    assert code_of(lambda: client.put_secret_value(again)) == "Rejected.ResourceExist"


def test_missing_secrets_existing_names_and_other_accounts_are_refused_by_code(localcloud):
    client, name = kms(localcloud), _name()
    assert code_of(lambda: value_of(client, name)) == "Forbidden.ResourceNotFound"
    create(client, name, "v")
    assert code_of(lambda: create(client, name, "w")) == "Rejected.ResourceExist"
    elsewhere = f"acs:kms:{localcloud.region}:1999999999999999:secret/{name}"
    assert code_of(lambda: value_of(client, elsewhere)) == "Forbidden.ResourceNotFound"
    assert code_of(lambda: create(client, "acs/reserved", "v")) == "InvalidParameter"


def test_a_wrong_key_secret_or_region_fails_the_signature(localcloud):
    name = _name()
    create(kms(localcloud), name, "v")
    assert (
        code_of(lambda: value_of(kms(localcloud, secret="wrong"), name)) == "SignatureDoesNotMatch"
    )
    assert code_of(lambda: value_of(kms(localcloud, key="LTAIOTHER"), name)) == (
        "InvalidAccessKeyId.NotFound"
    )
    v4_elsewhere = kms(localcloud, signature_version="v4", region="cn-beijing")
    assert code_of(lambda: value_of(v4_elsewhere, name)) == "SignatureDoesNotMatch"


def _session(localcloud, *statements):
    arn = make_role(localcloud, f"kms-{uuid.uuid4().hex[:8]}", "fc.aliyuncs.com", *statements)
    return RemoteSessions(localcloud.admin_endpoint).assume_role(arn, "fc.aliyuncs.com")


def _role_client(localcloud, *statements):
    session = _session(localcloud, *statements)
    return kms(
        localcloud,
        key=session.access_key_id,
        secret=session.access_key_secret,
        token=session.security_token,
    )


def test_a_role_reads_exactly_the_secret_it_is_granted(localcloud):
    mine, other = _name(), _name()
    owner = kms(localcloud)
    create(owner, mine, "mine")
    create(owner, other, "other")
    arn = f"acs:kms:{localcloud.region}:{localcloud.account_id}:secret/{mine}"
    role = _role_client(localcloud, allow("kms:GetSecretValue", arn))
    assert value_of(role, mine).secret_data == "mine"
    with pytest.raises(Exception) as denied:
        value_of(role, other)
    assert denied.value.code == "Forbidden.NoPermission"
    assert "kms:GetSecretValue on resource acs:kms:" in denied.value.message
    assert other in denied.value.message
    # reading is not writing
    put = m.PutSecretValueRequest(secret_name=mine, version_id="v9", secret_data="x")
    assert code_of(lambda: role.put_secret_value(put)) == "Forbidden.NoPermission"


def test_a_role_without_any_kms_grant_is_forbidden(localcloud):
    name = _name()
    create(kms(localcloud), name, "v")
    session = _session(localcloud, allow("oss:GetObject", "acs:oss:*:*:b/*"))
    role = kms(
        localcloud,
        key=session.access_key_id,
        secret=session.access_key_secret,
        token=session.security_token,
    )
    assert code_of(lambda: value_of(role, name)) == "Forbidden.NoPermission"
    # the role's key without its token is refused before any policy is read
    tokenless = kms(localcloud, key=session.access_key_id, secret=session.access_key_secret)
    assert code_of(lambda: value_of(tokenless, name)) == "InvalidSecurityToken.Expired"


def test_the_admin_counters_count_every_request_by_action_and_the_denied_ones(localcloud):
    name = _name()
    owner = kms(localcloud)
    create(owner, name, "v")
    arn = f"acs:kms:{localcloud.region}:{localcloud.account_id}:secret/{name}"
    role = _role_client(localcloud, allow("kms:GetSecretValue", arn))
    before = localcloud.admin("GET", "/counters")["kms"]
    value_of(owner, name)
    value_of(role, name)
    put = m.PutSecretValueRequest(secret_name=name, version_id="v2", secret_data="x")
    assert code_of(lambda: role.put_secret_value(put)) == "Forbidden.NoPermission"
    after = localcloud.admin("GET", "/counters")["kms"]
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    assert {k: n for k, n in delta.items() if n} == {
        "GetSecretValue": 2,
        "PutSecretValue": 1,
        "PutSecretValue.denied": 1,
    }


NAME_CHARS = st.characters(codec="ascii", categories=("L", "N", "P", "S", "Z"))


@settings(max_examples=300, deadline=None)
@given(st.text(NAME_CHARS, min_size=0, max_size=200))
def test_localcloud_and_the_environment_schema_agree_on_secret_names(name):
    try:
        check_name(name)
        served = True
    except InvalidParameter:
        served = False
    assert served == bool(KMS_SECRET_NAME.fullmatch(name))
    if served:
        assert 1 <= len(name) <= 192 and not name.startswith("acs/")
