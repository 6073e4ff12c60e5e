"""Admin listener (JSON over HTTP, loopback only): request counters, fault injection, endpoints.

GET  /counters        -> {"oss": {"PutObject": n, ...}, "<service>": {...}}
POST /counters/reset  -> resets every service's counters; answers the counters before the reset
GET  /faults          -> {"oss": {latency_ms, fault_rate, kinds, stall_rate, stall_ms, ops, seed,
                                   injected: {kind: n}}}
POST /faults          -> body {"service": "oss" (default), ...fields to change}; answers the new config
GET  /clock           -> {"oss": {"offset_seconds": x}} (services with a movable clock)
POST /clock           -> body {"service": "oss" (default), "advance_seconds": N}: restores finish and
                         restored copies expire as if N more seconds had passed
GET  /health          -> {"status": "ok", "services": [...], endpoints...}
POST /ram/...         -> RAM's controls (localcloud/ram/admin.py): assume a role, look up a
                         session, check a request, as FC/CloudFlow do inside localcloud
"""

from __future__ import annotations

import json
from dataclasses import replace

from localcloud.oss.faults import FaultConfig


class AdminApp:
    def __init__(self, ctx):
        self.ctx = ctx

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
        method, path = scope["method"], scope["path"].rstrip("/") or "/"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
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
            offset = svc.advance_clock(float(changes.get("advance_seconds", 0)))
            return 200, {name: {"offset_seconds": offset}}
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
