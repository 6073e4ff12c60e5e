"""KMS 2016-01-20 API errors, one class per wire error, rendered once by api.py as
`{"RequestId", "HostId", "Code", "Message"}` (the POP JSON error the SDK reads `Code` from)."""

from __future__ import annotations

from localcloud.popapi import PopError


class KmsError(PopError):
    status = 400
    code = "InvalidParameter"


class InvalidParameter(KmsError):
    status, code = 400, "InvalidParameter"


class MissingParameter(KmsError):
    status, code = 400, "MissingParameter"

    def __init__(self, name: str):
        super().__init__(f"the required parameter {name} is missing")
        self.code = f"MissingParameter.{name}"


class ResourceNotFound(KmsError):
    # what GetSecretValue answers for a secret that does not exist
    status, code = 404, "Forbidden.ResourceNotFound"


class ResourceExists(KmsError):
    status, code = 400, "Rejected.ResourceExist"


class NoPermission(KmsError):
    # a role session whose policies do not allow the action on the secret
    status, code = 403, "Forbidden.NoPermission"


class InvalidAction(KmsError):
    status, code = 404, "InvalidAction.NotFound"


class InvalidAccessKeyId(KmsError):
    status, code = 404, "InvalidAccessKeyId.NotFound"


class SignatureDoesNotMatch(KmsError):
    status, code = 400, "SignatureDoesNotMatch"


class IncompleteSignature(KmsError):
    status, code = 400, "IncompleteSignature"


class InvalidSecurityToken(KmsError):
    status, code = 400, "InvalidSecurityToken.Expired"


class KeyNotFound(KmsError):
    # a KeyId (or EncryptionKeyId) that names no key of this account and region
    status, code = 404, "Forbidden.KeyNotFound"


class KeyDisabled(KmsError):
    # "Impact of CMK status on API operations" (document_detail/44211): only Enabled keys
    # encrypt or decrypt; every refusal there is HTTP 409
    status, code = 409, "Rejected.Disabled"


class KeyPendingDeletion(KmsError):
    status, code = 409, "Rejected.PendingDeletion"


class StateModifiedFailed(KmsError):
    status, code = 409, "Rejected.StateModifiedFailed"
