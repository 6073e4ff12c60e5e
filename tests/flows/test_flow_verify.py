"""flows/verify.yaml on the local engine with the real verify handler, over a copy job's shards."""

from __future__ import annotations

import pytest
from jobkit import history, start_stack

from ossbatch import jobdocs, report, sampledata, verification
from ossbatch.eventbudget import COSTS
from ossbatch.jobs import Jobs, new_job_id
from tests.handlerkit import counter_delta, oss_counters

EVENT_LIMIT = 400  # small: the verify job continues in fresh executions like copy


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("verifyflow"), max_events=EVENT_LIMIT)
    yield s
    s.close()


def copied(stack, name: str, count: int, *, shards=2, per_page=5, tags=None):
    """tags: set on every source object before the copy, which keeps them (directive Copy)."""
    """A finished copy job of `count` objects (index `name`.csv) into dst/`name`/."""
    source = stack.bucket("src")
    keys = sampledata.object_keys(f"{name}/", count)
    sampledata.upload_objects(source, keys)
    for key in keys if tags else ():
        source.put_object_tagging(key, _tagging(tags))
    source.put_object(f"{name}.csv", sampledata.csv_index(source.bucket_name, keys))
    doc = jobdocs.copy_document(
        stack.connection(),
        new_job_id("copy"),
        index=f"oss://{source.bucket_name}/{name}.csv",
        source=None,
        dest=f"oss://{stack.bucket_name('dst')}/{name}/",
        storage_class="IA",
        concurrency=shards,
        page_budget_s=20,
        max_items_per_page=per_page,
        event_limit=EVENT_LIMIT,
    )
    jobs = Jobs(stack.connection())
    st = jobs.wait(jobs.start("copy", doc), interval=0.2, timeout=120)
    assert st.state == "succeeded" and st.progress.failed == 0, st.error
    return jobs, st, keys


def verified(stack, jobs, copy_status):
    doc = verification.verify_document(
        stack.connection(), new_job_id("verify"), copy_status.executions[0].input, 20
    )
    st = jobs.wait(jobs.start("verify", doc), interval=0.2, timeout=120)
    return st, verification.summary(st, copy_status.job_id)


def mismatches(stack, verify_id: str) -> list[dict]:
    conn = stack.connection()
    return list(report.records(conn, conn.buckets["reports"], "reports/", verify_id))


def test_a_clean_copy_verifies_with_every_object_matched_and_no_report(stack):
    jobs, copy_st, keys = copied(stack, "clean", 30)
    before = oss_counters(stack.oss)
    st, result = verified(stack, jobs, copy_st)
    delta = counter_delta(before, oss_counters(stack.oss))
    # two HEADs per object (+ one HEAD of the index per page); untagged objects: no tag reads
    pages = sum(item["shard"]["pages"] for item in st.executions[-1].output["shards"])
    assert delta.get("HeadObject") == 2 * 30 + pages, delta
    assert not delta.get("GetObjectTagging") and not delta.get("PutObject"), delta
    assert st.state == "succeeded", st.error
    assert result["matched"] == 30 and result["mismatched"] == 0
    assert result["by_difference"] == {}
    assert mismatches(stack, st.job_id) == []
    # the verify job pages and shards as the copy job did
    out = st.executions[-1].output["shards"]
    assert len(out) == len(copy_st.executions[0].input["shards"])
    assert sum(item["shard"]["pages"] for item in out) >= 30 // 5


def test_each_kind_of_difference_is_one_jsonl_line_naming_key_and_what_differs(stack):
    jobs, copy_st, keys = copied(stack, "broken", 12, tags={"team": "a"})
    dest = stack.bucket("dst")
    dest.put_object(f"broken/{keys[0]}", b"not the source bytes")  # size + crc64 + class
    dest.delete_object(f"broken/{keys[1]}")
    dest.put_object_tagging(f"broken/{keys[2]}", _tagging({"team": "b"}))
    body = stack.bucket("src").get_object(keys[3]).read()
    dest.put_object(f"broken/{keys[3]}", body, headers={"x-oss-storage-class": "IA"})  # tags lost
    st, result = verified(stack, jobs, copy_st)
    assert st.state == "succeeded", st.error
    assert result["mismatched"] == 4 and result["matched"] == 8
    by_key = {r["key"]: r for r in mismatches(stack, st.job_id)}
    assert set(by_key) == set(keys[:4])
    assert set(by_key[keys[0]]["differs"]) == {"size", "crc64", "storage_class"}
    assert by_key[keys[1]]["differs"] == ["missing"]
    assert by_key[keys[1]]["dest"] == {"exists": False}
    assert by_key[keys[2]]["differs"] == ["tags"]
    assert by_key[keys[2]]["dest"]["tags"] == {"team": "b"}
    assert by_key[keys[3]]["differs"] == ["tags"]
    assert by_key[keys[0]]["dest_key"] == f"broken/{keys[0]}"
    assert result["by_difference"] == {
        "crc64": 1,
        "missing": 1,
        "size": 1,
        "storage_class": 1,
        "tags": 2,
    }


def test_a_large_verify_continues_in_fresh_executions_within_the_event_limit(stack):
    jobs, copy_st, keys = copied(stack, "long", 80, shards=3, per_page=2)
    st, result = verified(stack, jobs, copy_st)
    assert st.state == "succeeded", st.error
    assert result["matched"] == 80
    assert len(st.executions) >= 2, "the verify job should have continued"
    shards = st.executions[-1].output["shards"]
    assert len(shards) == len(copy_st.executions[0].input["shards"]) == 3
    for execution in st.executions:
        assert len(history(stack.engine, "ossbatch-verify", execution.name)) <= EVENT_LIMIT
    assert COSTS["verify"] == COSTS["copy"]  # same flow shape, same per-page cost


def test_only_finished_copy_jobs_can_be_verified(stack):
    from ossbatch.cloud import ConfigError
    from ossbatch.jobs import JobStatus

    with pytest.raises(ConfigError, match="restore job"):
        verification.verifiable(JobStatus("restore-1-2-3", "restore", "f", "succeeded"))
    with pytest.raises(ConfigError, match="is running"):
        verification.verifiable(JobStatus("copy-1-2-3", "copy", "f", "running"))


def _tagging(tags: dict):
    import oss2

    rule = oss2.models.TaggingRule()
    for k, v in tags.items():
        rule.add(k, v)
    return oss2.models.Tagging(rule)


def test_a_listing_copy_is_verified_over_the_same_key_range_shards(stack):
    source = stack.bucket("src")
    keys = sampledata.object_keys("vlisting/", 24)
    sampledata.upload_objects(source, keys)
    doc = jobdocs.copy_document(
        stack.connection(),
        new_job_id("copy"),
        index=None,
        source=f"oss://{source.bucket_name}/vlisting/",
        dest=f"oss://{stack.bucket_name('dst')}/vlisting-copy/",
        storage_class="IA",
        concurrency=4,
        page_budget_s=20,
        max_items_per_page=4,
        event_limit=EVENT_LIMIT,
    )
    jobs = Jobs(stack.connection())
    copy_st = jobs.wait(jobs.start("copy", doc), interval=0.2, timeout=120)
    assert copy_st.state == "succeeded" and copy_st.progress.done == 24, copy_st.error
    stack.bucket("dst").delete_object("vlisting-copy/" + keys[-1])
    st, result = verified(stack, jobs, copy_st)
    assert st.state == "succeeded", st.error
    assert result["matched"] == 23 and result["by_difference"] == {"missing": 1}
    ranges = [
        item["shard"]["listing"]["end_marker"]
        for item in doc["shards"]
        if "end_marker" in item["shard"]["listing"]
    ]
    verify_ranges = [
        item["shard"]["listing"].get("end_marker") for item in st.executions[0].input["shards"]
    ]
    assert [r for r in verify_ranges if r is not None] == ranges
    assert [r["key"] for r in mismatches(stack, st.job_id)] == [keys[-1]]


def test_objects_the_copy_filtered_out_are_skipped_by_verify_not_reported_missing(stack):
    source = stack.bucket("src")
    keys = sampledata.object_keys("vfilter/", 20)
    sampledata.upload_objects(source, keys)
    source.put_object("vfilter.csv", sampledata.csv_index(source.bucket_name, keys))
    sizes = sorted(sampledata.size_of(i) for i in range(20))
    threshold = sizes[10]
    doc = jobdocs.copy_document(
        stack.connection(),
        new_job_id("copy"),
        index=f"oss://{source.bucket_name}/vfilter.csv",
        source=None,
        dest=f"oss://{stack.bucket_name('dst')}/vfilter/",
        storage_class="IA",
        concurrency=1,
        page_budget_s=20,
        event_limit=EVENT_LIMIT,
        filters={"min_size": threshold},
    )
    jobs = Jobs(stack.connection())
    copy_st = jobs.wait(jobs.start("copy", doc), interval=0.2, timeout=120)
    assert copy_st.state == "succeeded", copy_st.error
    kept = sum(1 for i in range(20) if sampledata.size_of(i) >= threshold)
    assert copy_st.progress.done == kept and copy_st.progress.skipped == 20 - kept
    st, result = verified(stack, jobs, copy_st)
    assert st.state == "succeeded", st.error
    assert result["matched"] == kept and result["mismatched"] == 0
    assert result["skipped"] == 20 - kept


def _comparable(result: dict) -> dict:
    """What a verify found, without the ids and places that differ between two runs."""
    keep = ("state", "checked", "matched", "mismatched", "skipped", "by_difference")
    return {k: result[k] for k in keep}


def _break(stack, name: str, keys: list[str], every: int) -> set[str]:
    """Delete or corrupt every `every`-th destination object; the keys that now differ."""
    dest = stack.bucket("dst")
    broken = set(keys[::every])
    for n, key in enumerate(sorted(broken)):
        if n % 2:
            dest.delete_object(f"{name}/{key}")
        else:
            dest.put_object(f"{name}/{key}", b"not the source bytes")
    return broken


def test_inline_verify_runs_the_handlers_pages_in_process_and_finds_what_the_flow_finds(stack):
    from ossbatch import verifyinline

    jobs, copy_st, keys = copied(stack, "inl", 20)
    broken = _break(stack, "inl", keys, 4)
    flow_st, flow_result = verified(stack, jobs, copy_st)
    flows_before = len(jobs.list(kinds=("verify",), limit=1000))
    doc = verification.verify_document(
        stack.connection(), new_job_id("verify"), copy_st.executions[0].input, 20
    )
    st = verifyinline.run_inline(stack.connection(), doc)
    result = verification.summary(st, copy_st.job_id)
    assert _comparable(result) == _comparable(flow_result)
    assert result["mismatched"] == len(broken) and result["matched"] == 20 - len(broken)
    inline_lines = sorted((r["key"], tuple(r["differs"])) for r in mismatches(stack, st.job_id))
    flow_lines = sorted((r["key"], tuple(r["differs"])) for r in mismatches(stack, flow_st.job_id))
    assert inline_lines == flow_lines and {k for k, _ in inline_lines} == broken
    pages = [item["shard"]["pages"] for item in st.executions[-1].output["shards"]]
    assert pages == [item["shard"]["pages"] for item in flow_st.executions[-1].output["shards"]]
    assert len(jobs.list(kinds=("verify",), limit=1000)) == flows_before  # no flow started


def test_a_stopped_verify_resumes_to_the_same_summary_with_no_duplicate_report_lines(stack):
    import time

    jobs, copy_st, keys = copied(stack, "vstop", 120, shards=2, per_page=5)
    broken = _break(stack, "vstop", keys, 10)
    reference = verified(stack, jobs, copy_st)[1]
    doc = verification.verify_document(
        stack.connection(), new_job_id("verify"), copy_st.executions[0].input, 20
    )
    # slow HEADs keep the verify running until the stop arrives, however slowly status is read
    stack.oss.set_faults(latency_ms=300, ops=["HeadObject"])
    try:
        job_id = jobs.start("verify", doc)
        deadline = time.monotonic() + 60
        while jobs.status(job_id).progress.items < 30:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        jobs.stop(job_id)
    finally:
        stack.oss.set_faults(latency_ms=0)
    stopped = jobs.wait(job_id, interval=0.2, timeout=30)
    assert stopped.state == "stopped" and 30 <= stopped.progress.items < 120
    jobs.resume(job_id)
    final = jobs.wait(job_id, interval=0.2, timeout=120)
    result = verification.summary(final, copy_st.job_id)
    assert _comparable(result) == _comparable(reference)
    assert result["checked"] == 120 and result["mismatched"] == len(broken)
    lines = [r["key"] for r in mismatches(stack, job_id)]
    assert sorted(lines) == sorted(broken), "each mismatch once: a redone page rewrites its part"
