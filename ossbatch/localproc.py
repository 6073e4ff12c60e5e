"""Run `localcloud serve` as a detached background process and find it again later.

ossbatch never imports localcloud: it runs the `localcloud` command (same Python),
reads the one `LOCALCLOUD_READY {json}` line from its log and remembers it in the
state file under the data dir.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ossbatch.cloud import ConfigError
from ossbatch.output import CloudUnreachable

READY_PREFIX = "LOCALCLOUD_READY "
LOG_NAME = "localcloud.log"


class LocalCloudNotReady(ConfigError):
    """localcloud exited or stayed silent before printing its ready line."""


ENDPOINT_KEYS = (
    "oss_endpoint",
    "mns_endpoint",
    "fc_endpoint",
    "fnf_endpoint",
    "ram_endpoint",
    "kms_endpoint",
    "admin_endpoint",
)


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if _is_zombie(pid):
        try:  # a zombie child of ours: reap it
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        return False
    # a zombie child of ours still answers kill(0): reap it if it is ours
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def serves(pid: int, data_dir: Path) -> bool:
    """pid is a `localcloud serve` of data_dir (after kill -9 a PID may belong to anyone)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"localcloud" in argv and str(data_dir).encode() in argv


def endpoints_answer(info: dict, timeout: float = 1.0) -> bool:
    """Every listener of the ready line accepts a TCP connection (a live PID is not enough)."""
    from urllib.parse import urlparse

    for key in ENDPOINT_KEYS:
        if not info.get(key):
            continue
        url = urlparse(info[key])
        try:
            socket.create_connection((url.hostname, url.port), timeout=timeout).close()
        except OSError:
            return False
    return True


def running(state: dict) -> bool:
    info = state.get("localcloud") or {}
    return pid_alive(int(info.get("pid", 0))) and endpoints_answer(info)


def check_answers(state: dict, data_dir: Path) -> None:
    """CloudUnreachable (exit 3) when the localcloud of the state file is gone or silent."""
    if not running(state):
        pid = (state.get("localcloud") or {}).get("pid")
        raise CloudUnreachable(
            f"localcloud for data dir {data_dir} is not answering (pid {pid}); run "
            f"`ossbatch local up --data-dir {data_dir}`, then `ossbatch jobs resume <job-id>` "
            "for jobs that were running"
        )


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
