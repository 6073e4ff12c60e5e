"""FC 3.0 and RAM: the RAM action and resource of each FC API call, and role-session
credentials for FC's ACS3 signature check (the SDK sends `x-acs-security-token`).

Resources (FC 3.0 API reference, "Authorization information"): a function
`acs:fc:<region>:<uid>:functions/<name>`, with a qualifier `.../functions/<name>/<qualifier>`
(what a flow's `resourceArn` `.../functions/<name>/LATEST` names); triggers
`.../functions/<name>/triggers/<trigger>`.
"""

from __future__ import annotations

import json

from localcloud.acs3 import split_authorization
from localcloud.fc.auth import AuthError

from .sessions import RoleSession, SessionIssuer

# FcApi handler name -> RAM action
ACTIONS = {
    "create_function": "fc:CreateFunction",
    "list_functions": "fc:ListFunctions",
    "get_function": "fc:GetFunction",
    "update_function": "fc:UpdateFunction",
    "delete_function": "fc:DeleteFunction",
    "invoke": "fc:InvokeFunction",
    "put_concurrency": "fc:PutConcurrencyConfig",
    "get_concurrency": "fc:GetConcurrencyConfig",
    "put_async_config": "fc:PutAsyncInvokeConfig",
    "get_async_config": "fc:GetAsyncInvokeConfig",
    "create_trigger": "fc:CreateTrigger",
    "list_triggers": "fc:ListTriggers",
    "get_trigger": "fc:GetTrigger",
    "update_trigger": "fc:UpdateTrigger",
    "delete_trigger": "fc:DeleteTrigger",
}


def function_arn(region: str, uid: str, name: str, qualifier: str | None = None) -> str:
    base = f"acs:fc:{region}:{uid}:functions/{name}"
    return f"{base}/{qualifier}" if qualifier else base


def required(handler: str, path_params: dict, query: dict, body: bytes, region: str, uid: str):
    action = ACTIONS.get(handler, f"fc:{handler}")
    name = path_params.get("name")
    if handler == "create_function":
        try:
            name = json.loads(body or b"{}").get("functionName")
        except (ValueError, AttributeError):
            name = None
    resource = function_arn(region, uid, name or "*", query.get("qualifier"))
    if "trigger" in path_params:
        resource = f"{function_arn(region, uid, name)}/triggers/{path_params['trigger']}"
    return [(action, resource)]


def session_of(sessions: SessionIssuer, headers) -> RoleSession | None:
    fields = split_authorization(headers.get("authorization") or "") or {}
    key_id = fields.get("Credential", "")
    session = sessions.lookup(key_id) if key_id.startswith("STS.") else None
    if session is None:
        return None
    if headers.get("x-acs-security-token") != session.security_token or sessions.expired(session):
        error = AuthError("the security token is invalid or has expired")
        error.code = "InvalidSecurityToken.Mismatch"
        raise error
    return session


def authorize(sessions: SessionIssuer, session: RoleSession, needs) -> None:
    denial = sessions.check(session, needs)
    if denial is not None:
        raise AuthError(denial.describe(session))


FUNCTION_PRINCIPAL = "fc.aliyuncs.com"
TRIGGER_PRINCIPAL = "oss.aliyuncs.com"


class RoleNotAssumable(AuthError):
    """FC cannot get the function's role credentials (missing role, or not trusting FC)."""


def function_credentials(ram, function_name: str, role_arn: str, owner: dict) -> dict:
    """What FC hands a function: STS credentials of its role, which must trust FC.

    FC 3.0: a function without a role gets no credentials (context.credentials is empty).
    """
    if ram is None:
        return dict(owner)
    if not role_arn:
        if ram.roleless_owner_credentials:
            return dict(owner)
        return {"access_key_id": "", "access_key_secret": "", "security_token": ""}
    from .sessions import AssumeRoleError

    try:
        return ram.sessions.assume_role(role_arn, FUNCTION_PRINCIPAL).credentials()
    except AssumeRoleError as exc:
        raise RoleNotAssumable(
            f"function {function_name!r} cannot get its role's credentials: {exc}"
        ) from None


def trigger_denial(ram, trigger, region: str, uid: str) -> str | None:
    """Why the OSS trigger may not invoke its function through its invocation role, or None."""
    if ram is None:
        return None
    if not trigger.invocation_role:
        if ram.roleless_owner_credentials:
            return None
        return (
            f"trigger {trigger.name!r} has no invocation_role (a role trusting {TRIGGER_PRINCIPAL})"
        )
    from .sessions import AssumeRoleError

    try:
        session = ram.sessions.assume_role(trigger.invocation_role, TRIGGER_PRINCIPAL)
    except AssumeRoleError as exc:
        return f"trigger {trigger.name!r}: {exc}"
    resource = function_arn(region, uid, trigger.function_name, trigger.qualifier or None)
    denial = ram.sessions.check(session, [("fc:InvokeFunction", resource)])
    return f"trigger {trigger.name!r}: {denial.describe(session)}" if denial else None
