"""Admin listener (JSON over HTTP, loopback only): request counters, fault injection, endpoints.

Every request must carry the data dir's admin token (docs/decisions/localcloud-admin-token.md):
as the first path segment (the ready line's `admin_endpoint` is `http://127.0.0.1:P/<token>`,
so `admin_endpoint + "/counters"` just works) or in the `X-LocalCloud-Admin-Token` header.
Requests with an `Origin` header (a browser page) or a non-loopback Host (DNS rebinding) are
refused with 403; without the token, 401.

GET  /counters        -> {"oss": {"PutObject": n, ...}, "<service>": {...}}
POST /counters/reset  -> resets every service's counters; answers the counters before the reset
GET  /faults          -> {"oss": {latency_ms, fault_rate, kinds, stall_rate, stall_ms, ops, seed,
                                   injected: {kind: n}}}
POST /faults          -> body {"service": "oss" (default), ...fields to change}; answers the new config
GET  /clock           -> {"oss": {"offset_seconds": x}} (services with a movable clock)
POST /clock           -> body {"service": "oss" (default), "advance_seconds": N}: restores finish and
                         restored copies expire as if N more seconds had passed
POST /crash          -> body {"service": "oss" (default), "op": "CopyObject", "after": N}: the
                         process kills itself (SIGKILL) when the N-th such request arrives
GET  /health          -> {"status": "ok", "services": [...], endpoints...}
POST /ram/...         -> RAM's controls (localcloud/ram/admin.py): assume a role, look up a
                         session, check a request, as FC/CloudFlow do inside localcloud
"""

from __future__ import annotations

import hmac
import json
import math
import secrets
from dataclasses import replace
from pathlib import Path

from localcloud import crashswitch
from localcloud.oss.faults import FaultConfig

TOKEN_FILE = "admin-token"
TOKEN_HEADER = b"x-localcloud-admin-token"
# the longest restore (DeepColdArchive Bulk, 48 h) expiring after 365 days, with room: one call
MAX_CLOCK_ADVANCE_S = 400 * 86400
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def admin_token(data_dir: Path) -> str:
    """The data dir's admin token: made once (random, file mode 0600), the same after restarts."""
    path = Path(data_dir) / TOKEN_FILE
    try:
        token = path.read_text().strip()
        if token:
            return token
    except FileNotFoundError:
        pass
    token = secrets.token_urlsafe(24)
    path.touch(mode=0o600)
    path.write_text(token + "\n")
    return token


class AdminApp:
    def __init__(self, ctx, token: str):
        self.ctx = ctx
        self.token = token

    def _refusal(self, scope) -> tuple[int, dict, str] | None:
        """(status, payload, path) of a refused request, or (0, {}, path without the token)."""
        headers = dict(scope.get("headers") or [])
        if b"origin" in headers:
            return 403, {"error": "requests from web pages (Origin header) are refused"}, ""
        host = headers.get(b"host", b"").decode("latin-1").rsplit(":", 1)[0]
        if host and host not in LOOPBACK_HOSTS:
            return 403, {"error": f"Host {host!r} is not a loopback name"}, ""
        path = scope["path"]
        prefix = "/" + self.token
        if path == prefix or path.startswith(prefix + "/"):
            return 0, {}, path[len(prefix) :]
        sent = headers.get(TOKEN_HEADER, b"").decode("latin-1")
        if sent and hmac.compare_digest(sent, self.token):
            return 0, {}, path
        return (
            401,
            {"error": "admin token missing or wrong: see `ossbatch local status --json`"},
            "",
        )

    def _services(self):
        return self.ctx.services.items()

    def counters(self) -> dict:
        return {
            name: svc.counters_snapshot()
            for name, svc in self._services()
            if hasattr(svc, "counters_snapshot")
        }

    def faults(self) -> dict:
        return {
            # settings plus how many failures of each kind were injected since they were set
            name: {**svc.faults.config.to_dict(), "injected": dict(svc.faults.injected)}
            for name, svc in self._services()
            if hasattr(getattr(svc, "faults", None), "configure")
        }

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        status, payload, path = self._refusal(scope)
        method, path = scope["method"], path.rstrip("/") or "/"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body") or len(body) > 1024 * 1024:
                break
        try:
            if not status:
                status, payload = self.route(method, path, body)
        except (ValueError, TypeError) as exc:
            status, payload = 400, {"error": str(exc)}
        data = json.dumps(payload).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(data)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})

    def route(self, method: str, path: str, body: bytes) -> tuple[int, dict]:
        if path == "/counters" and method == "GET":
            return 200, self.counters()
        if path == "/counters/reset" and method == "POST":
            before = self.counters()
            for _, svc in self._services():
                if hasattr(svc, "reset_counters"):
                    svc.reset_counters()
            return 200, before
        if path == "/faults" and method == "GET":
            return 200, self.faults()
        if path == "/faults" and method in ("POST", "PUT"):
            return 200, self.set_faults(json.loads(body or b"{}"))
        if path == "/clock" and method == "GET":
            return 200, {
                name: {"offset_seconds": svc.clock_offset}
                for name, svc in self._services()
                if hasattr(svc, "advance_clock")
            }
        if path == "/clock" and method == "POST":
            changes = json.loads(body or b"{}")
            if not isinstance(changes, dict):
                raise ValueError("POST /clock takes a JSON object")
            name = changes.get("service", "oss")
            svc = self.ctx.services.get(name)
            if not hasattr(svc, "advance_clock"):
                raise ValueError(f"service {name!r} has no movable clock")
            offset = svc.advance_clock(_clock_step(changes.get("advance_seconds", 0)))
            return 200, {name: {"offset_seconds": offset}}
        if path == "/crash" and method == "POST":
            plan = json.loads(body or b"{}")
            if not isinstance(plan, dict):
                raise ValueError("POST /crash takes a JSON object")
            name = plan.get("service", "oss")
            svc = self.ctx.services.get(name)
            if svc is None:
                raise ValueError(f"no service {name!r}")
            return 200, {name: crashswitch.arm(svc, plan.get("op"), plan.get("after"))}
        if path in ("/", "/health") and method == "GET":
            return 200, {"status": "ok", "services": list(self.ctx.services), **self.ctx.endpoints}
        for _, svc in self._services():  # a service's own controls, e.g. /ram/... (RAM)
            answer = getattr(svc, "admin_route", lambda *_: None)(method, path, body)
            if answer is not None:
                return answer
        return 404, {
            "error": f"no admin route {method} {path}",
            "routes": [
                "GET /counters",
                "POST /counters/reset",
                "GET /faults",
                "POST /faults",
                "GET /clock",
                "POST /clock",
                "POST /crash",
                "GET /health",
            ],
        }

    def set_faults(self, changes: dict) -> dict:
        if not isinstance(changes, dict):
            raise ValueError("POST /faults takes a JSON object")
        name = changes.pop("service", "oss")
        svc = self.ctx.services.get(name)
        injector = getattr(svc, "faults", None)
        if injector is None or not hasattr(injector, "configure"):
            raise ValueError(f"service {name!r} has no fault injection")
        fields = set(FaultConfig.__dataclass_fields__)
        unknown = set(changes) - fields
        if unknown:
            raise ValueError(f"unknown fault settings {sorted(unknown)}; known: {sorted(fields)}")
        injector.configure(replace(injector.config, **changes))
        return injector.config.to_dict()


def _clock_step(value) -> float:
    """advance_seconds: a finite number of seconds, 0..MAX_CLOCK_ADVANCE_S per request."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("advance_seconds must be a number of seconds")
    if not math.isfinite(value) or not 0 <= value <= MAX_CLOCK_ADVANCE_S:
        raise ValueError(f"advance_seconds must be 0..{MAX_CLOCK_ADVANCE_S} (400 days) per request")
    return float(value)
