"""The Alibaba Cloud RPC signature (SignatureVersion 1.0, HMAC-SHA1) that
alibabacloud-fnf20190315 sends: every query and form parameter except Signature, sorted,
percent-encoded (RFC 3986), signed as `METHOD&%2F&<encoded canonical query>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote


def _encode(text: str) -> str:
    return quote(text, safe="~", encoding="utf-8")


def rpc_signature(params: dict[str, str], method: str, secret: str) -> str:
    canonical = "&".join(
        f"{_encode(key)}={_encode(params[key])}" for key in sorted(params) if key != "Signature"
    )
    string_to_sign = f"{method.upper()}&%2F&{_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify(params: dict[str, str], method: str, secret: str) -> bool:
    expected = rpc_signature(params, method, secret)
    return hmac.compare_digest(expected, params.get("Signature", ""))
