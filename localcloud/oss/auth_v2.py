"""OSS signature V2 (oss2.AuthV2): HMAC-SHA256 over every query parameter and the named
additional headers, in an `Authorization: OSS2 ...` header or an `x-oss-signature-version=OSS2`
URL. Mirrors oss2's signer from the server side; auth.Authenticator dispatches here."""

from __future__ import annotations

import base64
import hashlib
import hmac

from . import errors

_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-~.")
URL_PARAMS = ("x-oss-expires", "x-oss-access-key-id", "x-oss-signature")


def uri_encode(text: str) -> str:
    """Every byte outside A-Z a-z 0-9 _-~. is %XX, '/' included (oss2.auth.v2_uri_encode)."""
    return "".join(chr(b) if b in _SAFE else f"%{b:02X}" for b in text.encode("utf-8"))


def parse_header(authz: str) -> tuple[str, list[str], str]:
    """`OSS2 AccessKeyId:ID,AdditionalHeaders:a;b,Signature:SIG` -> (id, headers, signature)."""
    fields = {}
    for part in authz[len("OSS2 ") :].split(","):
        name, sep, value = part.strip().partition(":")
        if not sep:
            raise errors.InvalidArgument(f"Authorization header is invalid: {part!r}.")
        fields[name] = value
    if "AccessKeyId" not in fields or "Signature" not in fields:
        raise errors.InvalidArgument("Authorization header is invalid: AccessKeyId and Signature.")
    additional = [h.lower() for h in fields.get("AdditionalHeaders", "").split(";") if h]
    return fields["AccessKeyId"], additional, fields["Signature"]


def string_to_sign(
    method: str,
    bucket: str,
    key: str,
    query: dict[str, str],
    headers: dict[str, str],
    additional: list[str],
    date: str,
) -> str:
    wanted = set(additional)
    signed = sorted((k, v) for k, v in headers.items() if k.startswith("x-oss-") or k in wanted)
    resource = uri_encode(f"/{bucket}/{key}" if bucket else "/")
    params = sorted((uri_encode(k), uri_encode(v)) for k, v in query.items())
    if params:
        resource += "?" + "&".join(f"{k}={v}" if v else k for k, v in params)
    return "\n".join(
        [
            method,
            headers.get("content-md5", ""),
            headers.get("content-type", ""),
            date,
            "".join(f"{k}:{v}\n" for k, v in signed) + ";".join(sorted(additional)),
            resource,
        ]
    )


def signature(secret: bytes, to_sign: str) -> str:
    return base64.b64encode(
        hmac.new(secret, to_sign.encode("utf-8"), hashlib.sha256).digest()
    ).decode()
