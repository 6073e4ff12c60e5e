"""Role sessions: trust is checked, credentials expire, and an expired or token-less role key
is refused by OSS's authenticator before any authorization happens."""

from __future__ import annotations

import json

import oss2
import pytest

from localcloud.oss import errors
from localcloud.oss.auth import Authenticator, Credentials
from localcloud.ram import AssumeRoleError, RamService
from localcloud.ram.oss_access import RoleAwareAuthenticator

ACCOUNT = "1000000000000001"
ARN = f"acs:ram::{ACCOUNT}:role/worker"


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "1",
            "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": [service]}}
            ],
        }
    )


@pytest.fixture
def ram(tmp_path):
    clock = Clock()
    service = RamService(tmp_path, ACCOUNT, clock=clock)
    service.create_role("Worker", _trust("fc.aliyuncs.com"))
    service.clock = clock
    yield service
    service.close()


def test_a_role_is_assumed_only_by_the_service_its_trust_policy_names(ram):
    session = ram.sessions.assume_role(ARN, "fc.aliyuncs.com")
    assert session.access_key_id.startswith("STS.") and session.role_arn == ARN
    with pytest.raises(AssumeRoleError, match="does not trust fnf.aliyuncs.com"):
        ram.sessions.assume_role(ARN, "fnf.aliyuncs.com")
    with pytest.raises(AssumeRoleError, match="does not exist"):
        ram.sessions.assume_role(f"acs:ram::{ACCOUNT}:role/nobody", "fc.aliyuncs.com")
    with pytest.raises(AssumeRoleError, match="belongs to account"):
        ram.sessions.assume_role("acs:ram::999:role/worker", "fc.aliyuncs.com")


def test_credentials_are_reused_until_shortly_before_they_expire(ram):
    first = ram.sessions.assume_role(ARN, "fc.aliyuncs.com")
    ram.clock.now += 3600 - 301
    assert ram.sessions.assume_role(ARN, "fc.aliyuncs.com") == first
    ram.clock.now += 2
    renewed = ram.sessions.assume_role(ARN, "fc.aliyuncs.com")
    assert renewed.access_key_id != first.access_key_id
    assert not ram.sessions.expired(first)
    ram.clock.now += 300
    assert ram.sessions.expired(first) and not ram.sessions.expired(renewed)


def test_deleting_the_role_revokes_its_sessions(ram):
    session = ram.sessions.assume_role(ARN, "fc.aliyuncs.com")
    ram.delete_role("Worker")
    assert ram.sessions.lookup(session.access_key_id) is None


def _headers(auth, bucket: str, key: str) -> dict:
    request = oss2.http.Request("HEAD", f"http://127.0.0.1/{bucket}/{key}")
    auth._sign_request(request, bucket, key)
    return {k.lower(): v for k, v in request.headers.items() if v is not None}


def test_oss_refuses_an_expired_role_key_and_one_without_its_token(ram):
    owner = Authenticator(Credentials("OWNER", "secret", "", "cn-hangzhou"))
    auth = RoleAwareAuthenticator(owner, ram.sessions, ACCOUNT)
    session = ram.sessions.assume_role(ARN, "fc.aliyuncs.com")
    signed = oss2.StsAuth(session.access_key_id, session.access_key_secret, session.security_token)
    assert auth.authenticate("HEAD", "b", "k", {}, _headers(signed, "b", "k")) == session
    no_token = oss2.Auth(session.access_key_id, session.access_key_secret)
    with pytest.raises(errors.InvalidSecurityToken, match="security token"):
        auth.authenticate("HEAD", "b", "k", {}, _headers(no_token, "b", "k"))
    ram.clock.now += 3601
    with pytest.raises(errors.InvalidSecurityToken, match="expired"):
        auth.authenticate("HEAD", "b", "k", {}, _headers(signed, "b", "k"))


def test_denials_are_counted_by_role_and_action_for_the_admin_counters(ram):
    ram.create_policy(
        "read", json.dumps(
            {"Version": "1", "Statement": [
                {"Effect": "Allow", "Action": "oss:GetObject", "Resource": "acs:oss:*:*:b/*"}
            ]}
        )
    )  # fmt: skip
    ram.attach_policy_to_role("Custom", "read", "Worker")
    session = ram.sessions.assume_role(ARN, "fc.aliyuncs.com")
    assert ram.sessions.check(session, [("oss:GetObject", "acs:oss:*:1:b/k")]) is None
    for _ in range(2):
        assert ram.sessions.check(session, [("oss:DeleteObject", "acs:oss:*:1:b/k")])
    assert ram.sessions.check(session, [("kms:GetSecretValue", "acs:kms:r:1:secret/s")])
    assert ram.counters_snapshot() == {
        "denied": {"worker": {"oss:DeleteObject": 2, "kms:GetSecretValue": 1}}
    }
    ram.reset_counters()
    assert ram.counters_snapshot() == {"denied": {}}
