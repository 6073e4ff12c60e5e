"""The KMS 2016-01-20 RPC API over HTTP, as alibabacloud-kms20160120 sends it: POST / with
the action in `x-acs-action`, parameters in the query (SecretData in the form body), signed
with ACS3-HMAC-SHA256 (the SDK's default, localcloud/acs3.py) or, with
`Config(signature_version="v4")`, ACS4-HMAC-SHA256 (localcloud/acs4.py); JSON answers.
What each action needs and does: actions.py; semantics: secrets.py, keys.py.

Role (STS) credentials are authorized per request against localcloud's RAM
(localcloud/ram/kms_access.py), for every (action, resource) the request needs, e.g.
kms:Decrypt on the key of a secret GetSecretValue reads; a denial is KMS's 403
Forbidden.NoPermission naming the first action and resource refused.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from localcloud import acs3, acs4
from localcloud.popapi import error_response

from . import actions, errors
from .service import KmsService

MAX_SKEW_SECONDS = 15 * 60
PRODUCT = "Kms"


@dataclass(frozen=True)
class Acs3Authorization:
    access_key_id: str
    signed_headers: list[str]
    signature: str


def _signed_request(value: str) -> Acs3Authorization | acs4.Acs4Authorization:
    if value.startswith(acs4.ALGORITHM + " "):
        parsed = acs4.parse_authorization(value)
        if parsed is not None:
            return parsed
    fields = acs3.split_authorization(value) or {}
    if {"Credential", "SignedHeaders", "Signature"} <= set(fields):
        return Acs3Authorization(
            fields["Credential"], fields["SignedHeaders"].split(";"), fields["Signature"]
        )
    raise errors.IncompleteSignature(
        "the request must be signed with ACS3-HMAC-SHA256 or ACS4-HMAC-SHA256 "
        "(alibabacloud-kms20160120)"
    )


def _check_date(value: str) -> None:
    try:
        signed_at = calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        raise errors.InvalidParameter("x-acs-date is missing or malformed") from None
    if abs(time.time() - signed_at) > MAX_SKEW_SECONDS:
        raise errors.InvalidParameter("x-acs-date is more than 15 minutes off")


class KmsApi:
    def __init__(self, kms: KmsService, owner: dict, ram=None):
        self.kms = kms
        self.owner = owner
        self.ram = ram  # localcloud's RamService: sessions of role credentials

    async def handle(self, request: Request) -> JSONResponse:
        request_id = str(uuid.uuid4()).upper()
        try:
            body = await request.body()
            params = {**dict(request.query_params), **dict(parse_qsl(body.decode("utf-8")))}
            action = request.headers.get("x-acs-action") or params.get("Action", "")
            self.kms.count(action or "(none)")  # every request, answered or refused
            session = self.authenticate(request, body)
            planned = await run_in_threadpool(actions.plan, self.kms, action, params)
            if session is not None:
                self.authorize(session, action, planned.needs)
            result = await run_in_threadpool(planned.run)
        except errors.KmsError as exc:
            return error_response(exc, request, request_id)
        return JSONResponse({**result, "RequestId": request_id})

    def authorize(self, session, action: str, needs: list[tuple[str, str]]) -> None:
        denial = self.ram.sessions.check(session, needs)
        if denial is not None:
            self.kms.count(action, denied=True)
            raise errors.NoPermission(
                f"This operation is forbidden by permission system. {denial.describe(session)}"
            )

    def authenticate(self, request: Request, body: bytes):
        """The role session of an STS key, None for the owner; raises on a bad signature."""
        headers = request.headers
        signed = _signed_request(headers.get("authorization", ""))
        session = self.ram.sessions.lookup(signed.access_key_id) if self.ram else None
        credentials = session.credentials() if session else self.owner
        if signed.access_key_id != credentials["access_key_id"]:
            raise errors.InvalidAccessKeyId(
                f"the AccessKeyId {signed.access_key_id!r} is not localcloud's; use the "
                "access_key_id from the LOCALCLOUD_READY line"
            )
        if session is not None and (
            headers.get("x-acs-security-token") != session.security_token
            or self.ram.sessions.expired(session)
        ):
            raise errors.InvalidSecurityToken("the security token is invalid or has expired")
        date = headers.get("x-acs-date", "")
        _check_date(date)
        if isinstance(signed, acs4.Acs4Authorization):
            self._check_scope(signed, date)
        payload_hash = headers.get("x-acs-content-sha256", "")
        if payload_hash != hashlib.sha256(body).hexdigest():
            raise errors.SignatureDoesNotMatch("x-acs-content-sha256 does not match the body")
        raw_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
        args = (request.method, raw_path, request.url.query, headers)
        secret = credentials["access_key_secret"]
        if isinstance(signed, acs4.Acs4Authorization):
            want = acs4.expected_signature(signed, *args, payload_hash, secret)
        else:
            want = acs3.expected_signature(*args, signed.signed_headers, payload_hash, secret)
        if not hmac.compare_digest(want, signed.signature):
            raise errors.SignatureDoesNotMatch(
                "the request signature does not match: check the access key secret"
            )
        return session

    def _check_scope(self, auth: acs4.Acs4Authorization, date: str) -> None:
        if auth.date != date[:10].replace("-", ""):
            raise errors.SignatureDoesNotMatch("the credential scope's date is not x-acs-date's")
        if auth.region != self.kms.region or auth.product != PRODUCT:
            raise errors.SignatureDoesNotMatch(
                f"the credential scope {auth.region}/{auth.product} is not "
                f"{self.kms.region}/{PRODUCT}: set the client's region_id to {self.kms.region}"
            )


def create_app(kms: KmsService, owner: dict, ram=None) -> Starlette:
    api = KmsApi(kms, owner, ram)
    return Starlette(routes=[Route("/", api.handle, methods=["GET", "POST"])])
