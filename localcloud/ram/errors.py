"""RAM 2015-05-01 API errors, one class per wire error (codes and statuses from the RAM API
reference pages: CreateRole, DeleteRole, CreatePolicyVersion, DeletePolicy, AttachPolicyToRole),
rendered once by api.py as `{"RequestId", "HostId", "Code", "Message"}`."""

from __future__ import annotations

from localcloud.popapi import PopError


class RamError(PopError):
    status = 400
    code = "InvalidParameter"


class InvalidParameter(RamError):
    status, code = 400, "InvalidParameter"


class MissingParameter(RamError):
    status, code = 400, "MissingParameter"

    def __init__(self, name: str):
        super().__init__(f"the required parameter {name} is missing")
        self.code = f"MissingParameter.{name}"


class InvalidName(RamError):
    def __init__(self, field: str, reason: str, message: str):
        super().__init__(message)
        self.code = f"InvalidParameter.{field}.{reason}"


class MalformedPolicyDocument(RamError):
    status, code = 400, "MalformedPolicyDocument"


class UnsupportedPolicyElement(RamError):
    # localcloud refuses what it cannot evaluate instead of silently ignoring it
    status, code = 400, "NotSupported.PolicyElement"


class EntityNotExistRole(RamError):
    status, code = 404, "EntityNotExist.Role"

    def __init__(self, name: str):
        super().__init__(f"The role does not exist: {name}. Create it with CreateRole.")


class EntityAlreadyExistsRole(RamError):
    status, code = 409, "EntityAlreadyExists.Role"

    def __init__(self, name: str):
        super().__init__(f"The role already exists: {name}. Use UpdateRole to change it.")


class DeleteConflictRolePolicy(RamError):
    status, code = 409, "DeleteConflict.Role.Policy"

    def __init__(self, name: str):
        super().__init__(
            f"The role cannot have any attached policies when you delete it: {name}; "
            "detach them with DetachPolicyFromRole first."
        )


class EntityNotExistPolicy(RamError):
    status, code = 404, "EntityNotExist.Policy"

    def __init__(self, name: str):
        super().__init__(f"The policy does not exist: {name}. Create it with CreatePolicy.")


class EntityAlreadyExistsPolicy(RamError):
    status, code = 409, "EntityAlreadyExists.Policy"

    def __init__(self, name: str):
        super().__init__(
            f"The policy already exists: {name}. Use CreatePolicyVersion to change it."
        )


class LimitExceededPolicyVersion(RamError):
    status, code = 409, "LimitExceeded.Policy.Version"

    def __init__(self, name: str, limit: int):
        super().__init__(
            f"The maximum number of policy versions is exceeded: policy {name} already has "
            f"{limit}; pass RotateStrategy=DeleteOldestNonDefaultVersionWhenLimitExceeded or "
            "delete a version first."
        )


class DeleteConflictPolicyRole(RamError):
    status, code = 409, "DeleteConflict.Policy.Role"

    def __init__(self, name: str):
        super().__init__(
            f"The policy cannot be attached to any role when you delete it: {name}; detach it "
            "first (or pass CascadingDelete=true)."
        )


class DeleteConflictPolicyVersion(RamError):
    status, code = 409, "DeleteConflict.Policy.Version"

    def __init__(self, name: str):
        super().__init__(
            f"The policy cannot have any version except the default version: {name}; delete "
            "the other versions first (or pass CascadingDelete=true)."
        )


class EntityAlreadyExistsRolePolicy(RamError):
    status, code = 409, "EntityAlreadyExists.Role.Policy"

    def __init__(self, role: str, policy: str):
        super().__init__(f"The policy {policy} is already attached to the role {role}.")


class EntityNotExistRolePolicy(RamError):
    status, code = 404, "EntityNotExist.Role.Policy"

    def __init__(self, role: str, policy: str):
        super().__init__(f"The policy {policy} is not attached to the role {role}.")


class InvalidAction(RamError):
    status, code = 400, "InvalidAction.NotFound"


class InvalidAccessKeyId(RamError):
    status, code = 404, "InvalidAccessKeyId.NotFound"


class SignatureDoesNotMatch(RamError):
    status, code = 400, "SignatureDoesNotMatch"


class InvalidSecurityToken(RamError):
    status, code = 400, "InvalidSecurityToken.Expired"


class NoPermission(RamError):
    # RAM's own denial (a role session calling the RAM API without a grant)
    status, code = 403, "NoPermission"
