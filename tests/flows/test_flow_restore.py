"""flows/restore.yaml on the local engine with the real restore handler: every branch."""

from __future__ import annotations

import pytest
from jobkit import READINGS, history, start_stack

from ossbatch import jobdocs_restore, sampledata
from ossbatch.jobs import Jobs, new_job_id

EVENT_LIMIT = 500


@pytest.fixture(scope="module", params=READINGS)
def stack(request, tmp_path_factory):
    s = start_stack(
        tmp_path_factory.mktemp("restoreflow"),
        max_events=EVENT_LIMIT,
        oss_args=("--restore-seconds", "Archive=1,ColdArchive=30"),
        compat=request.param == "compat",
    )
    yield s
    s.close()


def archived(stack, prefix: str, count: int, storage_class: str = "Archive"):
    bucket = stack.bucket("arc")
    keys = sampledata.object_keys(prefix, count)
    for i, key in enumerate(keys):
        bucket.put_object(
            key,
            sampledata.object_bytes(key, sampledata.size_of(i)),
            headers={"x-oss-storage-class": storage_class},
        )
    return bucket, keys


def run_restore(
    stack,
    prefix: str,
    *,
    per_page=10,
    deadline_hours=0.1,
    limit=EVENT_LIMIT,
    local_seconds=None,
    concurrency=2,
    timeout=120,
    notify_queue="",
    poll_seconds=None,
):
    conn = stack.connection()
    doc = jobdocs_restore.restore_document(
        conn,
        new_job_id("restore"),
        index=None,
        source=f"oss://{stack.bucket_name('arc')}/{prefix}",
        days=1,
        tier="Standard",
        concurrency=concurrency,
        page_budget_s=20,
        poll_seconds=poll_seconds,
        default_poll_seconds=5,
        deadline_hours=deadline_hours,
        max_items_per_page=per_page,
        event_limit=limit,
        local_restore_seconds=local_seconds or {"Archive": 1, "ColdArchive": 30},
        notify_queue=notify_queue,
    )
    jobs = Jobs(conn)
    job_id = jobs.start("restore", doc)
    return doc, jobs.wait(job_id, interval=0.2, timeout=timeout)


def test_restore_job_ends_when_every_object_is_readable(stack):
    bucket, keys = archived(stack, "all/", 25)
    doc, st = run_restore(stack, "all/")
    assert doc["request"]["first_wait_seconds"] == 1
    assert doc["settings"]["sampled_storage_class"] == "Archive"
    assert st.state == "succeeded", st.error
    assert st.progress.failed == 0
    for i, key in enumerate(keys):
        assert bucket.get_object(key).read() == sampledata.object_bytes(key, sampledata.size_of(i))


def test_restore_continues_in_fresh_executions_under_the_event_limit(stack):
    archived(stack, "long/", 60)
    doc, st = run_restore(stack, "long/", per_page=3, limit=300)
    assert st.state == "succeeded", st.error
    assert len(st.executions) >= 2
    for execution in st.executions:
        assert len(history(stack.engine, "ossbatch-restore", execution.name)) <= 300


def test_restore_deadline_exceeded_is_a_named_failure_and_announced(stack):
    archived(stack, "cold/", 3, storage_class="ColdArchive")
    # ColdArchive takes 30 s here; a 2-second deadline cannot be met
    doc, st = run_restore(
        stack,
        "cold/",
        deadline_hours=2 / 3600,
        local_seconds={"ColdArchive": 1},
        notify_queue="notify",
    )
    assert st.state == "failed"
    assert "RestoreDeadlineExceeded" in st.error
    mine = notices(stack, st.job_id)
    assert [(m["status"], m["error"]) for m in mine] == [("failed", "RestoreDeadlineExceeded")]


def notices(stack, job_id: str) -> list[dict]:
    import json

    return [
        body
        for body in (json.loads(m.body) for m in stack.mns.receive("notify", 16))
        if body.get("job_id") == job_id
    ]


def test_a_finished_restore_is_announced_with_its_shards(stack):
    archived(stack, "told/", 4)
    doc, st = run_restore(stack, "told/", notify_queue="notify")
    assert st.state == "succeeded", st.error
    (message,) = notices(stack, st.job_id)
    assert message["status"] == "succeeded" and message["kind"] == "restore"
    assert all(item["shard"]["done"] for item in message["shards"])


def test_objects_that_need_no_restore_finish_without_polling(stack):
    bucket = stack.bucket("arc")
    for i in range(5):
        bucket.put_object(f"std/{i}", b"x")
    doc, st = run_restore(stack, "std/")
    assert st.state == "succeeded", st.error
    (execution,) = st.executions
    steps = {e.step_name for e in history(stack.engine, "ossbatch-restore", execution.name)}
    assert "WaitThenStep" not in steps, "nothing was submitted, so nothing is polled"


def test_a_wait_longer_than_300_seconds_loops_in_300_second_waits(stack):
    archived(stack, "longwait/", 2)
    stack.engine.wait_scale = 0.002  # localcloud's clock control: 650 flow seconds in ~1.3 s
    try:
        doc, st = run_restore(stack, "longwait/", poll_seconds=650, concurrency=1)
    finally:
        stack.engine.wait_scale = 1.0
    assert doc["request"]["first_wait_seconds"] == 650
    assert st.state == "succeeded", st.error
    (execution,) = st.executions
    waits = [
        e.step_name
        for e in history(stack.engine, "ossbatch-restore", execution.name)
        if e.type == "StepEntered" and e.step_name.startswith("Wait")
    ]
    # 650 s = 300 + 300 + the 50 s remainder, before the first poll
    assert waits[:3] == ["WaitLong", "WaitLong", "WaitThenStep"], waits
