"""copy handler on versioned, tagged sources: the named or current version is copied, tags are
kept or replaced, user metadata kept, and a re-run copies nothing."""

from __future__ import annotations

import oss2
import pytest

from handlers import copy as copy_handler
from handlers.errors import InvalidEvent
from handlers.events import CopyEvent, parse_event
from tests.handlerkit import fc_context


def run(event: dict, cloud):
    return copy_handler.run(parse_event(CopyEvent, event), fc_context(cloud))


def _versioned(bucket):
    config = oss2.models.BucketVersioningConfig()
    config.status = "Enabled"
    bucket.put_bucket_versioning(config)


def _tags(bucket, key):
    return bucket.get_object_tagging(key).tag_set.tagging_rule


def _event(bucket, dest, index_key, **dest_fields):
    return {
        "job_id": "versions",
        "index": {"bucket": bucket.bucket_name, "key": index_key},
        "dest": {"bucket": dest.bucket_name, "prefix": "c/", "storage_class": "IA", **dest_fields},
    }


@pytest.fixture
def versioned_source(bucket):
    """k.txt in two versions (tagged, with metadata), plain.txt current only; the index names
    the OLD version of k.txt in a CSV third field and plain.txt without one."""
    _versioned(bucket)
    meta = {"x-oss-meta-origin": "v1", "x-oss-tagging": "stage=old&team=a"}
    old = bucket.put_object("k.txt", b"old bytes", headers=meta).versionid
    bucket.put_object("k.txt", b"new", headers={"x-oss-tagging": "stage=new"})
    bucket.put_object("plain.txt", b"plain", headers={"x-oss-tagging": "p=1"})
    name = bucket.bucket_name
    bucket.put_object("index.csv", f"{name},k.txt,{old}\n{name},plain.txt\n".encode())
    return bucket, old


def test_copy_takes_the_named_version_with_its_tags_metadata_and_the_class(
    env, localcloud, versioned_source, dest
):
    bucket, _ = versioned_source
    result = run(_event(bucket, dest, "index.csv"), localcloud)
    assert result["counters"]["done"] == 2 and result["counters"]["failed"] == 0
    got = dest.get_object("c/k.txt")
    assert got.read() == b"old bytes"
    assert got.headers["x-oss-meta-origin"] == "v1"
    assert got.headers["x-oss-storage-class"] == "IA"
    assert _tags(dest, "c/k.txt") == {"stage": "old", "team": "a"}
    assert _tags(dest, "c/plain.txt") == {"p": "1"}
    again = run(_event(bucket, dest, "index.csv"), localcloud)
    assert again["counters"]["skipped"] == 2 and again["counters"].get("done", 0) == 0


def test_tags_replace_the_sources_on_every_copy(env, localcloud, versioned_source, dest):
    bucket, _ = versioned_source
    run(_event(bucket, dest, "index.csv", tags={"job": "x 1", "owner": "ops"}), localcloud)
    assert _tags(dest, "c/k.txt") == {"job": "x 1", "owner": "ops"}
    assert _tags(dest, "c/plain.txt") == {"job": "x 1", "owner": "ops"}


def test_replace_without_tags_copies_none(env, localcloud, versioned_source, dest):
    bucket, _ = versioned_source
    run(_event(bucket, dest, "index.csv", tags_directive="Replace"), localcloud)
    assert _tags(dest, "c/plain.txt") == {}


def test_multipart_copy_of_a_version_keeps_its_tags_and_metadata(env, localcloud, bucket, dest):
    _versioned(bucket)
    body = b"x" * 300_000
    old = bucket.put_object(
        "big", body, headers={"x-oss-tagging": "size=big", "x-oss-meta-m": "1"}
    ).versionid
    bucket.put_object("big", b"replaced")
    bucket.put_object("i.jsonl", f'{{"key": "big", "version_id": "{old}"}}\n'.encode())
    event = _event(bucket, dest, "i.jsonl")
    event.update(multipart_threshold=100_000, part_size=102_400)
    result = run(event, localcloud)
    assert result["counters"]["done"] == 1, result
    got = dest.get_object("c/big")
    assert got.read() == body and got.headers["x-oss-meta-m"] == "1"
    assert _tags(dest, "c/big") == {"size": "big"}


def test_tags_outside_oss_limits_fail_the_job_before_work(env, localcloud, bucket, dest):
    with pytest.raises(InvalidEvent, match="tag key"):
        run(_event(bucket, dest, "index.csv", tags={"bad%": "1"}), localcloud)
    with pytest.raises(InvalidEvent, match="tags_directive Replace"):
        run(_event(bucket, dest, "index.csv", tags={"a": "1"}, tags_directive="Copy"), localcloud)
