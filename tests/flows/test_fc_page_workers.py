"""Page worker processes inside a real FC instance of the local runtime (what FC 3.0 runs).

The copy handler runs in an FC worker process that owns stdin/stdout for its frames;
its page workers must not touch those, must finish with the page, and must die with
the instance when FC kills it on a timeout.
"""

from __future__ import annotations

import json
import threading
import time

import oss2
import psutil
import pytest
from jobkit import start_stack

from localcloud.fc.errors import FunctionTimeout
from localcloud.fc.spec import FunctionSpec
from ossbatch import sampledata


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("fcworkers"), env={"OSSBATCH_PROCESSES": "2"})
    yield s
    s.close()


def page_workers() -> list[psutil.Process]:
    """Page workers under this test process (FC instances are its children): not another test's."""
    found = []
    for p in psutil.Process().children(recursive=True):
        try:
            if "handlers.processes" in p.cmdline():
                found.append(p)
        except psutil.NoSuchProcess:
            pass
    return found


def copy_event(stack, index: str, prefix: str) -> bytes:
    return json.dumps(
        {
            "job_id": "fcw",
            "index": {"bucket": stack.bucket_name("src"), "key": index},
            "dest": {"bucket": stack.bucket_name("dst"), "prefix": prefix},
            "tuning": {"fanout_after_items": 0},
        }
    ).encode()


def seed(stack, count: int, name: str) -> list[str]:
    source = stack.bucket("src")
    keys = sampledata.object_keys(f"{name}/", count)
    sampledata.upload_objects(source, keys)
    source.put_object(name, sampledata.csv_index(source.bucket_name, keys))
    return keys


def test_a_page_fans_out_inside_an_fc_instance(stack):
    keys = seed(stack, 600, "fan.csv")
    result = json.loads(stack.fc.invoke("ossbatch-copy", copy_event(stack, "fan.csv", "f/")))
    assert result["done"] and result["counters"]["done"] == 600
    dest = stack.bucket("dst")
    assert sum(1 for _ in oss2.ObjectIterator(dest, prefix="f/")) == len(keys)
    assert not page_workers()  # closed with the page


def test_fc_timeout_kills_the_page_workers_with_the_instance(stack):
    seed(stack, 3000, "slow.csv")
    stack.fc.create_function(
        FunctionSpec(
            name="copy-short",
            handler="index.copy",
            timeout=4,
            environment_variables=stack.fc.get_function("ossbatch-copy").environment_variables,
            role=stack.fc.get_function("ossbatch-copy").role,
        )
    )
    # every request stalls 6 s: in-flight copies outlast the 4 s timeout whatever the budget
    stack.oss.set_faults(stall_rate=1.0, stall_ms=6000, ops=["CopyObject"])
    seen: set[int] = set()
    stop = threading.Event()

    def watch():
        while not stop.wait(0.1):
            seen.update(p.pid for p in page_workers())

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with pytest.raises(FunctionTimeout):
            stack.fc.invoke("copy-short", copy_event(stack, "slow.csv", "s/"))
    finally:
        stop.set()
        watcher.join()
        stack.oss.set_faults(stall_rate=0.0, stall_ms=0)
    assert len(seen) == 2  # the page had fanned out before FC killed the instance
    deadline = time.monotonic() + 10
    while page_workers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not page_workers()
