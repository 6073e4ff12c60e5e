"""The ACS3-HMAC-SHA256 request signature that tea-openapi (darabonba) sends for FC 3.0 and
RAM: canonical request = method, raw path, canonical query, the signed headers, the signed
header names and the payload hash; signed as `ACS3-HMAC-SHA256\\n<sha256 hex of it>`."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl, quote

ALGORITHM = "ACS3-HMAC-SHA256"


def canonical_query(query_string: str) -> str:
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in sorted(pairs))


def split_authorization(value: str) -> dict[str, str] | None:
    """`ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex` -> its fields."""
    if not value.startswith(ALGORITHM + " "):
        return None
    fields = {}
    for part in value[len(ALGORITHM) + 1 :].split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            fields[key] = val
    return fields


def canonical_request(
    method: str, raw_path: str, query_string: str, headers, signed: list[str], payload_hash: str
) -> str:
    """The request as both ACS3 and ACS4 (localcloud/acs4.py) sign it."""
    canonical_headers = "".join(
        f"{name}:{','.join(sorted(v.strip() for v in headers.getlist(name)))}\n" for name in signed
    )
    return "\n".join(
        [
            method,
            raw_path or "/",
            canonical_query(query_string),
            canonical_headers,
            ";".join(signed),
            payload_hash,
        ]
    )


def expected_signature(
    method: str,
    raw_path: str,
    query_string: str,
    headers,
    signed: list[str],
    payload_hash: str,
    secret: str,
) -> str:
    canonical = canonical_request(method, raw_path, query_string, headers, signed, payload_hash)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    string_to_sign = f"{ALGORITHM}\n{digest}"
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
