"""FC instances as reusable worker processes, and the per-function concurrency limit.

An instance serves one invocation at a time and is reused by the next one (FC
reuses instances: module-level state and imports survive). An invocation that
runs past the function's timeout gets its instance killed, as on FC; the next
invocation starts a fresh one.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from .errors import FunctionError, FunctionThrottled, FunctionTimeout
from .protocol import read_frame, write_frame
from .spec import RUNTIMES_WITHOUT_CONTEXT_CREDENTIALS, FunctionSpec

# The directory holding the `localcloud` package: the worker imports itself from it,
# then drops it from sys.path so a handler sees only its own code root first.
_LOCALCLOUD_PARENT = str(Path(__file__).resolve().parents[2])
_WORKER_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from localcloud.fc.worker import main; sys.path.remove(sys.argv[1]); main()"
)
# environment an instance inherits from the host; FC's own and the function's are added
_HOST_ENV = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TMPDIR",
    "TZ",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "SSL_CERT_FILE",
    "PYTHONHASHSEED",
)


class InstanceDied(Exception):
    """The worker process exited while serving an invocation."""


class InstanceTimedOut(Exception):
    """No answer within the function's timeout."""


class Instance:
    """One worker process bound to one revision of one function."""

    def __init__(self, spec: FunctionSpec, code_root: str, env: dict, log_path: Path):
        self.revision = spec.revision
        self.function_name = spec.name
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _WORKER_BOOT, _LOCALCLOUD_PARENT],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=code_root,
                env=env,
                bufsize=0,
                start_new_session=True,
            )
        self.last_used = time.monotonic()
        write_frame(
            self.process.stdin,
            {
                "code_root": code_root,
                "handler": spec.handler,
                "modern_context": spec.runtime in RUNTIMES_WITHOUT_CONTEXT_CREDENTIALS,
            },
        )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def invoke(self, payload: bytes, context: dict, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        try:
            write_frame(self.process.stdin, {"payload": payload, "context": context})
        except (BrokenPipeError, OSError) as exc:
            raise InstanceDied(str(exc)) from None
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([self.process.stdout], [], [], max(remaining, 0))
        if not ready:
            raise InstanceTimedOut()
        answer = read_frame(self.process.stdout)
        if answer is None:
            raise InstanceDied(f"exit code {self.process.wait()}")
        self.last_used = time.monotonic()
        return answer

    def kill(self) -> None:
        """Kill the instance with everything its handler started (its own process group)."""
        if self.process.returncode is None:  # not reaped yet: the group id is still ours
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except OSError:
                pass


class FunctionInstances:
    """The instances of one function, and how many invocations hold a slot."""

    def __init__(self, name: str):
        self.name = name
        self._lock = threading.Condition()
        self._idle: list[Instance] = []
        self._live: set[Instance] = set()
        self.active = 0
        self.started = 0  # instances ever started (tests observe reuse through it)

    def acquire(self, limit: int, wait: float = 0.0) -> None:
        """Take a slot or raise FunctionThrottled (after waiting up to `wait` seconds)."""
        deadline = time.monotonic() + wait
        with self._lock:
            while self.active >= limit:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise FunctionThrottled(self.name, limit)
                self._lock.wait(remaining)
            self.active += 1

    def try_acquire(self, limit: int) -> bool:
        with self._lock:
            if self.active >= limit:
                return False
            self.active += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.active -= 1
            self._lock.notify()

    def run(self, spec: FunctionSpec, payload: bytes, context: dict, start) -> bytes:
        """Run one invocation on an idle instance (or a new one); the caller holds a slot."""
        instance = self._checkout(spec, start)
        try:
            answer = instance.invoke(payload, context, spec.timeout)
        except InstanceTimedOut:
            self._kill(instance)
            raise FunctionTimeout(spec.name, spec.timeout) from None
        except InstanceDied as exc:
            self._kill(instance)
            raise FunctionError(
                "ProcessExited",
                f"the instance of function '{spec.name}' exited before answering ({exc}); "
                "see its log",
            ) from None
        self._checkin(instance, spec)
        if answer["ok"]:
            return answer["body"]
        raise FunctionError(answer["error_type"], answer["message"], answer["stack_trace"])

    def _checkout(self, spec: FunctionSpec, start) -> Instance:
        with self._lock:
            while self._idle:
                instance = self._idle.pop()
                if instance.revision == spec.revision and instance.alive:
                    return instance
                instance.kill()
                self._live.discard(instance)
            self.started += 1
        instance = start(spec)
        with self._lock:
            self._live.add(instance)
        return instance

    def _checkin(self, instance: Instance, spec: FunctionSpec) -> None:
        with self._lock:
            if instance.revision == spec.revision and instance.alive:
                self._idle.append(instance)
                return
        self._kill(instance)

    def _kill(self, instance: Instance) -> None:
        instance.kill()
        with self._lock:
            self._live.discard(instance)

    def retire(self, older_than_revision: str | None = None, idle_seconds: float | None = None):
        """Kill idle instances of another revision, or idle longer than `idle_seconds`."""
        now = time.monotonic()
        with self._lock:
            keep, drop = [], []
            for instance in self._idle:
                stale = older_than_revision is not None and instance.revision != older_than_revision
                expired = idle_seconds is not None and now - instance.last_used > idle_seconds
                (drop if stale or expired or not instance.alive else keep).append(instance)
            self._idle = keep
        for instance in drop:
            self._kill(instance)

    def close(self) -> None:
        """Kill every instance, busy ones included (their invocations fail)."""
        with self._lock:
            live, self._live, self._idle = list(self._live), set(), []
        for instance in live:
            instance.kill()

    @property
    def idle_count(self) -> int:
        with self._lock:
            return len(self._idle)


def instance_environment(
    spec: FunctionSpec, *, region: str, account_id: str, credentials: dict
) -> dict:
    """What FC puts in an instance's environment, plus the function's own variables."""
    env = {k: os.environ[k] for k in _HOST_ENV if k in os.environ}
    env.update(
        {
            "FC_FUNCTION_NAME": spec.name,
            "FC_FUNCTION_HANDLER": spec.handler,
            "FC_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "FC_REGION": region,
            "FC_ACCOUNT_ID": account_id,
            "FC_RUNTIME": spec.runtime,
            # FC 3.0 injects the role's temporary credentials as these variables
            "ALIBABA_CLOUD_ACCESS_KEY_ID": credentials["access_key_id"],
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": credentials["access_key_secret"],
            "ALIBABA_CLOUD_SECURITY_TOKEN": credentials["security_token"],
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(spec.environment_variables)
    return env
