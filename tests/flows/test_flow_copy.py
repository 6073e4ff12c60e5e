"""flows/copy.yaml on the local engine with the real copy handler: every branch."""

from __future__ import annotations

import time

import pytest
from jobkit import READINGS, history, start_stack

from ossbatch import jobdocs, sampledata
from ossbatch.eventbudget import COSTS, events_per_execution
from ossbatch.jobs import Jobs, new_job_id
from ossbatch.provision import FLOWS_DIR as FLOW_DIR

EVENT_LIMIT = 400  # small: continuation happens after a handful of pages


@pytest.fixture(scope="module", params=READINGS)
def stack(request, tmp_path_factory):
    s = start_stack(
        tmp_path_factory.mktemp("copyflow"),
        max_events=EVENT_LIMIT,
        compat=request.param == "compat",
    )
    yield s
    s.close()


def seed(stack, count: int, name: str = "idx.csv", extra_lines: list[str] = ()):
    source = stack.bucket("src")
    keys = sampledata.object_keys(f"{name}/", count)
    sampledata.upload_objects(source, keys)
    index = sampledata.csv_index(source.bucket_name, keys)
    if extra_lines:
        index += ("\n" + "\n".join(extra_lines)).encode()
    source.put_object(name, index)
    return source, keys


def copy_doc(
    stack,
    index_key: str,
    dest_prefix: str,
    *,
    shards=2,
    per_page=5,
    limit=EVENT_LIMIT,
    dest_role="dst",
    tolerate=0,
):
    conn = stack.connection()
    return jobdocs.copy_document(
        conn,
        new_job_id("copy"),
        index=f"oss://{stack.bucket_name('src')}/{index_key}",
        source=None,
        dest=f"oss://{stack.bucket_name(dest_role)}/{dest_prefix}",
        storage_class="Archive",
        concurrency=shards,
        page_budget_s=20,
        max_items_per_page=per_page,
        event_limit=limit,
        tolerated_failures=tolerate,
    )


def run_job(stack, doc, timeout=120):
    jobs = Jobs(stack.connection())
    job_id = jobs.start("copy", doc)
    return jobs, jobs.wait(job_id, interval=0.2, timeout=timeout)


def test_copy_job_copies_every_indexed_object_with_class_and_bytes(stack):
    source, keys = seed(stack, 40, "basic.csv")
    dest = stack.bucket("dst")
    jobs, st = run_job(stack, copy_doc(stack, "basic.csv", "basic/", per_page=50))
    assert st.state == "succeeded", st.error
    assert st.progress.done == 40 and st.progress.failed == 0
    for i, key in enumerate(keys):
        head = dest.head_object("basic/" + key)
        assert head.headers["x-oss-storage-class"] == "Archive"
        assert head.content_length == sampledata.size_of(i)


def test_copy_continues_in_fresh_executions_before_the_event_limit(stack):
    seed(stack, 120, "many.csv")
    doc = copy_doc(stack, "many.csv", "many/", shards=3, per_page=2)
    assert doc["settings"]["pages_per_execution"] < 20  # 120 objects need 20 pages per shard
    jobs, st = run_job(stack, doc)
    assert st.state == "succeeded", st.error
    assert st.progress.done == 120
    assert len(st.executions) >= 2, "the job should have continued in a fresh execution"
    for execution in st.executions:
        events = history(stack.engine, "ossbatch-copy", execution.name)
        assert len(events) <= EVENT_LIMIT
        assert execution.status == "Succeeded"
    # each continuation was started by the flow itself, named after the job
    assert [e.name for e in st.executions][1] == f"{st.job_id}--1"


def test_event_cost_constants_match_the_engine(stack):
    """events = FIXED + shards * (PER_SHARD + pages * PER_PAGE), measured on one execution."""
    seed(stack, 12, "cost.csv")
    doc = copy_doc(stack, "cost.csv", "cost/", shards=2, per_page=2, limit=5000)
    jobs, st = run_job(stack, doc)
    assert st.state == "succeeded"
    (execution,) = st.executions
    measured = len(history(stack.engine, "ossbatch-copy", execution.name))
    pages = sum(item["shard"]["pages"] for item in execution.output["shards"])
    shards = len(execution.output["shards"])
    cost = COSTS["copy"]
    predicted = cost.fixed + shards * cost.per_shard + pages * cost.per_page
    assert measured <= predicted, (measured, predicted)
    assert predicted - measured <= cost.per_shard, "constants overestimate too much"
    assert events_per_execution("copy", shards, max(1, pages // shards)) >= measured - cost.per_page


def test_missing_objects_are_failed_items_not_a_failed_job(stack):
    source, keys = seed(
        stack,
        10,
        "holes.csv",
        extra_lines=[f"{stack.bucket_name('src')},nope/{i}" for i in range(3)],
    )
    jobs, st = run_job(stack, copy_doc(stack, "holes.csv", "holes/", per_page=50, tolerate=5))
    assert st.state == "succeeded"
    assert st.progress.done == 10 and st.progress.failed == 3
    assert not st.over_tolerance
    _, strict = run_job(stack, copy_doc(stack, "holes.csv", "holes2/", per_page=50, tolerate=0))
    assert strict.over_tolerance  # the CLI turns this into exit code 1


def test_missing_destination_bucket_ends_the_execution_with_a_named_error(stack):
    seed(stack, 3, "nodest.csv")
    doc = copy_doc(stack, "nodest.csv", "x/", dest_role="missing")
    jobs, st = run_job(stack, doc)
    assert st.state == "failed"
    assert "DestinationBucketMissing" in st.error


def test_listing_source_is_copied_too(stack):
    source, keys = seed(stack, 15, "listing")
    conn = stack.connection()
    doc = jobdocs.copy_document(
        conn,
        new_job_id("copy"),
        index=None,
        source=f"oss://{stack.bucket_name('src')}/listing/",
        dest=f"oss://{stack.bucket_name('dst')}/fromlisting/",
        storage_class="IA",
        concurrency=4,
        page_budget_s=20,
        max_items_per_page=4,
        event_limit=EVENT_LIMIT,
    )
    jobs, st = run_job(stack, doc)
    assert st.state == "succeeded", st.error
    assert st.progress.done == 15
    dest = stack.bucket("dst")
    assert dest.head_object("fromlisting/" + keys[0]).headers["x-oss-storage-class"] == "IA"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_throttling_is_retried_with_backoff_until_retries_are_exhausted(stack):
    from localcloud.fc.spec import FunctionSpec

    # a copy function that can never run (no instance slot): FC answers ResourceThrottled
    stack.fc.create_function(
        FunctionSpec(name="ossbatch-copy-throttled", handler="index.copy", reserved_concurrency=0)
    )
    seed(stack, 2, "throttled.csv")
    doc = copy_doc(stack, "throttled.csv", "throttled/")
    doc["resources"]["function"] = doc["resources"]["function"].replace(
        "ossbatch-copy/", "ossbatch-copy-throttled/"
    )
    started = time.monotonic()
    jobs, st = run_job(stack, doc, timeout=500)
    assert st.state == "failed"
    assert "FC.ResourceThrottled" in st.error
    assert time.monotonic() - started >= 1 + 2 + 4 + 8 + 16 + 32, "backoff between attempts"
    events = history(stack.engine, "ossbatch-copy", st.executions[0].name)
    attempts = [e for e in events if e.type == "TaskScheduled" and e.step_name == "CopyPage"]
    assert len(attempts) == 9  # the first try + MaxAttempts 8 retries


def test_stop_then_resume_continues_from_the_last_finished_pages(stack):
    seed(stack, 160, "stopresume.csv")
    doc = copy_doc(stack, "stopresume.csv", "stopresume/", shards=2, per_page=5, limit=5000)
    jobs = Jobs(stack.connection())
    # slow copies keep the job running until the stop arrives, however slowly status is read
    stack.oss.set_faults(latency_ms=300, ops=["CopyObject"])
    try:
        job_id = jobs.start("copy", doc)
        deadline = time.monotonic() + 60
        # 32 pages: stopped after 5..26 of them, both parts fit this stack's 400-event limit
        while jobs.status(job_id).progress.done < 40:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert jobs.stop(job_id) == job_id
    finally:
        stack.oss.set_faults(latency_ms=0)
    stopped = jobs.wait(job_id, interval=0.2, timeout=30)
    assert stopped.state == "stopped"
    progressed = stopped.progress.done

    resumed_as = jobs.resume(job_id)
    assert resumed_as == f"{job_id}--1"
    final = jobs.wait(job_id, interval=0.2, timeout=120)
    assert final.state == "succeeded", final.error
    assert final.progress.done + final.progress.skipped == 160
    # the resumed execution started where the finished pages ended, not at offset 0
    start_offsets = [
        item["shard"]["index"]["offset"] for item in final.executions[1].input["shards"]
    ]
    assert sum(start_offsets) > sum(item["shard"]["start"] for item in doc["shards"])
    assert final.progress.skipped <= 2 * 5, "at most the in-flight page per shard is redone"
    assert progressed >= 40


def test_finished_job_is_announced_on_the_notify_queue(stack):
    import json

    seed(stack, 6, "notify.csv")
    conn = stack.connection()
    doc = jobdocs.copy_document(
        conn,
        new_job_id("copy"),
        index=f"oss://{stack.bucket_name('src')}/notify.csv",
        source=None,
        dest=f"oss://{stack.bucket_name('dst')}/notify/",
        storage_class="IA",
        concurrency=1,
        page_budget_s=20,
        notify_queue="notify",
    )
    jobs, st = run_job(stack, doc)
    assert st.state == "succeeded"
    bodies = [json.loads(m.body) for m in stack.mns.receive("notify", 16)]
    mine = [b for b in bodies if b.get("job_id") == st.job_id]
    assert len(mine) == 1 and mine[0]["status"] == "succeeded" and mine[0]["kind"] == "copy"
    assert sum(s["shard"]["totals"]["done"] for s in mine[0]["shards"]) == 6


@pytest.mark.parametrize(
    "task_output",
    [
        {"done": True, "next_offset": 7},  # FC result passed through (--flow-compat)
        {"Body": {"done": True, "next_offset": 7}},  # wrapped as Body (the strict reading)
    ],
)
def test_flows_read_function_results_whether_or_not_cloudflow_wraps_them_in_body(task_output):
    from localcloud.flow.expressions import compile_expression

    flows = "".join((FLOW_DIR / f"{n}.yaml").read_text() for n in ("copy", "restore", "unzip"))
    normalize = 'get(jsonMerge({"Body": $Output}, $Output), "Body")'
    assert flows.count(normalize) >= 8
    assert "$Output.done" not in flows and "$Output.Body" not in flows
    expr = compile_expression(f'get({normalize}, "next_offset")')
    assert expr.evaluate({"Output": task_output}) == 7
