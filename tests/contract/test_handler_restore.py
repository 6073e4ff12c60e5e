"""restore handler against localcloud: submit (Days/Tier, 409, already restored) and poll."""

from __future__ import annotations

import time

import pytest

from handlers import restore as restore_handler
from handlers.errors import SourceBucketMissing
from handlers.events import RestoreEvent, parse_event
from tests.handlerkit import counter_delta, fc_context, oss_counters, read_report


@pytest.fixture
def env(monkeypatch, localcloud):
    monkeypatch.setenv("OSSBATCH_OSS_ENDPOINT", localcloud.oss_endpoint)
    monkeypatch.setenv("OSSBATCH_REPORT_PREFIX", "reports/")


def run(event: dict, cloud):
    return restore_handler.run(parse_event(RestoreEvent, event), fc_context(cloud))


def put(bucket, key, storage_class):
    bucket.put_object(key, b"data", headers={"x-oss-storage-class": storage_class})


def listing(bucket, mode="submit", **extra):
    return {
        "job_id": "r1",
        "mode": mode,
        "listing": {"bucket": bucket.bucket_name, "prefix": "o/"},
        **extra,
    }


def test_only_archived_objects_are_submitted(env, localcloud, bucket):
    put(bucket, "o/std", "Standard")
    put(bucket, "o/ia", "IA")
    put(bucket, "o/arc", "Archive")
    put(bucket, "o/cold", "ColdArchive")
    put(bucket, "o/deep", "DeepColdArchive")
    before = oss_counters(localcloud)
    result = run(listing(bucket, days=2, tier="Expedited"), localcloud)
    delta = counter_delta(before, oss_counters(localcloud))
    assert result["counters"]["submitted"] == 3 and result["counters"]["skipped"] == 2
    assert delta.get("RestoreObject") == 3
    # the listing's storage class decides: readable objects are skipped, archived ones POSTed
    assert not delta.get("HeadObject")
    assert (
        bucket.head_object("o/cold")
        .headers.get("x-oss-restore", "")
        .startswith('ongoing-request="true"')
    )


def test_restore_already_in_progress_is_not_a_failure(env, localcloud, bucket):
    put(bucket, "o/deep", "DeepColdArchive")
    bucket.restore_object("o/deep")
    keys = {"job_id": "r1", "pending": {"bucket": bucket.bucket_name, "keys": ["o/deep"]}}
    bucket_head_before = bucket.head_object("o/deep").headers.get("x-oss-restore")
    assert 'ongoing-request="true"' in bucket_head_before
    result = run(keys, localcloud)
    assert result["counters"]["submitted"] == 1 and result["counters"]["failed"] == 0


def test_already_restored_objects_count_as_restored(env, localcloud, bucket):
    put(bucket, "o/arc", "Archive")
    bucket.restore_object("o/arc")
    wait_restored(bucket, "o/arc")
    result = run(listing(bucket), localcloud)
    assert result["counters"]["restored"] == 1 and result["counters"]["submitted"] == 0


def wait_restored(bucket, key, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if 'ongoing-request="false"' in bucket.head_object(key).headers.get("x-oss-restore", ""):
            return
        time.sleep(0.2)
    raise AssertionError(f"{key} not restored in {timeout}s")


def test_poll_returns_pending_keys_until_readable(env, localcloud, bucket):
    for k in ("o/a", "o/b"):
        put(bucket, k, "Archive")
    put(bucket, "o/never", "Archive")
    bucket.restore_object("o/a")
    bucket.restore_object("o/b")
    poll = {
        "job_id": "r1",
        "mode": "poll",
        "pending": {"bucket": bucket.bucket_name, "keys": ["o/a", "o/b", "o/never"]},
    }
    first = run(poll, localcloud)
    assert first["pending"]["keys"] == ["o/a", "o/b"]
    assert first["not_submitted"]["keys"] == ["o/never"]  # no x-oss-restore header is never "done"
    assert first["all_restored"] is False
    wait_restored(bucket, "o/b")
    wait_restored(bucket, "o/a")
    later = run(
        {**poll, "pending": {"bucket": bucket.bucket_name, "keys": ["o/a", "o/b"]}}, localcloud
    )
    assert later["pending"]["keys"] == [] and later["all_restored"] is True
    assert bucket.get_object("o/a").read() == b"data"


def test_missing_objects_are_reported(env, localcloud, bucket):
    result = run(
        {"job_id": "r1", "pending": {"bucket": bucket.bucket_name, "keys": ["o/ghost"]}}, localcloud
    )
    assert result["counters"]["failed"] == 1
    assert read_report(bucket, result["report_key"])[0]["code"] == "NoSuchKey"


def test_restore_from_an_index(env, localcloud, bucket):
    put(bucket, "o/1", "ColdArchive")
    put(bucket, "o/2", "Archive")
    bucket.put_object("idx.csv", f"{bucket.bucket_name},o/1\n{bucket.bucket_name},o/2\n")
    ev = {
        "job_id": "r1",
        "index": {"bucket": bucket.bucket_name, "key": "idx.csv"},
        "tier": "Bulk",
        "days": 3,
    }
    result = run(ev, localcloud)
    assert result["done"] and result["counters"]["submitted"] == 2


def test_an_index_with_the_default_tier_submits_without_a_head(env, localcloud, bucket):
    put(bucket, "o/std", "Standard")
    put(bucket, "o/arc", "Archive")
    put(bucket, "o/cold", "ColdArchive")
    bucket.restore_object("o/arc")  # already running: 409 counts as submitted
    lines = "".join(f"{bucket.bucket_name},o/{k}\n" for k in ("std", "arc", "cold", "ghost"))
    bucket.put_object("idx.csv", lines)
    before = oss_counters(localcloud)
    ev = {"job_id": "r1", "index": {"bucket": bucket.bucket_name, "key": "idx.csv"}}
    result = run(ev, localcloud)
    delta = counter_delta(before, oss_counters(localcloud))
    counters = result["counters"]
    assert (counters["submitted"], counters["skipped"], counters["failed"]) == (2, 1, 1)
    # one HEAD for the index object's size; none for the four listed objects
    assert delta.get("HeadObject", 0) <= 1 and delta.get("RestoreObject") == 4
    assert read_report(bucket, result["report_key"])[0]["key"] == "o/ghost"


def test_missing_bucket_is_systemic(env, localcloud, oss_auth):
    with pytest.raises(SourceBucketMissing):
        run(
            {"job_id": "r1", "pending": {"bucket": "no-such-bucket-xyz", "keys": ["a"]}}, localcloud
        )


def test_days_are_validated_with_the_field_name(env, localcloud, bucket):
    from handlers.errors import InvalidEvent

    with pytest.raises(InvalidEvent, match="days"):
        parse_event(RestoreEvent, {"job_id": "r", "listing": {"bucket": "abc"}, "days": 0})


def test_poll_over_a_listing_counts_readable_and_never_submitted(env, localcloud, bucket):
    put(bucket, "o/std", "Standard")
    put(bucket, "o/arc", "Archive")
    result = run(listing(bucket, mode="poll"), localcloud)
    assert result["counters"]["restored"] == 1 and result["counters"]["not_submitted"] == 1
    assert result["all_restored"] is False
