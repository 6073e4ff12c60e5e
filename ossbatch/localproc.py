"""Run `localcloud serve` as a detached background process and find it again later.

ossbatch never imports localcloud: it runs the `localcloud` command (same Python),
reads the one `LOCALCLOUD_READY {json}` line from its log and remembers it in the
state file under the data dir.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ossbatch.cloud import ConfigError

READY_PREFIX = "LOCALCLOUD_READY "
LOG_NAME = "localcloud.log"


class LocalCloudNotReady(ConfigError):
    """localcloud exited or stayed silent before printing its ready line."""


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours still answers kill(0): reap it if it is ours
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def spawn(data_dir: Path, options: list[str], timeout: float = 60.0) -> dict:
    """Start localcloud detached (own session: survives this CLI) and return its ready info."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / LOG_NAME
    cmd = [sys.executable, "-m", "localcloud", "serve", "--data-dir", str(data_dir), *options]
    with open(log_path, "ab") as log:
        start_offset = log.tell()
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = _read_ready(log_path, start_offset)
        if info is not None:
            info.setdefault("pid", proc.pid)
            return info
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    if proc.poll() is None:
        proc.kill()
    tail = log_path.read_text(errors="replace")[start_offset:][-3000:]
    raise LocalCloudNotReady(
        f"localcloud did not become ready (exit={proc.poll()}); see {log_path}. Last output:\n{tail}"
    )


def _read_ready(log_path: Path, offset: int) -> dict | None:
    with open(log_path, "rb") as log:
        log.seek(offset)
        for raw in log:
            line = raw.decode("utf-8", "replace").strip()
            if line.startswith(READY_PREFIX):
                return json.loads(line[len(READY_PREFIX) :])
    return None


def terminate(pid: int, timeout: float = 20.0) -> bool:
    """SIGTERM, then SIGKILL after timeout; True if it was running."""
    if not pid_alive(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return True
