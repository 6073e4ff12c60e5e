"""Run the FC 3.0 API of an FcRuntime on a free loopback port inside the test process."""

from __future__ import annotations

import threading
import time

import uvicorn


class ServedApp:
    """uvicorn in a background thread; `endpoint` is host:port; `stop()` shuts it down."""

    def __init__(self, app):
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="test-uvicorn")
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.endpoint = f"127.0.0.1:{port}"
        self.url = f"http://{self.endpoint}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
