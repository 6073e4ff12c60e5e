"""ACS3-HMAC-SHA256 request signatures (the signature tea-openapi uses for FC 3.0).

Recomputed from the request as received: canonical request = method, raw path,
canonical query, the signed headers, the signed header names and the payload hash
(`x-acs-content-sha256`, which must match the body). A wrong secret, a wrong access
key id, a tampered body or a stale `x-acs-date` are all refused with FC's codes.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import time

from localcloud.acs3 import ALGORITHM, canonical_query, expected_signature

from .errors import FcError

__all__ = ["canonical_query", "expected_signature", "verify"]
MAX_SKEW_SECONDS = 15 * 60  # FC: a signature is only valid for 15 minutes


class AuthError(FcError):
    status = 403
    code = "AccessDenied"


class SignatureNotMatch(AuthError):
    code = "SignatureNotMatch"

    def __init__(self):
        super().__init__(
            "The request signature we calculated does not match the signature you provided. "
            "Check your access key and signing method."
        )


class InvalidAccessKeyId(AuthError):
    code = "InvalidAccessKeyID"

    def __init__(self, key_id: str):
        super().__init__(f"invalid access key ID '{key_id}'")


class MissingAuthorization(AuthError):
    code = "MissingRequiredHeader"
    status = 400


class RequestTimeTooSkewed(AuthError):
    code = "RequestTimeTooSkewed"


class InvalidSecurityToken(AuthError):
    code = "InvalidSecurityToken.Mismatch"


def parse_authorization(value: str) -> tuple[str, list[str], str]:
    """`ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex` -> parts."""
    if not value.startswith(ALGORITHM + " "):
        raise AuthError(f"Authorization must use {ALGORITHM}")
    fields = {}
    for part in value[len(ALGORITHM) + 1 :].split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            fields[key] = val
    try:
        return fields["Credential"], fields["SignedHeaders"].split(";"), fields["Signature"]
    except KeyError as exc:
        raise AuthError(f"Authorization lacks {exc.args[0]}") from None


def _parse_acs_date(value: str) -> float | None:
    try:
        return calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))
    except (TypeError, ValueError):
        return None


def verify(
    method: str,
    raw_path: str,
    query_string: str,
    headers,
    body: bytes,
    credentials: dict,
    now: float | None = None,
) -> None:
    """Raise an AuthError unless the request is signed with the configured key."""
    authorization = headers.get("authorization")
    if not authorization:
        raise MissingAuthorization("required HTTP header Authorization was not specified")
    key_id, signed, signature = parse_authorization(authorization)
    if not {"x-acs-date", "x-acs-content-sha256"} <= set(signed):
        raise AuthError("SignedHeaders must include x-acs-date and x-acs-content-sha256")
    if key_id != credentials["access_key_id"]:
        raise InvalidAccessKeyId(key_id)
    token = headers.get("x-acs-security-token")
    if token is not None and token != credentials.get("security_token"):
        raise InvalidSecurityToken("the security token does not match the configured one")
    signed_date = _parse_acs_date(headers.get("x-acs-date", ""))
    if (
        signed_date is None
        or abs((time.time() if now is None else now) - signed_date) > MAX_SKEW_SECONDS
    ):
        raise RequestTimeTooSkewed("x-acs-date is missing or more than 15 minutes off")
    payload_hash = headers.get("x-acs-content-sha256", "")
    if payload_hash != hashlib.sha256(body).hexdigest():
        raise SignatureNotMatch()
    want = expected_signature(
        method,
        raw_path,
        query_string,
        headers,
        signed,
        payload_hash,
        credentials["access_key_secret"],
    )
    if not hmac.compare_digest(want, signature):
        raise SignatureNotMatch()
