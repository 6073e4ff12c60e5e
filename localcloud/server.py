"""Composition: one asyncio loop, one uvicorn listener per service on 127.0.0.1, one ready line.

Services are built in the order of SERVICES (each may use the ones before it through ctx), then
every listener starts, then `LOCALCLOUD_READY {json}` is printed once all accept connections.

To plug a service in, add one ServiceSpec line to SERVICES, e.g.
    ServiceSpec("mns", "mns_endpoint", "localcloud.mns:build"),
where `build(ctx) -> (service_object, asgi_app)`; the service is then `ctx.mns` for the later
ones, its listener port comes from `--mns-port` (config.mns_port) and the ready line gets
`mns_endpoint`. Optional service methods: `counters_snapshot() -> dict`, `reset_counters()`
(admin /counters), `close()` (called in reverse order at shutdown, may be async).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import uvicorn

from localcloud.admin import AdminApp, admin_token
from localcloud.config import LocalCloudConfig
from localcloud.httpguard import guarded_protocol

log = logging.getLogger("localcloud")
READY_PREFIX = "LOCALCLOUD_READY "


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # attribute on the context (ctx.oss) and prefix of the --<name>-port option
    endpoint_key: str  # key of its endpoint in the ready line
    build: str  # "module:function"; function(ctx) -> (service_object, asgi_app)
    port_option: str = ""  # LocalCloudConfig attribute with its port; default "<name>_port"

    @property
    def port_attr(self) -> str:
        return self.port_option or f"{self.name}_port"


# ---- the services of one localcloud, in build order (ram -> oss -> mns -> fc -> flow -> kms) ----------------
SERVICES: list[ServiceSpec] = [
    ServiceSpec("ram", "ram_endpoint", "localcloud.ram:build"),  # first: the others authorize by it
    ServiceSpec("oss", "oss_endpoint", "localcloud.oss:build"),
    ServiceSpec("mns", "mns_endpoint", "localcloud.mns:build"),  # MNS/FC helper
    ServiceSpec("fc", "fc_endpoint", "localcloud.fc:build"),  # MNS/FC helper
    ServiceSpec("flow", "fnf_endpoint", "localcloud.flow:build", port_option="fnf_port"),
    ServiceSpec("kms", "kms_endpoint", "localcloud.kms:build"),  # secrets (unzip passwords)
]
# -----------------------------------------------------------------------------------------------


@dataclass
class ServiceContext:
    """What a service's build(ctx) gets: config, endpoints of every listener, earlier services."""

    config: LocalCloudConfig
    endpoints: dict[str, str] = field(
        default_factory=dict
    )  # "oss_endpoint" -> "http://127.0.0.1:P"
    services: dict[str, object] = field(default_factory=dict)  # built so far, by name

    def __getattr__(self, name: str):
        services = self.__dict__.get("services", {})
        if name in services:
            return services[name]
        raise AttributeError(
            f"localcloud service {name!r} is not built (yet): check SERVICES order"
        )

    @property
    def credentials(self) -> dict:
        c = self.config
        return {
            "access_key_id": c.access_key_id,
            "access_key_secret": c.access_key_secret,
            "security_token": c.security_token,
        }


def _load(target: str) -> Callable:
    module, _, func = target.partition(":")
    return getattr(importlib.import_module(module), func)


class ListenError(RuntimeError):
    """A listener port cannot be bound (in use, or not allowed)."""


def _bind(host: str, port: int, what: str = "") -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ListenError(
            f"cannot listen on {host}:{port} for {what or 'a service'}: {exc.strerror}; "
            f"pick another --{what}-port or 0 for a free one"
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _uvicorn_server(app, c: LocalCloudConfig) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        host=c.host,
        http=guarded_protocol(c.max_header_bytes, c.header_timeout_s),
        lifespan="off",
        access_log=False,
        log_level="warning",
        server_header=False,
        proxy_headers=False,  # loopback only: no proxy in front
        timeout_keep_alive=75,
        backlog=2048,
        ws="none",
    )
    return uvicorn.Server(config)


class LocalCloudServer:
    def __init__(self, config: LocalCloudConfig, services: list[ServiceSpec] | None = None):
        self.config = config
        self.specs = list(SERVICES if services is None else services)
        self.ctx = ServiceContext(config)
        self.servers: list[uvicorn.Server] = []
        self.stop_event = asyncio.Event()
        # set once the ready line is out (in-process embedding, tests)
        self.ready = threading.Event()

    def ready_info(self) -> dict:
        c = self.config
        return {
            **self.ctx.endpoints,
            "access_key_id": c.access_key_id,
            "access_key_secret": c.access_key_secret,
            "security_token": c.security_token,
            "region": c.region,
            "account_id": c.account_id,
            "data_dir": str(c.data_dir),
            "admin_token": getattr(self, "admin_token", ""),
            "pid": os.getpid(),
        }

    async def run(self) -> None:
        c = self.config
        c.data_dir.mkdir(parents=True, exist_ok=True)
        sockets: dict[str, socket.socket] = {}
        for spec in self.specs:  # bind first: every service can know every endpoint
            port_name = spec.port_attr.removesuffix("_port")
            sockets[spec.name] = _bind(c.host, getattr(c, spec.port_attr), port_name)
            self.ctx.endpoints[spec.endpoint_key] = (
                f"http://{c.host}:{sockets[spec.name].getsockname()[1]}"
            )
        sockets["admin"] = _bind(c.host, c.admin_port, "admin")
        self.admin_token = admin_token(c.data_dir)
        # the token is the first path segment: admin_endpoint + "/counters" carries it
        self.ctx.endpoints["admin_endpoint"] = (
            f"http://{c.host}:{sockets['admin'].getsockname()[1]}/{self.admin_token}"
        )
        apps = {}
        for spec in self.specs:
            service, app = _load(spec.build)(self.ctx)
            self.ctx.services[spec.name] = service
            apps[spec.name] = app
        apps["admin"] = AdminApp(self.ctx, self.admin_token)
        tasks = []
        for name, app in apps.items():
            server = _uvicorn_server(app, c)
            self.servers.append(server)
            # _serve skips uvicorn's own signal handling: this process owns SIGTERM/SIGINT
            tasks.append(
                asyncio.create_task(server._serve(sockets=[sockets[name]]), name=f"listener-{name}")
            )
        while not all(s.started for s in self.servers):
            if any(t.done() for t in tasks):
                for t in tasks:
                    if t.done() and t.exception():
                        raise t.exception()
                raise RuntimeError("a localcloud listener stopped during startup")
            await asyncio.sleep(0.01)
        sys.stdout.write(READY_PREFIX + json.dumps(self.ready_info()) + "\n")
        sys.stdout.flush()
        self.ready.set()
        await self.stop_event.wait()
        # MNS/FC helper: services end long polls and running invocations (last built first),
        # or the listeners would wait for them to drain
        for service in reversed(list(self.ctx.services.values())):
            begin_shutdown = getattr(service, "begin_shutdown", None)
            if begin_shutdown is not None:
                begin_shutdown()
        for server in self.servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        for sock in sockets.values():
            sock.close()
        for name in reversed(list(self.ctx.services)):
            close = getattr(self.ctx.services[name], "close", None)
            if close is not None:
                try:
                    result = close()
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception("closing %s failed", name)

    def request_stop(self) -> None:
        self.stop_event.set()


def serve(config: LocalCloudConfig) -> int:
    """Run until SIGTERM/SIGINT; returns the exit code."""
    import uvloop

    async def main() -> None:
        server = LocalCloudServer(config)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, server.request_stop)
        await server.run()

    try:
        uvloop.run(main())
    except ListenError as exc:
        print(f"localcloud: {exc}", file=sys.stderr)
        return 2
    return 0
