"""FcRuntime: functions, invocations (sync and async with FC's retries) and OSS triggers.

Semantics only; the FC 3.0 HTTP API in `api.py` is a thin layer over this.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import heapq
import itertools
import json
import logging
import shutil
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import codezip
from .errors import (
    FcError,
    FunctionAlreadyExists,
    FunctionError,
    FunctionNotFound,
    FunctionThrottled,
    FunctionTimeout,
    InvalidArgument,
    TriggerAlreadyExists,
    TriggerNotFound,
)
from .instances import FunctionInstances, Instance, instance_environment
from .spec import FunctionSpec, TriggerSpec
from .store import AsyncTask, FcStore

log = logging.getLogger("localcloud.fc")


class ShuttingDown(FcError):
    status = 503
    code = "ServiceUnavailable"

    def __init__(self):
        super().__init__("localcloud is shutting down; retry against the next instance")


# The project root: the code root of functions created without a code zip, so
# `index.unzip` resolves as it does in the uploaded code package.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _to_spec(spec: FunctionSpec | dict) -> FunctionSpec:
    if isinstance(spec, FunctionSpec):
        return spec
    try:
        return FunctionSpec(**spec)
    except TypeError as exc:  # unknown or missing fields
        raise InvalidArgument(f"function spec {spec.get('name')!r}: {exc}") from None


def _credentials_dict(credentials) -> dict:
    if credentials is None:
        return {"access_key_id": "", "access_key_secret": "", "security_token": ""}
    get = (
        credentials.get
        if isinstance(credentials, dict)
        else (lambda k, d="": getattr(credentials, k, d))
    )
    return {
        "access_key_id": get("access_key_id", "") or "",
        "access_key_secret": get("access_key_secret", "") or "",
        "security_token": get("security_token", "") or "",
    }


class FcRuntime:
    """The local FC 3.0: create functions from specs, invoke them, wire OSS triggers.

    Concurrency: an instance serves one invocation at a time and a function runs
    at most `reserved_concurrency` (default `default_concurrency`) at once. A sync
    invocation over the limit raises FunctionThrottled at once (FC 3.0: 429
    ResourceThrottled) unless the caller passes `wait_for_slot` seconds; async
    invocations wait for a slot (FC retries throttled async calls with back-off).
    """

    def __init__(
        self,
        notifications=None,
        credentials=None,
        region: str = "cn-hangzhou",
        account_id: str = "1234567890123456",
        data_dir=".localcloud",
        *,
        code_root: str | Path | None = None,
        default_concurrency: int = 32,
        idle_instance_seconds: float = 300.0,
        async_threads: int = 32,
        async_retry_base_delay: float = 0.5,
        throttle_retry_delay: float = 0.05,
        ram=None,
    ):
        self.notifications = notifications
        self.ram = ram  # localcloud's RamService: functions get their role's STS credentials
        self.credentials = _credentials_dict(credentials)
        self.region = region
        self.account_id = account_id
        self.data_dir = Path(data_dir)
        self.code_root = str(Path(code_root).resolve()) if code_root else str(PROJECT_ROOT)
        self.default_concurrency = default_concurrency
        self.idle_instance_seconds = idle_instance_seconds
        self.async_retry_base_delay = async_retry_base_delay
        self.throttle_retry_delay = throttle_retry_delay
        self._store = FcStore(self.data_dir / "fc.sqlite")
        self._lock = threading.RLock()
        self._functions: dict[str, FunctionSpec] = {f.name: f for f in self._store.functions()}
        self._instances: dict[str, FunctionInstances] = {}
        self._subscriptions: dict[tuple[str, str], object] = {}
        self._closing = threading.Event()
        self._closed = False
        self._counters: dict[str, collections.Counter] = {}
        self._counters_lock = threading.Lock()
        self.close_hooks: list = []  # called first by close() (e.g. the HTTP layer's threads)
        # async invocations: a due-time heap served by one scheduler thread
        self._due: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        self._pending: dict[str, dict] = {}
        self._wake = threading.Condition()
        self._executor = ThreadPoolExecutor(
            max_workers=async_threads, thread_name_prefix="fc-async"
        )
        self._scheduler = threading.Thread(
            target=self._schedule_loop, daemon=True, name="fc-async-scheduler"
        )
        self._scheduler.start()
        for task, payload in self._store.pending_tasks():
            # interrupted by a restart: deliver again (FC async is at-least-once)
            self._enqueue(
                task.request_id,
                task.function,
                payload,
                task.source,
                task.attempts,
                created=task.created,
            )
        for trigger in self._store.triggers():
            self._subscribe(trigger)

    # ---------------------------------------------------------------- functions
    def create_function(
        self, spec: FunctionSpec | dict, code_zip: bytes | None = None
    ) -> FunctionSpec:
        spec = _to_spec(spec)
        with self._lock:
            if spec.name in self._functions:
                raise FunctionAlreadyExists(spec.name)
            spec = self._with_code(spec, code_zip)
            self._store.put_function(spec)
            self._functions[spec.name] = spec
        return spec

    def register(self, spec: FunctionSpec | dict, code_zip: bytes | None = None) -> FunctionSpec:
        """Create the function, or replace its configuration if it exists (idempotent)."""
        spec = _to_spec(spec)
        with self._lock:
            current = self._functions.get(spec.name)
            if current is None:
                return self.create_function(spec, code_zip)
            changes = {
                k: v
                for k, v in spec.__dict__.items()
                if k not in ("function_id", "created_time", "last_modified_time", "revision")
            }
            return self.update_function(spec.name, code_zip=code_zip, **changes)

    def update_function(self, name: str, code_zip: bytes | None = None, **changes) -> FunctionSpec:
        with self._lock:
            current = self.get_function(name)
            changes.pop("name", None)
            try:
                spec = current.with_changes(**changes)
            except TypeError as exc:
                raise InvalidArgument(str(exc)) from None
            spec = self._with_code(spec, code_zip)
            self._store.put_function(spec)
            self._functions[name] = spec
            pool = self._instances.get(name)
        if pool is not None:
            pool.retire(older_than_revision=spec.revision)
        return spec

    def delete_function(self, name: str) -> None:
        """Delete the function, its triggers and its instances."""
        with self._lock:
            spec = self.get_function(name)
            for (fn, trigger), _ in list(self._subscriptions.items()):
                if fn == name:
                    self._unsubscribe(fn, trigger)
            self._store.delete_function(name)
            del self._functions[name]
            pool = self._instances.pop(name, None)
        if pool is not None:
            pool.close()
        if spec.code_dir:
            shutil.rmtree(Path(spec.code_dir).parent, ignore_errors=True)

    def get_function(self, name: str) -> FunctionSpec:
        spec = self._functions.get(name)
        if spec is None:
            raise FunctionNotFound(name)
        return spec

    def list_functions(
        self, prefix: str = "", limit: int = 100, next_token: str = ""
    ) -> tuple[list[FunctionSpec], str]:
        """Functions by name after `next_token`; the second value is the next token or ''."""
        names = sorted(
            n for n in self._functions if n.startswith(prefix or "") and n > (next_token or "")
        )
        page = names[:limit]
        token = page[-1] if len(names) > limit else ""
        return [self._functions[n] for n in page], token

    def put_concurrency(self, name: str, reserved: int | None) -> FunctionSpec:
        return self.update_function(name, reserved_concurrency=reserved)

    def concurrency_limit(self, spec: FunctionSpec) -> int:
        if spec.reserved_concurrency is not None:
            return spec.reserved_concurrency
        return self.default_concurrency

    def _with_code(self, spec: FunctionSpec, code_zip: bytes | None) -> FunctionSpec:
        if code_zip is None:
            return spec
        checksum = codezip.crc64(code_zip)
        code_root = self.data_dir / "fc" / "code" / spec.name / checksum
        codezip.unpack(code_zip, code_root)
        return spec.with_changes(
            code_dir=str(code_root), code_checksum=checksum, code_size=len(code_zip)
        )

    # -------------------------------------------------------------- invocation
    def invoke(
        self,
        name: str,
        payload: bytes = b"",
        invocation_type: str = "Sync",
        *,
        wait_for_slot: float = 0.0,
        request_id: str | None = None,
    ) -> bytes:
        """Run the function; Async queues it (FC retries failures) and returns b''."""
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        if invocation_type == "Async":
            self.invoke_async(name, payload, request_id=request_id)
            return b""
        if invocation_type != "Sync":
            raise InvalidArgument(f"invocation type {invocation_type!r} is not Sync or Async")
        spec = self.get_function(name)
        if self._closing.is_set():
            raise ShuttingDown()
        pool = self._pool(name)
        try:
            pool.acquire(self.concurrency_limit(spec), wait_for_slot)
        except FunctionThrottled:
            self._count(name, "throttled")
            raise
        self._count(name, "sync_invocations")
        try:
            return self._run(spec, pool, payload, request_id or self.new_request_id())
        finally:
            pool.release()

    def invoke_async(
        self, name: str, payload: bytes = b"", *, source: str = "api", request_id: str | None = None
    ) -> str:
        """Queue an asynchronous invocation; returns its request id."""
        self.get_function(name)
        request_id = request_id or self.new_request_id()
        self._store.add_task(request_id, name, payload, source)
        self._enqueue(request_id, name, payload, source, attempts=0)
        return request_id

    @staticmethod
    def new_request_id() -> str:
        return f"1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:12]}"

    def _pool(self, name: str) -> FunctionInstances:
        with self._lock:
            pool = self._instances.get(name)
            if pool is None:
                pool = self._instances[name] = FunctionInstances(name)
            return pool

    def _run(
        self, spec: FunctionSpec, pool: FunctionInstances, payload: bytes, request_id: str
    ) -> bytes:
        context = {
            "request_id": request_id,
            "function": {
                "name": spec.name,
                "handler": spec.handler,
                "memory": spec.memory_size,
                "timeout": int(spec.timeout) if float(spec.timeout).is_integer() else spec.timeout,
            },
            "region": self.region,
            "account_id": self.account_id,
            "credentials": self._credentials_or_count(spec),
        }
        try:
            result = pool.run(spec, payload, context, self._start_instance)
        except FunctionTimeout:
            self._count(spec.name, "timeouts")
            raise
        except FunctionError:
            self._count(spec.name, "errors")
            raise
        self._count(spec.name, "succeeded")
        return result

    def _start_instance(self, spec: FunctionSpec) -> Instance:
        credentials = self.function_credentials(spec)
        env = instance_environment(
            spec, region=self.region, account_id=self.account_id, credentials=credentials
        )
        log_path = self.data_dir / "fc" / "logs" / f"{spec.name}.log"
        return Instance(spec, spec.code_dir or self.code_root, env, log_path)

    def _credentials_or_count(self, spec: FunctionSpec) -> dict:
        try:
            return self.function_credentials(spec)
        except FcError:  # its role cannot be assumed: the invocation fails before it runs
            self._count(spec.name, "errors")
            raise

    def function_credentials(self, spec: FunctionSpec) -> dict:
        """The STS credentials of the function's role (localcloud/ram/fc_access.py)."""
        from localcloud.ram.fc_access import function_credentials

        return function_credentials(self.ram, spec.name, spec.role, self.credentials)

    def instances_started(self, name: str) -> int:
        """How many instances the function has started (reuse keeps this low)."""
        pool = self._instances.get(name)
        return pool.started if pool else 0

    def log_path(self, name: str) -> Path:
        return self.data_dir / "fc" / "logs" / f"{name}.log"

    # ---------------------------------------------------------------- counters
    def _count(self, function: str, what: str) -> None:
        with self._counters_lock:
            self._counters.setdefault(function, collections.Counter())[what] += 1

    def counters_snapshot(self) -> dict:
        """Per function: sync_invocations, throttled, succeeded, errors, timeouts,
        async_attempts (first attempts), async_retries, instances_started (admin /counters)."""
        with self._counters_lock:
            out = {name: dict(counter) for name, counter in self._counters.items()}
        for name, pool in list(self._instances.items()):
            out.setdefault(name, {})["instances_started"] = pool.started
        return {"functions": out}

    def reset_counters(self) -> None:
        with self._counters_lock:
            self._counters.clear()

    # ------------------------------------------------------ async invocations
    def async_tasks(self, function: str | None = None) -> list[AsyncTask]:
        return self._store.tasks(function)

    def async_task(self, request_id: str) -> AsyncTask | None:
        return self._store.task(request_id)

    def wait_async_idle(self, timeout: float = 30.0) -> bool:
        """Block until no async invocation is queued or running (tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._wake:
                if not self._pending:
                    return True
            time.sleep(0.02)
        return False

    def _enqueue(
        self, request_id, function, payload, source, attempts, delay=0.0, created=None
    ) -> None:
        with self._wake:
            self._pending[request_id] = {
                "function": function,
                "payload": payload,
                "source": source,
                "attempts": attempts,
                "created": time.time() if created is None else created,
            }
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._seq), request_id))
            self._wake.notify()

    def _schedule_loop(self) -> None:
        next_reap = time.monotonic() + 5
        while not self._closing.is_set():
            with self._wake:
                now = time.monotonic()
                if not self._due or self._due[0][0] > now:
                    timeout = min(self._due[0][0] - now if self._due else 1.0, 1.0)
                    self._wake.wait(timeout)
                    continue
                _, _, request_id = heapq.heappop(self._due)
                task = self._pending.get(request_id)
            if task is None or self._closing.is_set():
                continue
            self._dispatch(request_id, task)
            if time.monotonic() > next_reap:
                next_reap = time.monotonic() + 5
                for pool in list(self._instances.values()):
                    pool.retire(idle_seconds=self.idle_instance_seconds)

    def _dispatch(self, request_id: str, task: dict) -> None:
        spec = self._functions.get(task["function"])
        if spec is None:
            self._finish(request_id, task, "Failed", "function was deleted")
            return
        if time.time() - task["created"] > spec.max_async_event_age_seconds:
            # FC drops an async event older than maxAsyncEventAgeInSeconds
            self._finish(request_id, task, "Expired", "older than maxAsyncEventAgeInSeconds")
            return
        pool = self._pool(spec.name)
        if not pool.try_acquire(self.concurrency_limit(spec)):
            # throttled: not an attempt; FC retries with back-off (0.5 s, 1 s, 2 s...)
            throttled = task.get("throttled", 0)
            task["throttled"] = throttled + 1
            delay = min(self.throttle_retry_delay * (2 ** min(throttled, 6)), 2.0)
            with self._wake:
                heapq.heappush(self._due, (time.monotonic() + delay, next(self._seq), request_id))
            return
        task["throttled"] = 0
        self._executor.submit(self._attempt, request_id, task, spec, pool)

    def _attempt(
        self, request_id: str, task: dict, spec: FunctionSpec, pool: FunctionInstances
    ) -> None:
        task["attempts"] += 1
        self._count(spec.name, "async_attempts" if task["attempts"] == 1 else "async_retries")
        self._store.update_task(request_id, "Running", task["attempts"])
        try:
            self._run(spec, pool, task["payload"], request_id)
        except FunctionError as exc:
            if self._closing.is_set():  # killed by shutdown: deliver again after restart
                self._store.update_task(request_id, "Enqueued", task["attempts"] - 1)
                return
            # FC async: HandledInvocationError/UnhandledInvocationError (a timeout too) are
            # retried maxAsyncRetryAttempts times, 3 by default ("Retry policies",
            # "Configure a retry mechanism"): up to 1 + 3 attempts in all.
            error = f"{exc.error_type}: {exc.message}"
            if task["attempts"] <= spec.max_async_retry_attempts:
                self._store.update_task(request_id, "Enqueued", task["attempts"], error)
                delay = self.async_retry_base_delay * (2 ** (task["attempts"] - 1))
                self._enqueue(
                    request_id,
                    task["function"],
                    task["payload"],
                    task["source"],
                    task["attempts"],
                    delay,
                    created=task["created"],
                )
            else:
                self._finish(request_id, task, "Failed", error)
            return
        except Exception as exc:  # noqa: BLE001 - a runtime fault must not kill the thread
            log.exception("async invocation %s of %s failed in the runtime", request_id, spec.name)
            self._finish(request_id, task, "Failed", f"{type(exc).__name__}: {exc}")
            return
        finally:
            pool.release()
        self._finish(request_id, task, "Succeeded", "")

    def _finish(self, request_id: str, task: dict, status: str, error: str) -> None:
        self._store.update_task(request_id, status, task["attempts"], error, drop_payload=True)
        with self._wake:
            current = self._pending.get(request_id)
            if current is task:
                del self._pending[request_id]

    # ---------------------------------------------------------------- triggers
    def create_trigger(
        self,
        function_name: str,
        *,
        name: str,
        trigger_type: str,
        source_arn: str,
        trigger_config,
        qualifier: str = "LATEST",
        invocation_role: str = "",
        description: str = "",
    ) -> TriggerSpec:
        if not isinstance(trigger_config, str):
            trigger_config = json.dumps(trigger_config)
        with self._lock:
            self.get_function(function_name)
            if (function_name, name) in self._triggers_by_key():
                raise TriggerAlreadyExists(function_name, name)
            trigger = TriggerSpec(
                function_name=function_name,
                name=name,
                trigger_type=trigger_type,
                source_arn=source_arn,
                trigger_config=trigger_config,
                qualifier=qualifier or "LATEST",
                invocation_role=invocation_role or "",
                description=description or "",
            )
            self._store.put_trigger(trigger)
            self._subscribe(trigger)
        return trigger

    def get_trigger(self, function_name: str, name: str) -> TriggerSpec:
        self.get_function(function_name)
        trigger = self._triggers_by_key().get((function_name, name))
        if trigger is None:
            raise TriggerNotFound(function_name, name)
        return trigger

    def list_triggers(
        self, function_name: str, prefix: str = "", limit: int = 100, next_token: str = ""
    ) -> tuple[list[TriggerSpec], str]:
        self.get_function(function_name)
        triggers = sorted(
            (
                t
                for (fn, n), t in self._triggers_by_key().items()
                if fn == function_name and n.startswith(prefix or "") and n > (next_token or "")
            ),
            key=lambda t: t.name,
        )
        page = triggers[:limit]
        return page, (page[-1].name if len(triggers) > limit else "")

    def update_trigger(self, function_name: str, name: str, **changes) -> TriggerSpec:
        """Change trigger_config / description / invocation_role / qualifier; re-subscribes."""
        allowed = {"trigger_config", "description", "invocation_role", "qualifier"}
        changes = {k: v for k, v in changes.items() if k in allowed and v is not None}
        if not isinstance(changes.get("trigger_config", ""), str):
            changes["trigger_config"] = json.dumps(changes["trigger_config"])
        with self._lock:
            current = self.get_trigger(function_name, name)
            updated = dataclasses.replace(
                current,
                last_modified_time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                **changes,
            )
            self._unsubscribe(function_name, name)
            self._store.put_trigger(updated)
            self._subscribe(updated)
        return updated

    def delete_trigger(self, function_name: str, name: str) -> None:
        with self._lock:
            self.get_trigger(function_name, name)
            self._unsubscribe(function_name, name)
            self._store.delete_trigger(function_name, name)

    def _triggers_by_key(self) -> dict[tuple[str, str], TriggerSpec]:
        return {(t.function_name, t.name): t for t in self._store.triggers()}

    def _subscribe(self, trigger: TriggerSpec) -> None:
        if self.notifications is None:
            log.warning(
                "trigger %s of %s stored but not wired: no OSS notifications",
                trigger.name,
                trigger.function_name,
            )
            return
        config = trigger.config
        function, source = trigger.function_name, f"oss:{trigger.name}"

        def deliver(event: dict) -> None:
            from localcloud.ram.fc_access import trigger_denial

            denied = trigger_denial(self.ram, trigger, self.region, self.account_id)
            if denied:  # FC cannot invoke through the invocation role: the event is not delivered
                self._count(function, "trigger_denied")
                log.warning("OSS event for %s not delivered: %s", function, denied)
                return
            try:
                self.invoke_async(function, json.dumps(event).encode("utf-8"), source=source)
            except FunctionNotFound:
                log.warning("OSS event for deleted function %s dropped", function)

        subscription = self.notifications.subscribe(
            trigger.bucket, config.prefix, config.suffix, list(config.events), deliver
        )
        self._subscriptions[(trigger.function_name, trigger.name)] = subscription

    def _unsubscribe(self, function_name: str, name: str) -> None:
        subscription = self._subscriptions.pop((function_name, name), None)
        if subscription is not None and self.notifications is not None:
            self.notifications.unsubscribe(subscription)

    # ---------------------------------------------------------------- lifecycle
    def begin_shutdown(self) -> None:
        """Stop scheduling and kill every instance so in-flight invocations end now
        (localcloud.server calls this before its listeners drain); queued async work persists."""
        if self._closing.is_set():
            return
        self._closing.set()
        with self._wake:
            self._wake.notify_all()
        for function_name, name in list(self._subscriptions):
            self._unsubscribe(function_name, name)
        for pool in list(self._instances.values()):
            pool.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.begin_shutdown()
        for hook in self.close_hooks:
            hook()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._scheduler.join(timeout=5)
        self._store.close()


def decode_zip_file(value: str) -> bytes:
    """`code.zipFile` is the base64 of the zip."""
    try:
        return base64.b64decode(value, validate=True)
    except (ValueError, TypeError):
        raise InvalidArgument("code.zipFile is not valid base64") from None


__all__ = ["FcRuntime", "FunctionThrottled", "PROJECT_ROOT", "decode_zip_file"]
