"""Counters add up across a crash: kill -9 localcloud in the middle of a copy (at an exact
request, through its admin /crash switch: no sleeps), start it again, let the engine
resume the job by itself: done + skipped + failed == the objects of the index, and every
object arrived."""

from __future__ import annotations

import json
import os
import time
import urllib.request

import oss2
import pytest

from ossbatch import cloud, jobdocs, sampledata
from ossbatch.config import load_environment
from ossbatch.jobs import Jobs, new_job_id
from ossbatch.local import bring_down, bring_up

OBJECTS = 120
PAGE = 10


def crash_after(state: dict, op: str, requests: int) -> None:
    body = json.dumps({"service": "oss", "op": op, "after": requests}).encode()
    url = state["localcloud"]["admin_endpoint"] + "/crash"
    urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=10)


def wait_dead(pid: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)  # our child (bring_up spawned it): reap it
        if done:
            return
        time.sleep(0.05)
    raise AssertionError("localcloud did not reach its crash point")


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    "source, restart",
    [
        ("index", "engine resumes"),
        ("listing", "engine resumes"),
        ("index", "jobs resume"),
        ("listing", "jobs resume"),
    ],
)
def test_counters_add_up_after_kill_9_and_resume(tmp_path, source, restart):
    env = load_environment("local")
    data_dir = tmp_path / "lc"
    extra = ["--fail-interrupted"] if restart == "jobs resume" else []
    state = bring_up(env, data_dir, extra)
    try:
        conn = cloud.from_local_state(state)
        sources = conn.oss_bucket(conn.buckets["sources"])
        keys = sampledata.object_keys("cc/", OBJECTS)
        sampledata.upload_objects(sources, keys)
        sources.put_object("cc.csv", sampledata.csv_index(conn.buckets["sources"], keys))
        doc = jobdocs.copy_document(
            conn,
            new_job_id("copy"),
            index=f"oss://{conn.buckets['sources']}/cc.csv" if source == "index" else None,
            source=f"oss://{conn.buckets['sources']}/cc/" if source == "listing" else None,
            dest=f"oss://{conn.buckets['archive']}/cc/",
            storage_class="Archive",
            concurrency=2,
            page_budget_s=50,
            max_items_per_page=PAGE,
        )
        crash_after(state, "CopyObject", OBJECTS // 2 + PAGE // 2)  # mid-page, mid-job
        job_id = Jobs(conn).start("copy", doc)
        wait_dead(int(state["localcloud"]["pid"]))

        state = bring_up(env, data_dir, extra)  # same data dir: a restart
        conn = cloud.from_local_state(state)
        jobs = Jobs(conn)
        if restart == "jobs resume":  # the engine ended it Failed (FnF.ExecutionInterrupted)
            assert jobs.status(job_id).state == "failed"
            jobs.resume(job_id)
        seen: list[int] = []  # every status read while it runs: never more than the index
        final = jobs.wait(
            job_id, interval=0.2, timeout=300, on_update=lambda st: seen.append(st.progress.items)
        )
        assert max(seen) <= OBJECTS, seen
        assert final.state == "succeeded", final.error
        p = final.progress
        assert (p.done, p.failed) != (0, 0)
        assert p.done + p.skipped + p.failed == OBJECTS, (p.done, p.skipped, p.failed)
        assert p.failed == 0
        archive = conn.oss_bucket(conn.buckets["archive"])
        assert len(list(oss2.ObjectIterator(archive, prefix="cc/"))) == OBJECTS
    finally:
        bring_down(data_dir)
