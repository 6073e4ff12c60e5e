"""Worker processes for a long page: its per-item requests (copy's objects, unzip's small
entries) spread over the instance's CPUs.

One Python process copies at most ~1,000 small objects/s: each request costs ~1 ms of
CPU (oss2 + urllib3 + http.client) under one GIL, whatever the thread count. An FC
instance with several vCPUs only uses them with several processes. ``PageWorkers`` has
the face of ``BoundedPool`` (``submit``, ``drain``, ``max_in_flight``) so ``run_page``
keeps owning the page: which items are taken, the time budget, where the next page
starts. Items run in-process until the page has shown it is long (``fanout_after``
items), then go in batches to worker processes; small pages never pay the ~0.5 s a
worker takes to start. See docs/decisions/page-worker-processes.md.

Workers are plain ``python -m handlers.processes`` children over a socketpair: no
multiprocessing start method, so FC's runtime module is never re-imported in them.
They share the invocation's process group (killed with it on a timeout) and exit on
their own when the parent's end of the socket closes.
"""

from __future__ import annotations

import os
import pickle
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection

from .clients import Credentials, OssClients
from .errors import SystemicError
from .pool import BoundedPool
from .retrying import RetryPolicy

BATCH_ITEMS = 32  # one pickle per 32 items: ~0.05 s of a worker's time, cheap to send
STARTUP_SECONDS = 60.0


class WorkerLost(SystemicError):
    """A page worker process died (killed, out of memory): its batches' outcome is unknown."""


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs to build the page's item processor (sent, not on argv)."""

    processor: str  # "module:factory", called as factory(event_json, clients, report, tally)
    event_json: str
    endpoint: str
    credentials: Credentials
    concurrency: int
    max_buffered_bytes: int
    retry_attempts: int


def portable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling, else a SystemicError that names it."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return SystemicError(f"{type(exc).__name__} in a page worker: {exc}")


class RemoteWorker:
    """One child process; batches in, (batch id, counter deltas, report lines, error) out."""

    def __init__(self, spec: WorkerSpec, on_result: Callable[[dict, list[bytes]], None]):
        parent_end, child_end = socket.socketpair()
        env = dict(os.environ)
        # the child imports what this process imports (FC puts dependencies on sys.path)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
        # glibc gives each thread that mallocs an arena of its own (up to 8 per CPU); one
        # serves a worker's request threads as fast (they malloc holding the GIL anyway)
        # and keeps ~7 MB of its RSS
        env.setdefault("MALLOC_ARENA_MAX", "1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "handlers.processes", str(child_end.fileno())],
            pass_fds=[child_end.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # FC's runtime may own stdout; logs go to stderr
            env=env,
        )
        child_end.close()
        self.conn = Connection(parent_end.detach())
        self.conn.send(spec)
        self.on_result = on_result
        self.ready = threading.Event()
        self.lost: BaseException | None = None
        self.closing = False
        self.started = False  # said "ready": a worker that never did was lost, closing or not
        self.outstanding: dict[int, tuple[Future, int]] = {}  # batch id -> (future, items)
        self.in_flight_items = 0
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._receiver = threading.Thread(target=self._receive, daemon=True, name="page-worker")
        self._receiver.start()

    def send(self, batch_id: int, items: list, future: Future) -> None:
        with self._lock:
            if self.lost is not None:
                future.set_exception(self.lost)
                return
            self.outstanding[batch_id] = (future, len(items))
            self.in_flight_items += len(items)
        try:
            with self._send_lock:
                self.conn.send((batch_id, items))
        except OSError as exc:
            self._lose(WorkerLost(f"page worker {self.process.pid} is gone: {exc}"))

    def _receive(self) -> None:
        try:
            while True:
                message = self.conn.recv()
                if message == "ready":
                    self.started = True
                    self.ready.set()
                    continue
                batch_id, deltas, lines, error = message
                self.on_result(deltas, lines)
                with self._lock:
                    future, count = self.outstanding.pop(batch_id)
                    self.in_flight_items -= count
                    self._changed.notify_all()
                if error is None:
                    future.set_result(count)
                else:
                    future.set_exception(error)
        except (EOFError, OSError) as exc:
            if self.closing and self.started and not self.outstanding:
                return  # we asked it to finish: a clean exit, not a loss
            try:
                code = self.process.wait(5)  # a dead child's exit code says how it died
            except subprocess.TimeoutExpired:
                code = None
            self._lose(
                WorkerLost(
                    f"page worker {self.process.pid} ended (exit code {code}) with "
                    f"{len(self.outstanding)} batch(es) unfinished: {type(exc).__name__}"
                )
            )

    def _lose(self, error: BaseException) -> None:
        with self._lock:
            if self.lost is None:
                self.lost = error
            pending = list(self.outstanding.values())
            self.outstanding.clear()
            self.in_flight_items = 0
            self._changed.notify_all()
        self.ready.set()  # nobody waits for a worker that will never be ready
        for future, _ in pending:
            if not future.done():
                future.set_exception(self.lost)

    def close(self, timeout: float = 30.0) -> None:
        self.closing = True
        try:
            with self._send_lock:
                self.conn.send(None)  # no more batches: finish and exit
        except OSError:
            pass
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._receiver.join(timeout)
        self.conn.close()


class PageWorkers:
    """``BoundedPool``'s face over the local pool first, then worker processes once the page is long."""

    def __init__(
        self,
        local: BoundedPool,
        spec: WorkerSpec | None,
        *,
        processes: int,
        fanout_after: int,
        on_result: Callable[[dict, list[bytes]], None],
        log=None,
    ):
        # told how many worker processes start (request pacing splits the page's share)
        self.on_fanout: Callable[[int], None] | None = None
        self.local = local
        self.spec = spec
        self.processes = processes if spec is not None else 1
        self.fanout_after = fanout_after
        self.on_result = on_result
        self.log = log
        self.max_in_flight = local.max_in_flight
        self.workers: list[RemoteWorker] = []
        self._submitted = 0
        self._batch: list = []
        self._batch_future: Future | None = None
        self._batch_id = 0
        self._futures: list[Future] = []

    def submit(self, process: Callable, item) -> Future:
        future = self.try_submit(item)
        return future if future is not None else self.local.submit(process, item)

    def try_submit(self, item) -> Future | None:
        """The item's batch future once a worker is ready, else None (run it locally)."""
        self._submitted += 1
        if self.processes > 1 and not self.workers and self._submitted > self.fanout_after:
            self.workers = [RemoteWorker(self.spec, self.on_result) for _ in range(self.processes)]
            if self.on_fanout is not None:
                self.on_fanout(self.processes)
            if self.log is not None:
                self.log.info(
                    "page_workers_started",
                    after_items=self._submitted - 1,
                    pids=[w.process.pid for w in self.workers],
                )
        ready = [w for w in self.workers if w.ready.is_set() and w.lost is None]
        if not ready:
            return None
        if self._batch_future is None:
            self._batch_future = Future()
        self._batch.append(item)
        future = self._batch_future
        if len(self._batch) >= BATCH_ITEMS:
            self._flush(ready)
        return future

    def _flush(self, ready: list[RemoteWorker] | None = None) -> None:
        if not self._batch:
            return
        ready = ready or [w for w in self.workers if w.ready.is_set() and w.lost is None]
        batch, future = self._batch, self._batch_future
        self._batch, self._batch_future = [], None
        self._batch_id += 1
        self._futures.append(future)
        if len(self._futures) >= 256:  # a 100,000-item page has ~3,000 batches: keep the unfinished
            self._futures[:] = [f for f in self._futures if not f.done()]
        if not ready:  # every worker died: the future carries the reason
            future.set_exception(
                next((w.lost for w in self.workers if w.lost), WorkerLost("no page worker"))
            )
            return
        worker = min(ready, key=lambda w: w.in_flight_items)
        # a batch is answered when its last item ends: keep a few queued behind the running
        # ones so no worker idles at batch boundaries, but never read the whole index ahead
        limit = self.spec.concurrency + 3 * BATCH_ITEMS
        with worker._changed:
            worker._changed.wait_for(
                lambda: worker.in_flight_items + len(batch) <= limit or worker.lost is not None
            )
        worker.send(self._batch_id, batch, future)

    def drain(self) -> None:
        self._flush()
        self.local.drain()
        for future in self._futures:
            try:
                future.exception()  # wait; run_page's own check raises it
            except Exception:  # noqa: S110 - cancelled futures: nothing to wait for
                pass

    def close(self) -> None:
        for worker in self.workers:
            worker.close()
            if worker.lost is not None and self.log is not None:
                # a worker that died before taking work costs speed, not items: say so
                self.log.warning("page_worker_lost", pid=worker.process.pid, error=str(worker.lost))


def make_spec(processor: str, event, clients: OssClients, payload: str | None = None) -> WorkerSpec:
    """The spec of ``event``'s page workers; ``payload`` (else the event's JSON) is what the
    processor factory gets: a worker that needs a few names need not import the event model."""
    tuning = event.tuning
    return WorkerSpec(
        processor=processor,
        event_json=event.model_dump_json() if payload is None else payload,
        endpoint=clients.endpoint,
        credentials=clients.credentials,
        concurrency=tuning.concurrency,
        max_buffered_bytes=tuning.max_buffered_mb * 1024 * 1024,
        retry_attempts=tuning.retry_attempts,
    )


def serve(conn: Connection) -> None:
    """Child side: build the processor, run batches on a local pool, answer per batch."""
    import importlib

    from .report import ReportPart
    from .tally import Tally

    spec: WorkerSpec = conn.recv()
    module_name, factory_name = spec.processor.split(":")
    factory = getattr(importlib.import_module(module_name), factory_name)
    clients = OssClients(
        spec.endpoint,
        spec.credentials,
        pool_size=spec.concurrency,
        retry=RetryPolicy(attempts=spec.retry_attempts),
    )
    report, tally = ReportPart("worker"), Tally()
    process = factory(spec.event_json, clients, report, tally)
    send_lock = threading.Lock()
    conn.send("ready")

    def finished(batch_id: int, state: dict, future: Future) -> None:
        error = future.exception()
        with send_lock:
            if error is not None and state["error"] is None:
                state["error"] = portable(error)
            state["left"] -= 1
            if state["left"]:
                return
            # counters and report lines since the last answer: the parent adds them up
            conn.send((batch_id, tally.take_deltas(), report.take_lines(), state["error"]))

    with BoundedPool(spec.concurrency, spec.max_buffered_bytes) as pool:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break  # the parent is gone: finish what runs, then exit
            if message is None:
                break
            batch_id, items = message
            state = {"left": len(items), "error": None}
            for item in items:
                pool.submit(process, item).add_done_callback(
                    lambda f, b=batch_id, s=state: finished(b, s, f)
                )
        pool.drain()


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])))
