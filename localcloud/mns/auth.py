"""MNS request signatures: `Authorization: MNS <AccessKeyId>:<Signature>` where the
signature is base64(HMAC-SHA1(secret, METHOD\\nContent-MD5\\nContent-Type\\nDate\\n
<x-mns-* headers, sorted, "k:v\\n">resource)) and the resource is the request URI as sent."""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import time

from .errors import (
    AuthError,
    InvalidAccessKeyId,
    InvalidAuthorizationHeader,
    InvalidDateHeader,
    InvalidDigest,
    MissingAuthorizationHeader,
    MissingDateHeader,
    SignatureDoesNotMatch,
    TimeExpired,
)

MAX_SKEW_SECONDS = 15 * 60  # MNS: a request expires 15 minutes after its Date


def string_to_sign(method: str, headers, resource: str) -> str:
    mns_headers = "".join(
        f"{k}:{headers[k]}\n"
        for k in sorted({k.lower() for k in headers.keys()})
        if k.startswith("x-mns-")
    )
    return (
        f"{method}\n{headers.get('content-md5', '')}\n{headers.get('content-type', '')}\n"
        f"{headers.get('date', '')}\n{mns_headers}{resource}"
    )


def sign(secret: str, text: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(
    method: str, resource: str, headers, body: bytes, credentials: dict, now: float | None = None
) -> None:
    authorization = headers.get("authorization")
    if not authorization:
        raise MissingAuthorizationHeader("Authorization header is required.")
    scheme, _, rest = authorization.partition(" ")
    key_id, sep, signature = rest.rpartition(":")
    if scheme != "MNS" or not sep or not key_id or not signature:
        raise InvalidAuthorizationHeader("The Authorization header format is invalid.")
    if key_id != credentials["access_key_id"]:
        raise InvalidAccessKeyId(key_id)
    token = headers.get("security-token")
    if token is not None and token != credentials.get("security_token", ""):
        raise AuthError("The security token you provided does not match the configured one.")
    date = headers.get("date")
    if not date:
        raise MissingDateHeader("Date header is required.")
    try:
        signed_at = email.utils.parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError, IndexError):
        raise InvalidDateHeader("The Date header format is invalid.") from None
    if abs((time.time() if now is None else now) - signed_at) > MAX_SKEW_SECONDS:
        raise TimeExpired("The http request you sent is expired.")
    content_md5 = headers.get("content-md5")
    if body and content_md5 is not None:
        # the SDK sends base64 of the hex MD5 (not of the raw digest); accept both spellings
        hex_md5 = hashlib.md5(body).hexdigest()
        accepted = {
            base64.b64encode(hex_md5.encode()).decode(),
            base64.b64encode(bytes.fromhex(hex_md5)).decode(),
        }
        if content_md5 not in accepted:
            raise InvalidDigest("The Content-MD5 you specified is invalid.")
    expected = sign(credentials["access_key_secret"], string_to_sign(method, headers, resource))
    if not hmac.compare_digest(expected, signature):
        raise SignatureDoesNotMatch()
