"""Request authentication: OSS signature v1 (HMAC-SHA1), v2 (auth_v2), v4 (OSS4-HMAC-SHA256),
presigned URLs, STS token.

Mirrors oss2's signers (oss2/auth.py) from the server side; a request signed by unmodified oss2
with the configured key verifies, anything else gets the OSS error OSS would answer.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from . import auth_v2, errors
from .names import is_uint

# query parameters that are part of the v1 canonical resource (oss2.auth.ProviderAuth)
V1_SUBRESOURCES = frozenset(
    """response-content-type response-content-language response-cache-control logging
    response-content-encoding acl uploadId uploads partNumber group link delete website location
    objectInfo objectMeta response-expires response-content-disposition cors lifecycle restore qos
    referer stat bucketInfo append position security-token live comp status vod startTime endTime
    x-oss-process symlink callback callback-var tagging encryption versions versioning versionId
    policy requestPayment x-oss-traffic-limit qosInfo asyncFetch x-oss-request-payer sequential
    inventory inventoryId continuation-token worm wormId wormExtend replication
    replicationLocation replicationProgress transferAcceleration cname metaQuery
    x-oss-ac-source-ip x-oss-ac-subnet-mask x-oss-ac-vpc-id x-oss-ac-forward-allow resourceGroup
    style styleName x-oss-async-process regionList x-oss-write-get-object-response
    bucketArchiveDirectRead httpsConfig redundancyTransition x-oss-target-redundancy-type
    x-oss-redundancy-transition-taskid accessPoint accessPointPolicy publicAccessBlock
    x-oss-access-point-name requesterQosInfo qosRequester resourcePoolInfo resourcePool
    resourcePoolBuckets""".split()
)
V4_DEFAULT_SIGNED = ("content-type", "content-md5")
MAX_SKEW_SECONDS = 15 * 60
_V4_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-~.")


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    access_key_secret: str
    security_token: str = ""
    region: str = "cn-hangzhou"


def _v4_encode(text: str, keep_slash: bool) -> str:
    out = []
    for b in text.encode("utf-8"):
        if b in _V4_SAFE or (keep_slash and b == 0x2F):
            out.append(chr(b))
        else:
            out.append(f"%{b:02X}")
    return "".join(out)


def _v1_resource(bucket: str, key: str, query: dict[str, str], extra_skip=()) -> str:
    resource = f"/{bucket}/{key}" if bucket else "/"
    subs = sorted((k, v) for k, v in query.items() if k in V1_SUBRESOURCES and k not in extra_skip)
    if subs:
        resource += "?" + "&".join(f"{k}={v}" if v else k for k, v in subs)
    return resource


def _oss_headers_v1(headers: dict[str, str]) -> str:
    oss = sorted((k, v) for k, v in headers.items() if k.startswith("x-oss-"))
    return "".join(f"{k}:{v}\n" for k, v in oss)


class Authenticator:
    """Verifies a request's signature against the one configured key (and optional STS token)."""

    def __init__(self, creds: Credentials, clock=time.time):
        self.creds = creds
        self.clock = clock
        self._secret = creds.access_key_secret.encode()
        self._v4_keys: dict[tuple[str, str], bytes] = {}
        self._dates: dict[str, float] = {}

    def authenticate(
        self, method: str, bucket: str, key: str, query: dict[str, str], headers: dict[str, str]
    ) -> bool:
        """True for a valid signed request, False for an anonymous one; raises on a bad signature."""
        authz = headers.get("authorization")
        if authz:
            if authz.startswith("OSS "):
                self._check_v1_header(authz, method, bucket, key, query, headers)
            elif authz.startswith("OSS4-HMAC-SHA256 "):
                self._check_v4_header(authz, method, bucket, key, query, headers)
            elif authz.startswith("OSS2 "):
                self._check_v2_header(authz, method, bucket, key, query, headers)
            else:
                raise errors.InvalidArgument(
                    "Authorization header is invalid: unknown signature scheme."
                )
            self._check_token(headers.get("x-oss-security-token"))
            return True
        if "Signature" in query and "OSSAccessKeyId" in query:
            self._check_v1_url(method, bucket, key, query, headers)
            self._check_token(query.get("security-token"))
            return True
        if query.get("x-oss-signature-version") == "OSS2":
            self._check_v2_url(method, bucket, key, query, headers)
            self._check_token(query.get("security-token"))
            return True
        if query.get("x-oss-signature-version") == "OSS4-HMAC-SHA256":
            self._check_v4_url(method, bucket, key, query, headers)
            self._check_token(query.get("x-oss-security-token"))
            return True
        return False

    # --- helpers -----------------------------------------------------------------------
    def _check_key_id(self, key_id: str) -> None:
        if key_id != self.creds.access_key_id:
            raise errors.InvalidAccessKeyId(OSSAccessKeyId=key_id)

    def _check_token(self, token: str | None) -> None:
        # no token: signed with the long-term key; a token must be the configured STS token
        if token is not None and token != self.creds.security_token:
            raise errors.InvalidSecurityToken()

    def _check_v1_header(self, authz, method, bucket, key, query, headers) -> None:
        try:
            key_id, signature = authz[4:].rsplit(":", 1)
        except ValueError:
            raise errors.InvalidArgument("Authorization header is invalid.") from None
        self._check_key_id(key_id.strip())
        date = headers.get("x-oss-date") or headers.get("date", "")
        self._check_skew(date)
        to_sign = "\n".join(
            [
                method,
                headers.get("content-md5", ""),
                headers.get("content-type", ""),
                date,
                _oss_headers_v1(headers) + _v1_resource(bucket, key, query),
            ]
        )
        self._compare_v1(to_sign, signature.strip())

    def _check_v1_url(self, method, bucket, key, query, headers) -> None:
        self._check_key_id(query["OSSAccessKeyId"])
        expires = query.get("Expires", "")
        if not is_uint(expires):
            raise errors.InvalidArgument("Expires is not a valid number.")
        if int(expires) < self.clock():
            raise errors.AccessDenied("Request has expired.", Expires=expires)
        to_sign = "\n".join(
            [
                method,
                headers.get("content-md5", ""),
                headers.get("content-type", ""),
                expires,
                _oss_headers_v1(headers) + _v1_resource(bucket, key, query),
            ]
        )
        self._compare_v1(to_sign, query["Signature"])

    def _compare_v1(self, to_sign: str, signature: str) -> None:
        expected = base64.b64encode(
            hmac.new(self._secret, to_sign.encode("utf-8"), hashlib.sha1).digest()
        ).decode()
        if not hmac.compare_digest(expected, signature):
            raise errors.SignatureDoesNotMatch(
                StringToSign=to_sign, OSSAccessKeyId=self.creds.access_key_id
            )

    def _check_v2_header(self, authz, method, bucket, key, query, headers) -> None:
        key_id, additional, signature = auth_v2.parse_header(authz)
        self._check_key_id(key_id)
        # x-oss-date, when sent, is the request time OSS checks; Date stays in the signature
        self._check_skew(headers.get("x-oss-date") or headers.get("date", ""))
        to_sign = auth_v2.string_to_sign(
            method, bucket, key, query, headers, additional, headers.get("date", "")
        )
        self._compare_v2(to_sign, signature)

    def _check_v2_url(self, method, bucket, key, query, headers) -> None:
        for name in auth_v2.URL_PARAMS:
            if name not in query:
                raise errors.AccessDenied(f"A V2 signed URL needs the {name} parameter.")
        self._check_key_id(query["x-oss-access-key-id"])
        expires = query["x-oss-expires"]
        if not is_uint(expires):
            raise errors.InvalidArgument("x-oss-expires is not a valid number.")
        if int(expires) < self.clock():
            raise errors.AccessDenied("Request has expired.", Expires=expires)
        additional = [h for h in query.get("x-oss-additional-headers", "").split(";") if h]
        signed_query = {k: v for k, v in query.items() if k != "x-oss-signature"}
        to_sign = auth_v2.string_to_sign(
            method, bucket, key, signed_query, headers, additional, expires
        )
        self._compare_v2(to_sign, query["x-oss-signature"])

    def _compare_v2(self, to_sign: str, signature: str) -> None:
        if not hmac.compare_digest(auth_v2.signature(self._secret, to_sign), signature):
            raise errors.SignatureDoesNotMatch(
                StringToSign=to_sign, OSSAccessKeyId=self.creds.access_key_id
            )

    def _check_skew(self, date: str) -> None:
        if not date:
            raise errors.AccessDenied("Missing Date header.")
        when = self._dates.get(date)
        if when is None:
            when = self._parse_date(date)
            if len(self._dates) > 256:  # clients send the same Date for a whole second
                self._dates.clear()
            self._dates[date] = when
        if abs(when - self.clock()) > MAX_SKEW_SECONDS:
            raise errors.RequestTimeTooSkewed(RequestTime=date)

    @staticmethod
    def _parse_date(date: str) -> float:
        try:
            when = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            when = _parse_iso_basic(date)
            if when is None:
                raise errors.AccessDenied(f"Invalid Date header: {date!r}.") from None
        return when

    def _check_v4_header(self, authz, method, bucket, key, query, headers) -> None:
        fields = {}
        for part in authz[len("OSS4-HMAC-SHA256 ") :].split(","):
            name, _, value = part.strip().partition("=")
            fields[name] = value
        credential = fields.get("Credential", "")
        signature = fields.get("Signature", "")
        additional = [h for h in fields.get("AdditionalHeaders", "").split(";") if h]
        date_time = headers.get("x-oss-date", "")
        self._check_skew(date_time)
        self._verify_v4(
            method,
            bucket,
            key,
            query,
            headers,
            credential,
            signature,
            additional,
            date_time,
            headers.get("x-oss-content-sha256", "UNSIGNED-PAYLOAD"),
        )

    def _check_v4_url(self, method, bucket, key, query, headers) -> None:
        date_time = query.get("x-oss-date", "")
        expires = query.get("x-oss-expires", "")
        when = _parse_iso_basic(date_time)
        if when is None or not is_uint(expires):
            raise errors.InvalidArgument("x-oss-date or x-oss-expires is invalid.")
        if when + int(expires) < self.clock():
            raise errors.AccessDenied("Request has expired.")
        additional = [h for h in query.get("x-oss-additional-headers", "").split(";") if h]
        signed_query = {k: v for k, v in query.items() if k != "x-oss-signature"}
        self._verify_v4(
            method,
            bucket,
            key,
            signed_query,
            headers,
            query.get("x-oss-credential", ""),
            query.get("x-oss-signature", ""),
            additional,
            date_time,
            "UNSIGNED-PAYLOAD",
        )

    def _verify_v4(
        self,
        method,
        bucket,
        key,
        query,
        headers,
        credential,
        signature,
        additional,
        date_time,
        payload_hash,
    ) -> None:
        parts = credential.split("/")
        if len(parts) != 5 or parts[3] != "oss" or parts[4] != "aliyun_v4_request":
            raise errors.InvalidArgument(f"Invalid credential in Authorization: {credential!r}.")
        key_id, date, region = parts[0], parts[1], parts[2]
        self._check_key_id(key_id)
        if region != self.creds.region:
            # OSS's own message (oss2's test_sign_v4_no_region checks it); the hint follows
            raise errors.InvalidArgument(
                "The signing region in credential is invalid.",
                Hint=f"this localcloud serves {self.creds.region!r}: pass region= to oss2.Bucket",
            )
        uri = _v4_encode(f"/{bucket}/{key}" if bucket else "/", True)
        canon_query = "&".join(
            f"{k}={v}" if v else k
            for k, v in sorted(
                (_v4_encode(k, False), _v4_encode(v, False)) for k, v in query.items()
            )
        )
        wanted = set(additional)
        signed = sorted(
            (k, v)
            for k, v in headers.items()
            if k.startswith("x-oss-") or k in V4_DEFAULT_SIGNED or k in wanted
        )
        canon_headers = "".join(f"{k}:{v}\n" for k, v in signed)
        canonical = "\n".join(
            [method, uri, canon_query, canon_headers, ";".join(sorted(additional)), payload_hash]
        )
        scope = f"{date}/{region}/oss/aliyun_v4_request"
        to_sign = "\n".join(
            [
                "OSS4-HMAC-SHA256",
                date_time,
                scope,
                hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
            ]
        )
        expected = hmac.new(
            self._v4_signing_key(date, region), to_sign.encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise errors.SignatureDoesNotMatch(CanonicalRequest=canonical, StringToSign=to_sign)

    def _v4_signing_key(self, date: str, region: str) -> bytes:
        cached = self._v4_keys.get((date, region))
        if cached is None:
            k = hmac.new(b"aliyun_v4" + self._secret, date.encode(), hashlib.sha256).digest()
            k = hmac.new(k, region.encode(), hashlib.sha256).digest()
            k = hmac.new(k, b"oss", hashlib.sha256).digest()
            cached = hmac.new(k, b"aliyun_v4_request", hashlib.sha256).digest()
            self._v4_keys[(date, region)] = cached
        return cached


def _parse_iso_basic(value: str) -> float | None:
    """20240101T000000Z (x-oss-date of v4) as a Unix time."""
    try:
        return calendar.timegm(time.strptime(value, "%Y%m%dT%H%M%SZ"))
    except (ValueError, OverflowError):
        return None
