"""RAM's admin controls (the admin listener, loopback only), so that an FC runtime or flow
engine running outside the localcloud process (the flow test kits) acts with role sessions
the localcloud process issued and authorizes against the roles it holds:

POST /ram/assume-role {"role_arn", "service"} -> the session (credentials, expiration)
POST /ram/session     {"access_key_id"}       -> that session, or 404
POST /ram/check       {"access_key_id", "requests": [[action, resource], ...]}
                      -> {"denied": null | {"action", "resource", "explicit", "message"}}
GET  /ram/settings    -> {"enforce", "roleless_owner_credentials", "fnf_start_execution_reading"}
"""

from __future__ import annotations

import json
from dataclasses import asdict

from .sessions import AssumeRoleError


def route(ram, method: str, path: str, body: bytes) -> tuple[int, dict] | None:
    if not path.startswith("/ram/"):
        return None
    if path == "/ram/settings" and method == "GET":
        return 200, {
            "enforce": ram.enforce,
            "roleless_owner_credentials": ram.roleless_owner_credentials,
            "fnf_start_execution_reading": ram.fnf_start_execution_reading,
        }
    if method != "POST":
        return 404, {"error": f"no RAM admin route {method} {path}"}
    request = json.loads(body or b"{}")
    if not isinstance(request, dict):
        raise ValueError(f"POST {path} takes a JSON object")
    if path == "/ram/assume-role":
        try:
            session = ram.sessions.assume_role(
                request.get("role_arn", ""), request.get("service", "")
            )
        except AssumeRoleError as exc:
            return 403, {"error": str(exc)}
        return 200, asdict(session)
    session = ram.sessions.lookup(str(request.get("access_key_id", "")))
    if path == "/ram/session":
        return (200, asdict(session)) if session else (404, {"error": "no such session"})
    if path == "/ram/check":
        if session is None:
            return 404, {"error": "no such session"}
        needs = [(str(a), str(r)) for a, r in request.get("requests", [])]
        denial = ram.sessions.check(session, needs)
        if denial is None:
            return 200, {"denied": None}
        return 200, {"denied": {**asdict(denial), "message": denial.describe(session)}}
    return 404, {"error": f"no RAM admin route {method} {path}"}
