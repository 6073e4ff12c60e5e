"""The ACS4-HMAC-SHA256 request signature that alibabacloud-gateway-pop (the KMS 2016-01-20
SDK's gateway) sends: the canonical request of ACS3 (localcloud/acs3.py), hashed and signed
with a key derived from the secret, the date, the region and the product, like SigV4:

    key = HMAC(HMAC(HMAC(HMAC("aliyun_v4" + secret, yyyymmdd), region), product), "aliyun_v4_request")
    Authorization: ACS4-HMAC-SHA256 Credential=<ak>/<yyyymmdd>/<region>/<product>/aliyun_v4_request,
                   SignedHeaders=<a;b>,Signature=<hex>
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from localcloud.acs3 import canonical_request

ALGORITHM = "ACS4-HMAC-SHA256"
SIGN_PREFIX = "aliyun_v4"


@dataclass(frozen=True)
class Acs4Authorization:
    access_key_id: str
    date: str  # yyyymmdd
    region: str
    product: str
    signed_headers: list[str]
    signature: str


def parse_authorization(value: str) -> Acs4Authorization | None:
    """The fields of an ACS4 Authorization header, None when it is not one."""
    if not value.startswith(ALGORITHM + " "):
        return None
    fields = {}
    for part in value[len(ALGORITHM) + 1 :].split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            fields[key] = val
    scope = fields.get("Credential", "").split("/")
    if len(scope) != 5 or scope[4] != f"{SIGN_PREFIX}_request" or not fields.get("Signature"):
        return None
    return Acs4Authorization(
        access_key_id=scope[0],
        date=scope[1],
        region=scope[2],
        product=scope[3],
        signed_headers=fields.get("SignedHeaders", "").split(";"),
        signature=fields["Signature"],
    )


def signing_key(secret: str, date: str, region: str, product: str) -> bytes:
    key = hmac.new(f"{SIGN_PREFIX}{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, product, f"{SIGN_PREFIX}_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def expected_signature(
    auth: Acs4Authorization,
    method: str,
    raw_path: str,
    query_string: str,
    headers,
    payload_hash: str,
    secret: str,
) -> str:
    canonical = canonical_request(
        method, raw_path, query_string, headers, auth.signed_headers, payload_hash
    )
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    string_to_sign = f"{ALGORITHM}\n{digest}"
    key = signing_key(secret, auth.date, auth.region, auth.product)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
