"""RAM 2015-05-01 API of localcloud through the real alibabacloud-ram20150501 SDK."""

from __future__ import annotations

import uuid

import pytest
from alibabacloud_ram20150501 import models as m
from alibabacloud_tea_openapi.exceptions import ClientException

from tests.contract.ramkit import allow, policy, ram_client, trust

ROTATE = "DeleteOldestNonDefaultVersionWhenLimitExceeded"


@pytest.fixture
def ram(localcloud):
    return ram_client(localcloud)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _code(call) -> str:
    with pytest.raises(ClientException) as info:
        call()
    return info.value.code


def test_create_role_answers_its_arn_with_the_name_lowercased(ram, localcloud):
    name = "Fc-" + uuid.uuid4().hex[:8].upper()
    role = ram.create_role(
        m.CreateRoleRequest(
            role_name=name, assume_role_policy_document=trust("fc.aliyuncs.com"), description="w"
        )
    ).body.role
    assert role.arn == f"acs:ram::{localcloud.account_id}:role/{name.lower()}"
    assert role.role_name == name
    got = ram.get_role(m.GetRoleRequest(role_name=name)).body.role
    assert got.assume_role_policy_document == trust("fc.aliyuncs.com")
    assert got.description == "w"


def test_role_errors_use_rams_codes(ram):
    name = _name("r")
    assert _code(lambda: ram.get_role(m.GetRoleRequest(role_name=name))) == "EntityNotExist.Role"
    ram.create_role(
        m.CreateRoleRequest(role_name=name, assume_role_policy_document=trust("fc.aliyuncs.com"))
    )
    again = m.CreateRoleRequest(
        role_name=name, assume_role_policy_document=trust("fc.aliyuncs.com")
    )
    assert _code(lambda: ram.create_role(again)) == "EntityAlreadyExists.Role"
    bad = m.CreateRoleRequest(role_name="has space", assume_role_policy_document=trust("x"))
    assert _code(lambda: ram.create_role(bad)) == "InvalidParameter.RoleName.InvalidChars"
    assert _code(lambda: ram.delete_role(m.DeleteRoleRequest(role_name=_name("no")))) == (
        "EntityNotExist.Role"
    )


def test_update_role_replaces_the_trust_policy(ram):
    name = _name("r")
    ram.create_role(
        m.CreateRoleRequest(role_name=name, assume_role_policy_document=trust("fc.aliyuncs.com"))
    )
    ram.update_role(
        m.UpdateRoleRequest(
            role_name=name, new_assume_role_policy_document=trust("fnf.aliyuncs.com")
        )
    )
    got = ram.get_role(m.GetRoleRequest(role_name=name)).body.role
    assert got.assume_role_policy_document == trust("fnf.aliyuncs.com")


def test_a_malformed_policy_document_is_refused_before_it_is_stored(ram):
    name = _name("p")
    bad = m.CreatePolicyRequest(policy_name=name, policy_document='{"Version": "2"}')
    assert _code(lambda: ram.create_policy(bad)) == "MalformedPolicyDocument"
    assert _code(
        lambda: ram.get_policy(m.GetPolicyRequest(policy_name=name, policy_type="Custom"))
    ) == ("EntityNotExist.Policy")


def test_a_condition_is_refused_as_unsupported_not_ignored(ram):
    doc = policy(
        {**allow("oss:GetObject", "*"), "Condition": {"IpAddress": {"acs:SourceIp": "1.2.3.4"}}}
    )
    request = m.CreatePolicyRequest(policy_name=_name("p"), policy_document=doc)
    assert _code(lambda: ram.create_policy(request)) == "NotSupported.PolicyElement"


def test_the_sixth_policy_version_fails_without_rotation_and_rotates_with_it(ram):
    name = _name("p")
    ram.create_policy(
        m.CreatePolicyRequest(policy_name=name, policy_document=policy(allow("oss:GetObject", "*")))
    )
    for i in range(4):
        version = ram.create_policy_version(
            m.CreatePolicyVersionRequest(
                policy_name=name,
                policy_document=policy(allow(f"oss:Get{i}", "*")),
                set_as_default=True,
            )
        ).body.policy_version
        assert version.version_id == f"v{i + 2}" and version.is_default_version
    sixth = m.CreatePolicyVersionRequest(
        policy_name=name, policy_document=policy(allow("oss:PutObject", "*")), set_as_default=True
    )
    assert _code(lambda: ram.create_policy_version(sixth)) == "LimitExceeded.Policy.Version"
    sixth.rotate_strategy = ROTATE
    assert ram.create_policy_version(sixth).body.policy_version.version_id == "v6"
    got = ram.get_policy(m.GetPolicyRequest(policy_name=name, policy_type="Custom")).body
    assert got.policy.default_version == "v6"
    assert got.default_policy_version.policy_document == policy(allow("oss:PutObject", "*"))


def test_attach_list_detach_and_the_delete_conflicts(ram):
    role, name = _name("r"), _name("p")
    ram.create_role(
        m.CreateRoleRequest(role_name=role, assume_role_policy_document=trust("fc.aliyuncs.com"))
    )
    ram.create_policy(
        m.CreatePolicyRequest(
            policy_name=name, policy_document=policy(allow("oss:GetObject", "*")), description="d"
        )
    )
    attach = m.AttachPolicyToRoleRequest(policy_type="Custom", policy_name=name, role_name=role)
    ram.attach_policy_to_role(attach)
    assert _code(lambda: ram.attach_policy_to_role(attach)) == "EntityAlreadyExists.Role.Policy"
    listed = ram.list_policies_for_role(m.ListPoliciesForRoleRequest(role_name=role)).body
    assert [(p.policy_name, p.policy_type, p.description) for p in listed.policies.policy] == [
        (name, "Custom", "d")
    ]
    assert _code(lambda: ram.delete_role(m.DeleteRoleRequest(role_name=role))) == (
        "DeleteConflict.Role.Policy"
    )
    assert _code(lambda: ram.delete_policy(m.DeletePolicyRequest(policy_name=name))) == (
        "DeleteConflict.Policy.Role"
    )
    detach = m.DetachPolicyFromRoleRequest(policy_type="Custom", policy_name=name, role_name=role)
    ram.detach_policy_from_role(detach)
    assert _code(lambda: ram.detach_policy_from_role(detach)) == "EntityNotExist.Role.Policy"
    ram.delete_role(m.DeleteRoleRequest(role_name=role))
    ram.delete_policy(m.DeletePolicyRequest(policy_name=name))
    assert _code(
        lambda: ram.get_policy(m.GetPolicyRequest(policy_name=name, policy_type="Custom"))
    ) == ("EntityNotExist.Policy")


def test_a_wrong_secret_is_refused(localcloud):
    wrong = ram_client(localcloud, secret="not-the-secret")
    assert _code(lambda: wrong.get_role(m.GetRoleRequest(role_name="x"))) == "SignatureDoesNotMatch"
    stranger = ram_client(localcloud, access_key_id="LTAIstranger")
    assert _code(lambda: stranger.get_role(m.GetRoleRequest(role_name="x"))) == (
        "InvalidAccessKeyId.NotFound"
    )


def test_roles_and_policies_survive_a_restart(localcloud_factory, tmp_path):
    data = tmp_path / "ram-restart"
    cloud = localcloud_factory(data_dir=data)
    ram = ram_client(cloud)
    ram.create_role(
        m.CreateRoleRequest(role_name="keep", assume_role_policy_document=trust("fnf.aliyuncs.com"))
    )
    ram.create_policy(
        m.CreatePolicyRequest(policy_name="keep", policy_document=policy(allow("fnf:*", "*")))
    )
    ram.attach_policy_to_role(
        m.AttachPolicyToRoleRequest(policy_type="Custom", policy_name="keep", role_name="keep")
    )
    cloud.stop()
    again = ram_client(localcloud_factory(data_dir=data))
    listed = again.list_policies_for_role(m.ListPoliciesForRoleRequest(role_name="keep")).body
    assert [p.policy_name for p in listed.policies.policy] == ["keep"]
