"""Filters applied by the copy and restore handlers against localcloud: skipped with a reason."""

from __future__ import annotations

import json
import time

import oss2

from handlers import copy as copy_handler
from handlers import restore as restore_handler
from handlers.events import CopyEvent, RestoreEvent, parse_event
from tests.handlerkit import counter_delta, fc_context, oss_counters


def seed(bucket):
    bucket.put_object("f/a.txt", b"1234567890")
    bucket.put_object("f/b.jpg", b"12")
    bucket.put_object("f/deep/c.jpg", b"1234567890" * 10)
    bucket.put_object("f/d.jpg", b"1234", headers={"x-oss-storage-class": "IA"})
    bucket.put_object("f/tmp/e.jpg", b"1234")


def copy(cloud, bucket, dest, filters, **source):
    event = {
        "job_id": "filtered",
        "dest": {"bucket": dest.bucket_name, "prefix": "out/"},
        "filters": filters,
        **(source or {"listing": {"bucket": bucket.bucket_name, "prefix": "f/"}}),
    }
    return copy_handler.run(parse_event(CopyEvent, event), fc_context(cloud))


def copied(dest):
    return sorted(o.key for o in oss2.ObjectIterator(dest, prefix="out/"))


def test_a_listing_copy_takes_only_what_the_filters_let_through(env, localcloud, bucket, dest):
    seed(bucket)
    filters = {
        "include": ["*.jpg"],
        "exclude": ["/tmp/**"],
        "storage_classes": ["Standard"],
        "max_size": 50,
    }
    result = copy(localcloud, bucket, dest, filters)
    assert copied(dest) == ["out/f/b.jpg"]
    assert result["counters"] == {
        "done": 1,
        "skipped": 4,
        "skipped_key": 2,  # a.txt (not included), tmp/e.jpg (excluded)
        "skipped_storage_class": 1,  # d.jpg is IA
        "skipped_size": 1,  # deep/c.jpg is 100 bytes
        "skipped_modified": 0,  # typed counters (CopyCounters) carry every reason
        "failed": 0,
        "bytes": 2,
    }


def test_a_time_window_is_read_from_the_listing_without_a_head(env, localcloud, bucket, dest):
    seed(bucket)
    before = oss_counters(localcloud)
    result = copy(localcloud, bucket, dest, {"modified_before": time.time() - 3600})
    delta = counter_delta(before, oss_counters(localcloud))
    assert result["counters"]["skipped_modified"] == 5 and copied(dest) == []
    assert delta.get("HeadObject", 0) == 0 and delta.get("CopyObject", 0) == 0, delta


def test_an_index_without_sizes_heads_the_source_for_a_size_filter(env, localcloud, bucket, dest):
    seed(bucket)
    keys = ["f/a.txt", "f/b.jpg", "f/deep/c.jpg"]
    bucket.put_object("idx.jsonl", "".join(json.dumps({"key": k}) + "\n" for k in keys))
    index = {"index": {"bucket": bucket.bucket_name, "key": "idx.jsonl"}}
    result = copy(localcloud, bucket, dest, {"min_size": 5}, **index)
    assert copied(dest) == ["out/f/a.txt", "out/f/deep/c.jpg"]
    assert result["counters"]["skipped_size"] == 1


def test_restore_skips_filtered_objects_with_a_reason(env, localcloud, bucket):
    bucket.put_object("r/keep.bin", b"x", headers={"x-oss-storage-class": "Archive"})
    bucket.put_object("r/leave.log", b"x", headers={"x-oss-storage-class": "Archive"})
    event = {
        "job_id": "rf",
        "listing": {"bucket": bucket.bucket_name, "prefix": "r/"},
        "filters": {"exclude": ["*.log"]},
    }
    result = restore_handler.run(parse_event(RestoreEvent, event), fc_context(localcloud))
    assert result["counters"]["skipped_key"] == 1 and result["counters"]["submitted"] == 1
    assert "x-oss-restore" not in bucket.head_object("r/leave.log").headers
