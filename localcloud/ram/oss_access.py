"""OSS and RAM: which RAM action(s) and resource(s) each OSS API needs, and the authenticator
that lets `STS.` keys of role sessions in (owner keys keep going to oss/auth.py as before).

Mapping from the OSS docs' "RAM Policy" action list: CopyObject and UploadPartCopy need
oss:GetObject on the source and oss:PutObject on the destination; HeadObject and
GetObjectMeta need oss:GetObject; ListObjectsV2 needs oss:ListObjects; multipart upload
steps need oss:PutObject (Abort and ListParts have their own actions); an `x-oss-tagging`
header also needs oss:PutObjectTagging, an `x-oss-object-acl` header oss:PutObjectAcl.
Resources: `acs:oss:*:<uid>:<bucket>/<key>` for objects, `acs:oss:*:<uid>:<bucket>` for
bucket-level APIs, `acs:oss:*:<uid>:*` for ListBuckets.
"""

from __future__ import annotations

from urllib.parse import unquote

from localcloud.oss import auth_v2, errors
from localcloud.oss.auth import Authenticator, Credentials

from .sessions import RoleSession, SessionIssuer

# OSS API -> RAM action on the object
OBJECT_ACTIONS = {
    "GetObject": "oss:GetObject",
    "HeadObject": "oss:GetObject",
    "GetObjectMeta": "oss:GetObject",
    "PutObject": "oss:PutObject",
    "AppendObject": "oss:PutObject",
    "PostObject": "oss:PutObject",
    "InitiateMultipartUpload": "oss:PutObject",
    "UploadPart": "oss:PutObject",
    "CompleteMultipartUpload": "oss:PutObject",
    "AbortMultipartUpload": "oss:AbortMultipartUpload",
    "ListParts": "oss:ListParts",
    "DeleteObject": "oss:DeleteObject",
    "RestoreObject": "oss:RestoreObject",
    "GetObjectAcl": "oss:GetObjectAcl",
    "PutObjectAcl": "oss:PutObjectAcl",
    "GetObjectTagging": "oss:GetObjectTagging",
    "PutObjectTagging": "oss:PutObjectTagging",
    "DeleteObjectTagging": "oss:DeleteObjectTagging",
    "PutSymlink": "oss:PutObject",
    "GetSymlink": "oss:GetObject",
}
# OSS API -> RAM action on the bucket
BUCKET_ACTIONS = {
    "ListObjects": "oss:ListObjects",
    "ListObjectsV2": "oss:ListObjects",
    "ListObjectVersions": "oss:ListObjectVersions",
    "ListMultipartUploads": "oss:ListMultipartUploads",
    "PutBucket": "oss:PutBucket",
    "DeleteBucket": "oss:DeleteBucket",
    "GetBucketInfo": "oss:GetBucketInfo",
    "HeadBucket": "oss:GetBucketInfo",
    "GetBucketLocation": "oss:GetBucketLocation",
    "GetBucketStat": "oss:GetBucketStat",
    "GetBucketAcl": "oss:GetBucketAcl",
    "PutBucketAcl": "oss:PutBucketAcl",
    "GetBucketVersioning": "oss:GetBucketVersioning",
    "PutBucketVersioning": "oss:PutBucketVersioning",
    "PutBucketInventory": "oss:PutBucketInventory",
    "GetBucketInventory": "oss:GetBucketInventory",
    # ListBucketInventory page: "you must have the oss:GetBucketInventory permission"
    "ListBucketInventory": "oss:GetBucketInventory",
    "DeleteBucketInventory": "oss:DeleteBucketInventory",
}
# with ?versionId the OSS docs name the version's own action
VERSION_ACTIONS = {
    "oss:GetObject": "oss:GetObjectVersion",
    "oss:DeleteObject": "oss:DeleteObjectVersion",
    "oss:GetObjectAcl": "oss:GetObjectVersionAcl",
    "oss:PutObjectAcl": "oss:PutObjectVersionAcl",
    "oss:GetObjectTagging": "oss:GetObjectVersionTagging",
    "oss:PutObjectTagging": "oss:PutObjectVersionTagging",
    "oss:DeleteObjectTagging": "oss:DeleteObjectVersionTagging",
    "oss:RestoreObject": "oss:RestoreObjectVersion",
}
_COPIES = ("CopyObject", "UploadPartCopy")


def object_arn(account_id: str, bucket: str, key: str) -> str:
    return f"acs:oss:*:{account_id}:{bucket}/{key}"


def _copy_source(headers: dict) -> tuple[str, str, bool]:
    raw, _, query = headers.get("x-oss-copy-source", "").partition("?")
    bucket, _, key = unquote(raw).lstrip("/").partition("/")
    return bucket, key, "versionId=" in query


_WRITES = ("PutObject", "CopyObject", "InitiateMultipartUpload")
_HEADER_GRANTS = ("x-oss-tagging", "x-oss-object-acl")


def required(
    op: str, bucket: str, key: str, headers: dict, account_id: str, query: dict | None = None
) -> list[tuple[str, str]]:
    """Every (RAM action, resource ARN) the request needs; all must be allowed."""
    action = OBJECT_ACTIONS.get(op)
    versioned = bool(query) and "versionId" in query
    if action is not None and not versioned and not any(h in headers for h in _HEADER_GRANTS):
        return [(action, f"acs:oss:*:{account_id}:{bucket}/{key}")]  # the common case, fast
    if op == "ListBuckets":
        return [("oss:ListBuckets", f"acs:oss:*:{account_id}:*")]
    if op in BUCKET_ACTIONS:
        return [(BUCKET_ACTIONS[op], f"acs:oss:*:{account_id}:{bucket}")]
    if op == "DeleteMultipleObjects":
        # the keys are in the body, read after authorization: require the whole bucket (stricter)
        return [("oss:DeleteObject", object_arn(account_id, bucket, "*"))]
    target = object_arn(account_id, bucket, key)
    if op in _COPIES:
        source_bucket, source_key, source_version = _copy_source(headers)
        read = "oss:GetObjectVersion" if source_version else "oss:GetObject"
        needs = [
            (read, object_arn(account_id, source_bucket, source_key)),
            ("oss:PutObject", target),
        ]
    else:
        action = action or f"oss:{op}"
        needs = [(VERSION_ACTIONS.get(action, action) if versioned else action, target)]
    if "x-oss-tagging" in headers and op in _WRITES:
        needs.append(("oss:PutObjectTagging", target))
    if "x-oss-object-acl" in headers and op in _WRITES:
        needs.append(("oss:PutObjectAcl", target))
    return needs


def _key_id(query: dict, headers: dict) -> str:
    authz = headers.get("authorization", "")
    if authz.startswith("OSS "):
        return authz[4:].rsplit(":", 1)[0].strip()
    if authz.startswith("OSS4-HMAC-SHA256 "):
        credential = authz.partition("Credential=")[2]
        return credential.split("/", 1)[0]
    if authz.startswith("OSS2 "):
        try:
            return auth_v2.parse_header(authz)[0]
        except errors.OssError:
            return ""  # the owner's authenticator answers the malformed header
    return (
        query.get("OSSAccessKeyId")
        or query.get("x-oss-access-key-id")
        or query.get("x-oss-credential", "").split("/", 1)[0]
    )


def _token(query: dict, headers: dict) -> str | None:
    return (
        headers.get("x-oss-security-token")
        or query.get("security-token")
        or query.get("x-oss-security-token")
    )


class RoleAwareAuthenticator:
    """oss/auth.py's Authenticator for the owner, one per role session for `STS.` keys.

    `authenticate` answers True (owner), the RoleSession (role), or False (anonymous).
    """

    def __init__(self, owner: Authenticator, sessions: SessionIssuer, account_id: str):
        self.owner = owner
        self.creds = owner.creds  # PostObject's form check reads the owner's key
        self.sessions = sessions
        self.account_id = account_id
        self._per_session: dict[str, Authenticator] = {}

    def authenticate(self, method, bucket, key, query, headers) -> bool | RoleSession:
        key_id = _key_id(query, headers)
        session = self.sessions.lookup(key_id) if key_id.startswith("STS.") else None
        if session is None:
            return self.owner.authenticate(method, bucket, key, query, headers)
        if _token(query, headers) != session.security_token:
            raise errors.InvalidSecurityToken(
                "The security token you provided is invalid: role credentials need the "
                "x-oss-security-token they were issued with."
            )
        if self.sessions.expired(session):
            raise errors.InvalidSecurityToken(
                f"The security token you provided has expired ({session.expiration_iso})."
            )
        checker = self._per_session.get(key_id)
        if checker is None:
            checker = Authenticator(
                Credentials(
                    session.access_key_id,
                    session.access_key_secret,
                    session.security_token,
                    self.owner.creds.region,
                ),
                self.owner.clock,
            )
            if len(self._per_session) > 1024:
                self._per_session.clear()
            self._per_session[key_id] = checker
        checker.authenticate(method, bucket, key, query, headers)
        return session

    def authorize(self, req, op: str, session: RoleSession) -> None:
        """Raise OSS's AccessDenied unless the role may do everything the request needs."""
        needs = required(op, req.bucket, req.key, req.headers, self.account_id, req.query)
        denial = self.sessions.check(session, needs)
        if denial is None:
            return
        raise errors.AccessDenied(
            f"You have no right to access this object because of RAM policy: "
            f"{denial.describe(session)}.",
            AuthAction=denial.action,
            AuthResource=denial.resource,
            NoPermissionType="ExplicitDeny" if denial.explicit else "ImplicitDeny",
            PolicyType="AccountLevelIdentityBasedPolicy",
            AuthPrincipalType="AssumedRoleUser",
            AuthPrincipalDisplayName=session.role_arn,
        )
