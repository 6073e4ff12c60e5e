"""Start `localcloud serve` as a child process and wait for its ready line.

Used by the test fixture, benchmarks and the demo. The server prints one line
`LOCALCLOUD_READY {json}` on stdout once every listener accepts connections.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

READY_PREFIX = "LOCALCLOUD_READY "


class LocalCloudStartError(RuntimeError):
    """localcloud exited or stayed silent before printing its ready line."""


class InventoryRunFailed(RuntimeError):
    """The admin inventory run was refused: `status` (403 role, 404 no such inventory...)."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass
class LocalCloud:
    """A running localcloud process and the endpoints/credentials it printed."""

    process: subprocess.Popen
    data_dir: Path
    info: dict
    log_lines: list[str] = field(default_factory=list)

    def __getattr__(self, name: str):
        # endpoints/credentials straight from the ready line: oss_endpoint, mns_endpoint, ...
        info = self.__dict__.get("info", {})
        if name in info:
            return info[name]
        raise AttributeError(name)

    def admin(self, method: str, path: str, body: dict | None = None) -> dict:
        """One admin call (`/counters`, `/faults`, `/clock`...); the token is in admin_endpoint."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.admin_endpoint}{path}", method=method, data=data)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"{}")

    def run_inventory(
        self, bucket: str, inventory_id: str, rows_per_file: int | None = None
    ) -> dict:
        """Write bucket's inventory `inventory_id` now (admin POST /oss/inventory/run); answers
        {"written", "manifest_key", "files": [{key, size, MD5checksum}], "rows", ...}. Raises
        InventoryRunFailed (status, message) when OSS could not write it (e.g. the role)."""
        body: dict = {"bucket": bucket, "inventory_id": inventory_id}
        if rows_per_file is not None:
            body["rows_per_file"] = rows_per_file
        try:
            return self.admin("POST", "/oss/inventory/run", body)
        except urllib.error.HTTPError as exc:
            detail = json.loads(exc.read() or b"{}").get("error", "")
            raise InventoryRunFailed(exc.code, detail) from None

    def set_faults(self, **faults) -> dict:
        """POST the admin /faults settings (latency_ms, fault_rate, kinds, ops, seed...)."""
        return self.admin("POST", "/faults", faults)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then SIGKILL if it does not exit in time; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        return self.process.returncode

    def kill(self) -> None:
        """kill -9: for crash tests."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(15)


def start(
    data_dir: str | os.PathLike | None = None,
    *args: str,
    timeout: float = 60.0,
    env: dict | None = None,
) -> LocalCloud:
    """Run `localcloud serve --data-dir D --oss-port 0 ... *args` and wait until it is ready."""
    data_dir = Path(data_dir or tempfile.mkdtemp(prefix="localcloud-"))
    cmd = [sys.executable, "-m", "localcloud", "serve", "--data-dir", str(data_dir), *args]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        env={**os.environ, **(env or {})},
    )
    lines: list[str] = []
    ready: dict = {}
    got_ready = threading.Event()

    def pump() -> None:
        # keep draining output so the child never blocks on a full pipe
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            if line.startswith(READY_PREFIX) and not got_ready.is_set():
                ready.update(json.loads(line[len(READY_PREFIX) :]))
                got_ready.set()
            lines.append(line)
            if len(lines) > 5000:
                del lines[:1000]

    threading.Thread(target=pump, daemon=True, name="localcloud-output").start()
    deadline = time.monotonic() + timeout
    while not got_ready.wait(0.05):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            tail = "\n".join(lines[-40:])
            raise LocalCloudStartError(
                f"localcloud did not become ready (exit={proc.poll()}); last output:\n{tail}"
            )
    return LocalCloud(process=proc, data_dir=data_dir, info=ready, log_lines=lines)
