"""The RAM of a running localcloud, for an FC runtime or flow engine embedded in another
process (the flow test kits): sessions are issued and requests are checked by that
localcloud (its admin /ram/... controls), so its OSS/MNS/FnF/FC accept and authorize them
exactly as for its own functions and flows."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

from .sessions import RENEW_BEFORE_SECONDS, AssumeRoleError, Denial, RoleSession


class RemoteSessions:
    def __init__(self, admin_endpoint: str):
        self.admin = admin_endpoint.rstrip("/")
        self._cached: dict[tuple[str, str], RoleSession] = {}
        self._known: dict[str, RoleSession] = {}
        self._lock = threading.Lock()

    def _post(self, path: str, body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.admin + path, data=json.dumps(body).encode(), method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def assume_role(self, role_arn: str, service: str) -> RoleSession:
        key = (role_arn, service)
        with self._lock:
            cached = self._cached.get(key)
        if cached is not None and cached.expiration - time.time() > RENEW_BEFORE_SECONDS:
            return cached
        status, body = self._post("/ram/assume-role", {"role_arn": role_arn, "service": service})
        if status != 200:
            raise AssumeRoleError(body.get("error", f"assume-role answered {status}"))
        session = RoleSession(**body)
        with self._lock:
            self._cached[key] = self._known[session.access_key_id] = session
        return session

    def lookup(self, access_key_id: str) -> RoleSession | None:
        with self._lock:
            known = self._known.get(access_key_id)
        if known is not None:
            return known
        status, body = self._post("/ram/session", {"access_key_id": access_key_id})
        if status != 200:
            return None
        session = RoleSession(**body)
        with self._lock:
            self._known[access_key_id] = session
        return session

    @staticmethod
    def expired(session: RoleSession) -> bool:
        return time.time() >= session.expiration

    def check(self, session: RoleSession, requests) -> Denial | None:
        status, body = self._post(
            "/ram/check",
            {"access_key_id": session.access_key_id, "requests": [list(r) for r in requests]},
        )
        if status != 200:
            raise AssumeRoleError(body.get("error", f"check answered {status}"))
        denied = body.get("denied")
        if denied is None:
            return None
        return Denial(denied["action"], denied["resource"], denied["explicit"])


class RemoteRam:
    """What FcRuntime(ram=...), guard_integrations and the fnf API use of a RamService."""

    def __init__(self, admin_endpoint: str):
        self.sessions = RemoteSessions(admin_endpoint)
        with urllib.request.urlopen(f"{self.sessions.admin}/ram/settings", timeout=30) as r:
            settings = json.loads(r.read())
        self.enforce = settings["enforce"]
        self.roleless_owner_credentials = settings["roleless_owner_credentials"]
        self.fnf_start_execution_reading = settings["fnf_start_execution_reading"]
