"""Helpers for flow tests: an engine in a temp dir, definitions from tests/flows/defs/,
and the fnf API served by uvicorn on 127.0.0.1 for the real SDK."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import uvicorn

from localcloud.flow.api import create_app
from localcloud.flow.engine import FlowEngine
from ossbatch.deployment import named_definition

DEFS = Path(__file__).parent / "defs"
ACCESS_KEY_ID = "LTAIlocalcloudtest"
ACCESS_KEY_SECRET = "localcloud-test-secret"


def definition(name: str) -> str:
    return (DEFS / name).read_text()


def named(definition_text, flow: str):
    """The definition with its Name set to `flow` (text or mapping)."""
    if isinstance(definition_text, dict):
        return {**definition_text, "Name": flow}
    return named_definition(definition_text, flow, "test definition")


def run_flow(
    engine: FlowEngine,
    definition_text: str,
    payload: dict | None = None,
    flow: str = "f",
    execution: str = "e1",
    timeout: float = 30,
):
    """Create (or update) the flow, run one execution to the end, return its record.

    The definition's Name is set to `flow` first, as deploying does (CreateFlow rule).
    """
    definition_text = named(definition_text, flow)
    try:
        engine.describe_flow(flow)
        engine.update_flow(flow, definition_text)
    except Exception:
        engine.create_flow(flow, definition_text)
    engine.start_execution(flow, execution, json.dumps(payload or {}))
    record = engine.wait(flow, execution, timeout)
    assert record.status != "Running", f"execution {execution} still running after {timeout}s"
    return record


def events(engine: FlowEngine, flow: str = "f", execution: str = "e1") -> list:
    out, token = [], None
    while True:
        page, token = engine.get_execution_history(flow, execution, 999, token)
        out += page
        if not token:
            return out


class ApiServer:
    """uvicorn serving the fnf API on a free loopback port, in a background thread."""

    def __init__(self, engine: FlowEngine, secret: str = ACCESS_KEY_SECRET):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        app = create_app(engine, ACCESS_KEY_ID, secret)
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> ApiServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fnf API server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"
