"""kill -9 localcloud in the middle of a 20,000-object copy, start it again, `jobs resume`:
every object arrives with the right class and bytes, and no object is copied more than
once beyond one page per shard per crash (counted from localcloud's request counters)."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request

import pytest
from typer.testing import CliRunner

from ossbatch import cloud, jobdocs, sampledata
from ossbatch.cli import app
from ossbatch.config import load_environment
from ossbatch.jobs import Jobs, new_job_id
from ossbatch.local import bring_down, bring_up

OBJECTS = 20_000
SHARDS = 4
PAGE = 500  # items per page: the most one crash may repeat per shard


def counters(state: dict) -> dict:
    url = state["localcloud"]["admin_endpoint"] + "/counters"
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.load(answer).get("oss", {})


def copies(state: dict) -> int:
    c = counters(state)
    return int(c.get("CopyObject", 0)) + int(c.get("UploadPartCopy", 0))


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_kill_9_mid_copy_then_resume_copies_everything_once(tmp_path):
    env = load_environment("local")
    data_dir = tmp_path / "lc"
    state = bring_up(env, data_dir)
    try:
        conn = cloud.from_local_state(state)
        sources = conn.oss_bucket(conn.buckets["sources"])
        keys = sampledata.object_keys("crash/", OBJECTS)
        sampledata.upload_objects(sources, keys, threads=32)
        sources.put_object("crash.csv", sampledata.csv_index(conn.buckets["sources"], keys))
        doc = jobdocs.copy_document(
            conn,
            new_job_id("copy"),
            index=f"oss://{conn.buckets['sources']}/crash.csv",
            source=None,
            dest=f"oss://{conn.buckets['archive']}/crash/",
            storage_class="Archive",
            concurrency=SHARDS,
            page_budget_s=50,
            max_items_per_page=PAGE,
        )
        job_id = Jobs(conn).start("copy", doc)

        # let a third of the objects through, then kill -9 right after reading the counters
        before_crash = 0
        deadline = time.monotonic() + 300
        while before_crash < OBJECTS // 3:
            assert time.monotonic() < deadline, "copy made no progress"
            time.sleep(0.2)
            before_crash = copies(state)
        os.kill(int(state["localcloud"]["pid"]), signal.SIGKILL)
        time.sleep(0.5)

        state = bring_up(env, data_dir)  # same data dir: a restart, provisioning converges
        conn = cloud.from_local_state(state)
        runner = CliRunner()
        # the engine resumes the interrupted execution itself (docs/decisions/flow-resume.md);
        # `jobs resume` then just reports it, or restarts the chain if it had failed
        result = runner.invoke(
            app, ["--data-dir", str(data_dir), "jobs", "resume", job_id, "--json"]
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["job_id"] == job_id
        final = Jobs(conn).wait(job_id, interval=1.0, timeout=900)
        assert final.state == "succeeded", final.error
        after_restart = copies(state)

        archive = conn.oss_bucket(conn.buckets["archive"])
        import oss2

        listed = {o.key: o for o in oss2.ObjectIterator(archive, prefix="crash/")}
        assert len(listed) == OBJECTS
        for i, key in enumerate(keys):
            obj = listed["crash/" + key]
            assert obj.size == sampledata.size_of(i), key
            assert obj.storage_class == "Archive", key
        total = before_crash + after_restart
        assert total <= OBJECTS + SHARDS * PAGE, (
            f"{total} copies for {OBJECTS} objects: more than one page per shard repeated"
        )
    finally:
        bring_down(data_dir)
