"""restore handler: a missing or invalid bucket on one index line fails that line, not the
page (issue 12), with either tier (with and without the HEAD before the POST)."""

from __future__ import annotations

import uuid

import pytest

from handlers import restore as restore_handler
from handlers.events import RestoreEvent, parse_event
from tests.handlerkit import fc_context, read_report


@pytest.fixture
def env(monkeypatch, localcloud):
    monkeypatch.setenv("OSSBATCH_OSS_ENDPOINT", localcloud.oss_endpoint)
    monkeypatch.setenv("OSSBATCH_REPORT_PREFIX", "reports/")


@pytest.mark.parametrize("tier", ["Bulk", "Standard"])
def test_a_bad_bucket_on_one_index_line_fails_only_that_line(env, localcloud, bucket, tier):
    name = bucket.bucket_name
    bucket.put_object("o/1", b"data", headers={"x-oss-storage-class": "ColdArchive"})
    missing = f"nope-{uuid.uuid4().hex[:12]}"
    bucket.put_object("idx.csv", f"{name},o/1\n{missing},o/1\nBad_Bucket,o/1\n".encode())
    ev = {"job_id": "rb", "index": {"bucket": name, "key": "idx.csv"}, "tier": tier, "days": 3}
    result = restore_handler.run(parse_event(RestoreEvent, ev), fc_context(localcloud))
    assert result["done"]
    assert result["counters"]["submitted"] == 1 and result["counters"]["failed"] == 2
    codes = sorted(r["code"] for r in read_report(bucket, result["report_key"]))
    assert codes == ["InvalidBucketName", "NoSuchBucket"]
