"""The RAM 2015-05-01 RPC API over HTTP, as alibabacloud-ram20150501 sends it: POST / with the
parameters in the query, signed with ACS3-HMAC-SHA256; JSON answers. Semantics: service.py."""

from __future__ import annotations

import calendar
import hashlib
import hmac
import time
import uuid

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from localcloud.acs3 import expected_signature, split_authorization
from localcloud.popapi import error_response

from . import errors
from .service import RamService
from .sessions import RoleSession
from .store import Policy, PolicyVersion, Role

MAX_SKEW_SECONDS = 15 * 60


def _role(ram: RamService, role: Role) -> dict:
    return {
        "RoleId": role.role_id,
        "RoleName": role.name,
        "Arn": ram.role_arn(role),
        "Description": role.description,
        "AssumeRolePolicyDocument": role.assume_role_policy_document,
        "MaxSessionDuration": role.max_session_duration,
        "CreateDate": role.create_date,
        "UpdateDate": role.update_date,
    }


def _policy(ram: RamService, policy: Policy) -> dict:
    return {
        "PolicyName": policy.name,
        "PolicyType": "Custom",
        "Description": policy.description,
        "DefaultVersion": policy.default_version,
        "CreateDate": policy.create_date,
        "UpdateDate": policy.update_date,
        "AttachmentCount": ram.attachment_count(policy.name),
    }


def _version(policy: Policy, version: PolicyVersion) -> dict:
    return {
        "VersionId": version.version_id,
        "IsDefaultVersion": version.version_id == policy.default_version,
        "PolicyDocument": version.document,
        "CreateDate": version.create_date,
    }


def _req(p: dict, name: str) -> str:
    value = p.get(name)
    if not value:
        raise errors.MissingParameter(name)
    return value


def _bool(p: dict, name: str) -> bool:
    value = (p.get(name) or "false").lower()
    if value not in ("true", "false"):
        raise errors.InvalidParameter(f"{name} must be true or false, got {p.get(name)!r}")
    return value == "true"


def _roles(ram: RamService, action: str, p: dict) -> dict | None:
    if action == "CreateRole":
        role = ram.create_role(
            _req(p, "RoleName"), _req(p, "AssumeRolePolicyDocument"), p.get("Description", "")
        )
        return {"Role": _role(ram, role)}
    if action == "GetRole":
        return {"Role": _role(ram, ram.get_role(_req(p, "RoleName")))}
    if action == "UpdateRole":
        role = ram.update_role(
            _req(p, "RoleName"), p.get("NewAssumeRolePolicyDocument"), p.get("NewDescription")
        )
        return {"Role": _role(ram, role)}
    if action == "DeleteRole":
        ram.delete_role(_req(p, "RoleName"))
        return {}
    return None


def _policies(ram: RamService, action: str, p: dict) -> dict | None:
    if action == "CreatePolicy":
        policy = ram.create_policy(
            _req(p, "PolicyName"), _req(p, "PolicyDocument"), p.get("Description", "")
        )
        return {"Policy": _policy(ram, policy)}
    if action == "GetPolicy":
        if p.get("PolicyType", "Custom") != "Custom":
            raise errors.EntityNotExistPolicy(p.get("PolicyName", ""))
        policy = ram.get_policy(_req(p, "PolicyName"))
        return {
            "Policy": _policy(ram, policy),
            "DefaultPolicyVersion": _version(policy, policy.version(policy.default_version)),
        }
    if action == "CreatePolicyVersion":
        name = _req(p, "PolicyName")
        version = ram.create_policy_version(
            name, _req(p, "PolicyDocument"), _bool(p, "SetAsDefault"), p.get("RotateStrategy", "")
        )
        return {"PolicyVersion": _version(ram.get_policy(name), version)}
    if action == "DeletePolicy":
        ram.delete_policy(_req(p, "PolicyName"), _bool(p, "CascadingDelete"))
        return {}
    return None


def _attachments(ram: RamService, action: str, p: dict) -> dict | None:
    if action == "AttachPolicyToRole":
        ram.attach_policy_to_role(_req(p, "PolicyType"), _req(p, "PolicyName"), _req(p, "RoleName"))
        return {}
    if action == "DetachPolicyFromRole":
        ram.detach_policy_from_role(
            _req(p, "PolicyType"), _req(p, "PolicyName"), _req(p, "RoleName")
        )
        return {}
    if action == "ListPoliciesForRole":
        attached = ram.policies_for_role(_req(p, "RoleName"))
        return {
            "Policies": {
                "Policy": [
                    {
                        "PolicyName": policy.name,
                        "PolicyType": "Custom",
                        "Description": policy.description,
                        "DefaultVersion": policy.default_version,
                        "AttachDate": date,
                    }
                    for policy, date in attached
                ]
            }
        }
    return None


def dispatch(ram: RamService, action: str, p: dict) -> dict:
    for family in (_roles, _policies, _attachments):
        result = family(ram, action, p)
        if result is not None:
            return result
    raise errors.InvalidAction(f"the action {action!r} is not supported by localcloud's RAM API")


def _ram_resource(ram: RamService, p: dict) -> str:
    if p.get("PolicyName") and not p.get("RoleName"):
        return f"acs:ram:*:{ram.account_id}:policy/{p['PolicyName']}"
    return f"acs:ram:*:{ram.account_id}:role/{p.get('RoleName', '')}"


class RamApi:
    def __init__(self, ram: RamService, owner: dict):
        self.ram = ram
        self.owner = owner

    async def handle(self, request: Request) -> JSONResponse:
        request_id = str(uuid.uuid4()).upper()
        params = dict(request.query_params)
        try:
            body = await request.body()
            session = self.authenticate(request, body)
            action = request.headers.get("x-acs-action") or params.get("Action", "")
            if session is not None:
                denial = self.ram.sessions.check(
                    session, [(f"ram:{action}", _ram_resource(self.ram, params))]
                )
                if denial is not None:
                    raise errors.NoPermission(denial.describe(session))
            result = await run_in_threadpool(dispatch, self.ram, action, params)
        except errors.RamError as exc:
            return error_response(exc, request, request_id)
        return JSONResponse({**result, "RequestId": request_id})

    def authenticate(self, request: Request, body: bytes) -> RoleSession | None:
        """The role session of an STS key, None for the owner; raises on a bad signature."""
        headers = request.headers
        fields = split_authorization(headers.get("authorization", ""))
        if not fields or not {"Credential", "SignedHeaders", "Signature"} <= set(fields):
            raise errors.SignatureDoesNotMatch(
                "the request must be signed with ACS3-HMAC-SHA256 (alibabacloud-ram20150501)"
            )
        key_id, signed = fields["Credential"], fields["SignedHeaders"].split(";")
        session = self.ram.sessions.lookup(key_id)
        credentials = session.credentials() if session else self.owner
        if key_id != credentials["access_key_id"]:
            raise errors.InvalidAccessKeyId(
                f"the AccessKeyId {key_id!r} is not localcloud's; use the access_key_id from "
                "the LOCALCLOUD_READY line"
            )
        token = headers.get("x-acs-security-token")
        if session is not None and (
            token != session.security_token or self.ram.sessions.expired(session)
        ):
            raise errors.InvalidSecurityToken("the security token is invalid or has expired")
        self._check_date(headers.get("x-acs-date", ""))
        payload_hash = headers.get("x-acs-content-sha256", "")
        if payload_hash != hashlib.sha256(body).hexdigest():
            raise errors.SignatureDoesNotMatch("x-acs-content-sha256 does not match the body")
        raw_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
        want = expected_signature(
            request.method,
            raw_path,
            request.url.query,
            headers,
            signed,
            payload_hash,
            credentials["access_key_secret"],
        )
        if not hmac.compare_digest(want, fields["Signature"]):
            raise errors.SignatureDoesNotMatch(
                "the request signature does not match: check the access key secret"
            )
        return session

    @staticmethod
    def _check_date(value: str) -> None:
        try:
            signed_at = calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))
        except ValueError:
            raise errors.InvalidParameter("x-acs-date is missing or malformed") from None
        if abs(time.time() - signed_at) > MAX_SKEW_SECONDS:
            raise errors.InvalidParameter("x-acs-date is more than 15 minutes off")


def create_app(ram: RamService, owner: dict) -> Starlette:
    api = RamApi(ram, owner)
    return Starlette(routes=[Route("/", api.handle, methods=["GET", "POST"])])
