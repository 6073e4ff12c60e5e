"""copy pages spread over worker processes (handlers.processes) against localcloud through oss2.

Worker processes are real children running ``python -m handlers.processes``; nothing is
faked. ``fanout_after_items`` is lowered so small pages fan out too.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import oss2
import psutil
import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers import copy as copy_handler
from handlers.errors import DestinationBucketMissing, SystemicError
from handlers.events import CopyEvent, parse_event
from handlers.processes import WorkerLost, portable
from handlers.tally import Tally
from tests.handlerkit import fc_context, read_report


def seed(bucket, n: int, missing: set[int] = frozenset()) -> list[str]:
    """n index lines; the objects numbered in ``missing`` are never uploaded."""
    keys = [f"src/{i:05d}.bin" for i in range(n)]
    with ThreadPoolExecutor(8) as pool:  # oss2's default pool holds 10 connections
        list(
            pool.map(
                lambda k: bucket.put_object(k, k.encode()),
                [k for i, k in enumerate(keys) if i not in missing],
            )
        )
    bucket.put_object("index.jsonl", "".join(json.dumps({"key": k}) + "\n" for k in keys))
    return keys


def event(bucket, dest, **tuning) -> dict:
    return {
        "job_id": "fanout",
        "index": {"bucket": bucket.bucket_name, "key": "index.jsonl"},
        "dest": {"bucket": dest.bucket_name, "prefix": "c/", "storage_class": "Archive"},
        "tuning": {"processes": 2, "fanout_after_items": 0, **tuning},
    }


def run(ev: dict, cloud):
    return copy_handler.run(parse_event(CopyEvent, ev), fc_context(cloud))


def dest_keys(dest) -> dict[str, str]:
    return {o.key: o.storage_class for o in oss2.ObjectIterator(dest, prefix="c/")}


def test_a_fanned_out_page_copies_every_object_once_and_merges_reports(
    env, localcloud, bucket, dest, capfd
):
    keys = seed(bucket, 600, missing={17, 333})
    result = run(event(bucket, dest), localcloud)
    assert result["done"]
    counters = result["counters"]
    assert {k: counters[k] for k in ("done", "skipped", "failed", "bytes")} == {
        "done": 598,
        "skipped": 0,
        "failed": 2,
        "bytes": 0,  # the index has no sizes
    }
    assert not any(v for k, v in counters.items() if k.startswith("skipped_"))
    copied = dest_keys(dest)
    assert set(copied) == {"c/" + k for i, k in enumerate(keys) if i not in (17, 333)}
    assert set(copied.values()) == {"Archive"}
    failures = read_report(dest, result["report_key"])  # written by the parent, once
    assert sorted(f["key"] for f in failures) == [keys[17], keys[333]]
    assert {f["code"] for f in failures} == {"NoSuchKey"}
    # no worker outlives its page
    assert not [p for p in psutil.Process().children() if "handlers.processes" in p.cmdline()]
    logged = [
        json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")
    ]
    started = [e for e in logged if e["event"] == "page_workers_started"]
    assert len(started) == 1 and len(started[0]["pids"]) == 2
    assert not [e for e in logged if e["event"] == "page_worker_lost"]  # closed, not lost


def test_pages_cut_by_max_items_cover_the_index_exactly_once(env, localcloud, bucket, dest):
    keys = seed(bucket, 500)
    ev, pages, seen = event(bucket, dest, max_items=130), 0, 0
    while True:
        result = run(ev, localcloud)
        pages += 1
        seen += sum(result["counters"][k] for k in ("done", "skipped", "failed"))
        if result["done"]:
            break
        ev["index"]["offset"] = result["next_offset"]
    assert pages == 4 and seen == 500
    assert len(dest_keys(dest)) == len(keys)
    rerun = run(event(bucket, dest), localcloud)  # already there: all skipped, none copied
    assert rerun["counters"]["skipped"] == 500 and rerun["counters"]["done"] == 0


def test_a_systemic_error_in_a_worker_fails_the_page_by_name(env, localcloud, bucket, dest):
    seed(bucket, 200)
    ev = event(bucket, dest)
    ev["dest"]["bucket"] = f"gone-{uuid.uuid4().hex[:12]}"
    with pytest.raises(DestinationBucketMissing, match="gone-"):
        run(ev, localcloud)


def test_a_killed_worker_fails_the_page_with_worker_lost(env, localcloud_factory):
    cloud = localcloud_factory()
    auth = oss2.Auth(cloud.access_key_id, cloud.access_key_secret)
    src = oss2.Bucket(auth, cloud.oss_endpoint, f"s-{uuid.uuid4().hex[:12]}")
    dst = oss2.Bucket(auth, cloud.oss_endpoint, f"d-{uuid.uuid4().hex[:12]}")
    src.create_bucket()
    dst.create_bucket()
    seed(src, 800)
    cloud.set_faults(latency_ms=30)  # ~0.75 s of work per worker: time to find and kill one
    killed = []

    def kill_a_worker():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not killed:
            for p in psutil.Process().children():
                # a worker with open connections is copying: it holds batches
                if "handlers.processes" in " ".join(p.cmdline()) and p.net_connections("tcp"):
                    p.kill()
                    killed.append(p.pid)
                    return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_a_worker)
    killer.start()
    ev = event(src, dst, concurrency=4)
    ev["oss_endpoint"] = cloud.oss_endpoint
    with pytest.raises(WorkerLost, match=r"page worker \d+ ended"):
        copy_handler.run(parse_event(CopyEvent, ev), fc_context(cloud))
    killer.join()
    assert killed


def test_worker_lost_is_retried_by_the_copy_flow():
    flow = open("flows/copy.yaml", encoding="utf-8").read()
    assert flow.count("WorkerLost") == 2  # index pages and listing pages


def test_unpicklable_errors_cross_as_a_systemic_error_naming_them():
    class Local(Exception):  # defined in a function: pickle cannot find it by name
        pass

    crossed = portable(Local("boom"))
    assert isinstance(crossed, SystemicError) and "Local" in str(crossed) and "boom" in str(crossed)
    kept = portable(DestinationBucketMissing("d"))
    assert type(pickle.loads(pickle.dumps(kept))) is DestinationBucketMissing


@given(
    st.lists(
        st.one_of(
            st.dictionaries(st.sampled_from(["done", "failed", "bytes"]), st.integers(0, 50)),
            st.none(),
        )
    )
)
def test_tally_deltas_add_up_to_the_totals(steps):
    tally, parent = Tally(), Tally()
    for step in steps:
        if step is None:  # a worker answers a batch
            parent.add(**tally.take_deltas())
        else:
            tally.add(**step)
    parent.add(**tally.take_deltas())
    assert parent.values == tally.values


PARENT = """
import json, sys, time
from handlers.clients import Credentials
from handlers.processes import RemoteWorker, WorkerSpec
spec = WorkerSpec(
    processor="handlers.copy:worker_copier",
    event_json=json.dumps({"job_id": "j", "listing": {"bucket": "b-x1"}, "dest": {"bucket": "b-x2"}}),
    endpoint=sys.argv[1], credentials=Credentials("id", "secret"),
    concurrency=2, max_buffered_bytes=1 << 20, retry_attempts=1,
)
worker = RemoteWorker(spec, on_result=lambda deltas, lines: None)
assert worker.ready.wait(30) and worker.lost is None
print(worker.process.pid, flush=True)
time.sleep(60)
"""


def test_a_worker_exits_on_its_own_when_its_parent_is_killed(localcloud):
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, localcloud.oss_endpoint],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own group: only the parent dies, not the worker with it
    )
    try:
        worker = psutil.Process(int(parent.stdout.readline()))
        parent.kill()  # SIGKILL: no cleanup runs, as when FC kills an instance
        parent.wait()
        worker.wait(10)  # EOF on its socket: it finishes and exits by itself (else TimeoutExpired)
        assert not worker.is_running()
    finally:
        parent.kill()


def test_processes_default_from_the_environment_and_bad_values_are_named(
    env, monkeypatch, localcloud, bucket, dest
):
    seed(bucket, 50)
    ev = event(bucket, dest)
    del ev["tuning"]["processes"]
    monkeypatch.setenv("OSSBATCH_PROCESSES", "two")
    with pytest.raises(SystemicError, match="OSSBATCH_PROCESSES='two'"):
        run(ev, localcloud)
    monkeypatch.setenv("OSSBATCH_PROCESSES", "1")
    spawned = []

    def watch():
        for _ in range(50):
            spawned.extend(
                p for p in psutil.Process().children() if "handlers.processes" in p.cmdline()
            )
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    assert run(ev, localcloud)["counters"]["done"] == 50
    watcher.join()
    assert not spawned  # one process: the page never fans out


def test_workers_that_cannot_start_leave_the_page_to_the_local_pool(localcloud):
    from handlers.clients import Credentials
    from handlers.pool import BoundedPool
    from handlers.processes import PageWorkers, WorkerSpec

    spec = WorkerSpec(
        processor="handlers.no_such_module:factory",  # the child dies on import
        event_json="{}",
        endpoint=localcloud.oss_endpoint,
        credentials=Credentials("id", "secret"),
        concurrency=2,
        max_buffered_bytes=1 << 20,
        retry_attempts=1,
    )
    warnings = []

    class Log:
        def info(self, event, **fields):
            pass

        def warning(self, event, **fields):
            warnings.append((event, fields))

    done = []
    with BoundedPool(4) as local:
        workers = PageWorkers(local, spec, processes=2, fanout_after=0, on_result=None, log=Log())
        try:
            for n in range(300):
                workers.submit(done.append, n)
                time.sleep(0.002)  # long enough for the children to fail meanwhile
            workers.drain()
        finally:
            workers.close()
    assert sorted(done) == list(range(300))  # nothing lost, all ran in-process
    assert [e for e, _ in warnings] == ["page_worker_lost", "page_worker_lost"]
    assert all("ended (exit code 1)" in f["error"] for _, f in warnings), warnings
