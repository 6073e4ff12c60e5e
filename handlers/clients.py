"""OSS clients built per invocation from the FC context credentials (STS token) and environment.

Nothing is cached at module level: FC reuses instances and rotates credentials, so
every invocation builds its own ``OssClients`` (auth, connection pool, buckets).
"""

from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass

import oss2

from .errors import AccessDenied, DestinationBucketMissing, SourceBucketMissing, SystemicError
from .integrity import checked
from .retrying import RetryPolicy
from .transport import LeanSession

# OSS codes that mean "these credentials / this role cannot work here": never per item.
ACCESS_CODES = frozenset(
    {
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "SecurityTokenExpired",
        "InvalidSecurityToken",
        "InvalidSecurityToken.Expired",
    }
)


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    access_key_secret: str
    security_token: str | None = None


def credentials_from_context(context) -> Credentials:
    """FC 3.0 puts the function role's STS credentials on ``context.credentials``."""
    creds = getattr(context, "credentials", None)
    if isinstance(creds, dict):
        get = creds.get
    else:

        def get(name):
            return getattr(creds, name, None)

    key_id, secret = get("access_key_id"), get("access_key_secret")
    if not key_id or not secret:
        raise AccessDenied(
            "context.credentials has no access_key_id/access_key_secret: "
            "give the function a role (FC 3.0 passes its STS credentials in the context)"
        )
    return Credentials(key_id, secret, get("security_token") or None)


def oss_endpoint(endpoint: str | None = None) -> str:
    """The event's endpoint, already filled from settings.oss_endpoint when it named none."""
    if not endpoint:
        raise SystemicError(
            "no OSS endpoint: set OSSBATCH_OSS_ENDPOINT on the function (or oss_endpoint in the event)"
        )
    return endpoint


class OssClients:
    """One auth + one connection pool per invocation, one oss2.Bucket per bucket name."""

    def __init__(
        self,
        endpoint: str,
        credentials: Credentials,
        *,
        pool_size: int = 32,
        retry: RetryPolicy | None = None,
        timeout_seconds: float = 30.0,
    ):
        self.endpoint = endpoint
        self.credentials = credentials  # page worker processes build their own clients
        if credentials.security_token:
            self.auth = oss2.StsAuth(
                credentials.access_key_id,
                credentials.access_key_secret,
                credentials.security_token,
            )
        else:
            self.auth = oss2.Auth(credentials.access_key_id, credentials.access_key_secret)
        # oss2's default pool is 10 connections: size it to the concurrency we run at
        self.session = LeanSession(pool_size=max(pool_size, 10))
        self.retry = retry or RetryPolicy()
        self.timeout_seconds = timeout_seconds
        self._buckets: dict[str, oss2.Bucket] = {}
        self._lock = threading.Lock()
        self._checked: dict[str, bool] = {}

    @classmethod
    def from_context(cls, context, endpoint: str | None = None, **kwargs) -> OssClients:
        return cls(oss_endpoint(endpoint), credentials_from_context(context), **kwargs)

    def bucket(self, name: str) -> oss2.Bucket:
        with self._lock:
            bucket = self._buckets.get(name)
            if bucket is None:
                bucket = oss2.Bucket(
                    self.auth,
                    self.endpoint,
                    name,
                    session=self.session,
                    connect_timeout=self.timeout_seconds,
                    # uploads check CRC-64 with fastcrc instead (handlers/integrity.py): oss2's
                    # builds a 256-entry table in Python per request (~0.5 ms, a tiny PUT's cost)
                    enable_crc=False,
                )
                self._buckets[name] = bucket
            return bucket

    def bucket_exists(self, name: str) -> bool:
        """Cheap existence probe (one listing with max_keys=1), remembered for this invocation."""
        with self._lock:
            if name in self._checked:
                return self._checked[name]
        try:
            self.retry.call(self.bucket(name).list_objects, max_keys=1)
            exists = True
        except oss2.exceptions.NoSuchBucket:
            exists = False
        except oss2.exceptions.OssError as exc:
            raise_if_systemic(exc, name, role="source")
            raise
        with self._lock:
            self._checked[name] = exists
        return exists


def put_verified(
    bucket,
    retry: RetryPolicy,
    key: str,
    data: bytes,
    headers: dict | None = None,
    *,
    refuse_damaged: bool = False,
):
    """PutObject with retries, checked by the CRC-64 OSS returns: how every handler writes a
    whole object. A damaged body is sent again (UploadDamaged is transient).

    ``refuse_damaged`` sends Content-MD5 instead, so OSS refuses a damaged body
    (InvalidDigest, sent again) and stores nothing: for an exclusive create
    (x-oss-forbid-overwrite), whose retry could not replace its own damaged object."""
    if refuse_damaged:
        digest = base64.b64encode(hashlib.md5(data).digest()).decode()
        return retry.call(bucket.put_object, key, data, {**(headers or {}), "Content-MD5": digest})
    put = checked(lambda: bucket.put_object(key, data, headers=headers), key, data, "PutObject")
    return retry.call(put)


def drained(call):
    """oss2 leaves CopyObject/UploadPartCopy/CompleteMultipartUpload XML bodies unread, so urllib3 cannot reuse the
    connection (a new TCP/TLS handshake per copy); reading the body returns it to the pool."""

    def run(*args, **kwargs):
        result = call(*args, **kwargs)
        result.resp.read()
        return result

    return run


def error_code(exc: BaseException) -> str:
    if isinstance(exc, oss2.exceptions.RequestError):
        return "ConnectionError"
    if isinstance(exc, oss2.exceptions.OssError):
        if exc.code:
            return exc.code
        return {404: "NotFound", 403: "Forbidden", 412: "PreconditionFailed"}.get(
            exc.status, f"HTTP{exc.status}"
        )
    return type(exc).__name__


def error_message(exc: BaseException) -> str:
    if isinstance(exc, oss2.exceptions.OssError):
        if exc.message:
            return exc.message
        body = exc.body
        return body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    return str(exc) or type(exc).__name__


def denied_bucket(exc: oss2.exceptions.OssError) -> str | None:
    """The bucket of AuthResource (acs:oss:<region>:<account>:<bucket>[/<key>]) of a RAM denial."""
    resource = exc.details.get("AuthResource") or ""
    parts = resource.split(":", 4)  # a key may hold colons; the bucket cannot
    if len(parts) < 5 or parts[:2] != ["acs", "oss"]:
        return None
    return parts[4].split("/", 1)[0] or None


def raise_if_systemic(exc: BaseException, bucket_name: str, *, role: str) -> None:
    """Turn credential and missing-bucket errors into errors the flow catches by name."""
    if not isinstance(exc, oss2.exceptions.OssError):
        return
    code = error_code(exc)
    if code in ACCESS_CODES:
        action, resource = exc.details.get("AuthAction"), exc.details.get("AuthResource")
        # OSS names the refused action and resource in the error body: quote them, they
        # say which grant is missing better than the bucket the request was sent to
        what = f" for {action} on {resource}" if action and resource else ""
        raise AccessDenied(
            f"OSS refused {code} on bucket {bucket_name!r} ({role}){what}: "
            f"check the function role's policy and credentials (request {exc.request_id})"
        ) from exc
    if code == "NoSuchBucket":
        cls = SourceBucketMissing if role == "source" else DestinationBucketMissing
        raise cls(
            f"{role} bucket {bucket_name!r} does not exist: create it or fix the job input"
        ) from exc
