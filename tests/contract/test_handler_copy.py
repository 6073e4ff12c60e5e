"""copy handler against localcloud through oss2: index/listing pages, skips, multipart, failures."""

from __future__ import annotations

import json
import uuid

import oss2
import pytest

from handlers import copy as copy_handler
from handlers.errors import AccessDenied, IndexMissing, InvalidEvent, SourceBucketMissing
from handlers.events import CopyEvent, parse_event
from tests.handlerkit import counter_delta, fc_context, oss_counters, read_report


def run(event: dict, cloud, **ctx):
    return copy_handler.run(parse_event(CopyEvent, event), fc_context(cloud, **ctx))


def put_objects(bucket, n, prefix="src/", size=10):
    keys = [f"{prefix}{i:04d}.bin" for i in range(n)]
    for k in keys:
        bucket.put_object(
            k,
            k.encode().ljust(size, b"."),
            headers={"Content-Type": "text/plain", "x-oss-meta-origin": "test"},
        )
    return keys


def index_event(bucket, dest, index_key, **extra):
    return {
        "job_id": "job1",
        "index": {"bucket": bucket.bucket_name, "key": index_key},
        "dest": {"bucket": dest.bucket_name, "prefix": "copied/", "storage_class": "Archive"},
        **extra,
    }


def test_copy_from_jsonl_index_preserves_metadata_and_sets_the_class(env, localcloud, bucket, dest):
    keys = put_objects(bucket, 5)
    bucket.put_object("index.jsonl", "".join(json.dumps({"key": k}) + "\n" for k in keys))
    result = run(index_event(bucket, dest, "index.jsonl"), localcloud)
    assert result["done"] and result["counters"]["done"] == 5 and result["counters"]["failed"] == 0
    assert result["report_key"] is None
    head = dest.head_object("copied/src/0003.bin")
    assert head.headers["x-oss-storage-class"] == "Archive"
    assert head.headers["x-oss-meta-origin"] == "test"
    assert head.content_type == "text/plain"


def test_csv_manifest_with_bom_crlf_blank_lines_and_no_trailing_newline(
    env, localcloud, bucket, dest
):
    bucket.put_object("dir/a b.txt", b"a")
    bucket.put_object("dir/中.txt", b"b")
    name = bucket.bucket_name
    manifest = f"\ufeff{name},dir/a%20b.txt\r\n\r\n{name},dir/%E4%B8%AD.txt".encode()
    bucket.put_object("manifest.csv", manifest)
    ev = index_event(bucket, dest, "manifest.csv")
    ev["dest"]["storage_class"] = "IA"
    result = run(ev, localcloud)
    assert result["done"] and result["counters"] == {
        "done": 2,
        "skipped": 0,
        "failed": 0,
        "skipped_storage_class": 0,  # the counter vocabulary's filter reasons (none here)
        "skipped_modified": 0,
        "skipped_size": 0,
        "skipped_key": 0,
        "bytes": 0,  # a bucket,key manifest carries no sizes; copying needed none either
    }
    assert result["next_offset"] == len(manifest)
    assert dest.get_object("copied/dir/中.txt").read() == b"b"


def test_missing_source_and_bad_lines_are_reported_not_fatal(env, localcloud, bucket, dest):
    put_objects(bucket, 2)
    lines = [
        '{"key": "src/0000.bin"}',
        '{"key": "src/missing.bin"}',
        "{broken",
        '{"key": "src/0001.bin"}',
    ]
    bucket.put_object("index.jsonl", "\n".join(lines) + "\n")
    result = run(index_event(bucket, dest, "index.jsonl"), localcloud)
    assert result["counters"]["done"] == 2 and result["counters"]["failed"] == 2
    report = read_report(dest, result["report_key"])
    assert sorted(r["code"] for r in report) == ["MalformedLine", "NoSuchKey"]
    assert result["report_key"].startswith("reports/job1/copy/")
    missing = next(r for r in report if r["code"] == "NoSuchKey")
    assert missing["key"] == "src/missing.bin" and "does not exist" in missing["message"]


def test_pages_resume_at_next_offset_and_cover_every_line_once(env, localcloud, bucket, dest):
    keys = put_objects(bucket, 23)
    bucket.put_object("index.jsonl", "\n".join(json.dumps({"key": k}) for k in keys))
    offset, totals, pages = 0, {}, 0
    while True:
        ev = index_event(
            bucket, dest, "index.jsonl", tuning={"max_items": 5, "concurrency": 4}, totals=totals
        )
        ev["index"]["offset"] = offset
        result = run(ev, localcloud)
        pages += 1
        offset, totals = result["next_offset"], result["totals"]
        if result["done"]:
            break
    assert pages == 5 and totals["done"] == 23
    listed = [o.key for o in oss2.ObjectIterator(dest, prefix="copied/")]
    assert listed == [f"copied/{k}" for k in keys]


def test_rerun_skips_copied_objects_with_a_listing_not_a_head_each(env, localcloud, bucket, dest):
    keys = put_objects(bucket, 6)
    bucket.put_object("index.jsonl", "\n".join(json.dumps({"key": k}) for k in keys))
    run(index_event(bucket, dest, "index.jsonl"), localcloud)
    before = oss_counters(localcloud)
    again = run(index_event(bucket, dest, "index.jsonl"), localcloud)
    delta = counter_delta(before, oss_counters(localcloud))
    assert again["counters"]["skipped"] == 6 and again["counters"]["done"] == 0
    assert delta.get("CopyObject", 0) == 0
    # source facts (the index has no sizes) + the index; listings, not HEADs, answer for the
    # destination (a second one only when a concurrent worker asks for a lower key first)
    assert delta.get("HeadObject", 0) == 6 + 1, delta
    assert 1 <= delta.get("ListObjects", 0) <= 2, delta


def test_a_fresh_copy_from_an_index_without_sizes_is_one_copy_per_object(
    env, localcloud, bucket, dest
):
    keys = put_objects(bucket, 40)
    bucket.put_object("index.jsonl", "\n".join(json.dumps({"key": k}) for k in keys))
    before = oss_counters(localcloud)
    result = run(index_event(bucket, dest, "index.jsonl"), localcloud)
    delta = counter_delta(before, oss_counters(localcloud))
    assert result["counters"]["done"] == 40
    # the index's own HEAD + GET, one destination listing, then CopyObject and nothing else
    assert delta.get("CopyObject") == 40 and delta.get("HeadObject") == 1, delta
    per_object = (sum(delta.values()) - 2) / 40
    assert per_object <= 1.02 + 2 / 40, delta


def test_a_rerun_with_sizes_but_no_etags_learns_the_etag_and_rewrites_nothing(
    env, localcloud, bucket, dest
):
    keys = put_objects(bucket, 8)
    lines = [json.dumps({"key": k, "size": 10}) for k in keys]
    bucket.put_object("index.jsonl", "\n".join(lines))
    assert run(index_event(bucket, dest, "index.jsonl"), localcloud)["counters"]["done"] == 8
    before = oss_counters(localcloud)
    again = run(index_event(bucket, dest, "index.jsonl"), localcloud)
    delta = counter_delta(before, oss_counters(localcloud))
    assert again["counters"]["skipped"] == 8 and delta.get("CopyObject", 0) == 0, delta
    assert delta.get("HeadObject") == 8 + 1, delta


def test_a_changed_source_with_the_same_size_is_copied_again(env, localcloud, bucket, dest):
    bucket.put_object("src/a.bin", b"first.....")
    bucket.put_object("index.jsonl", json.dumps({"key": "src/a.bin", "size": 10}) + "\n")
    ev = index_event(bucket, dest, "index.jsonl")
    ev["dest"]["storage_class"] = None
    run(ev, localcloud)
    bucket.put_object("src/a.bin", b"second....")
    again = run(ev, localcloud)
    assert again["counters"]["done"] == 1
    assert dest.get_object("copied/src/a.bin").read() == b"second...."


def test_listing_source_pages_by_marker(env, localcloud, bucket, dest):
    put_objects(bucket, 7, prefix="p/")
    put_objects(bucket, 2, prefix="other/")
    ev = {
        "job_id": "j2",
        "listing": {"bucket": bucket.bucket_name, "prefix": "p/"},
        "dest": {"bucket": dest.bucket_name},
        "tuning": {"max_items": 4},
    }
    first = run(ev, localcloud)
    assert not first["done"] and first["next_marker"] == "p/0003.bin"
    ev["listing"]["marker"] = first["next_marker"]
    second = run(ev, localcloud)
    assert second["done"] and second["counters"]["done"] == 3
    assert len(list(oss2.ObjectIterator(dest))) == 7


def test_large_objects_use_parallel_upload_part_copy(env, localcloud, bucket, dest):
    body = bytes(range(256)) * 2000  # 512,000 bytes
    bucket.put_object(
        "big.bin", body, headers={"Content-Type": "application/x-big", "x-oss-meta-k": "v"}
    )
    bucket.put_object("index.jsonl", json.dumps({"key": "big.bin", "size": len(body)}) + "\n")
    before = oss_counters(localcloud)
    ev = index_event(bucket, dest, "index.jsonl", multipart_threshold=200_000, part_size=102_400)
    result = run(ev, localcloud)
    delta = counter_delta(before, oss_counters(localcloud))
    assert result["counters"]["done"] == 1 and result["counters"]["bytes"] == len(body)
    assert delta.get("UploadPartCopy") == 5 and delta.get("CopyObject", 0) == 0
    head = dest.head_object("copied/big.bin")
    assert head.content_type == "application/x-big" and head.headers["x-oss-meta-k"] == "v"
    assert head.headers["x-oss-storage-class"] == "Archive"
    assert (
        head.headers["x-oss-hash-crc64ecma"]
        == bucket.head_object("big.bin").headers["x-oss-hash-crc64ecma"]
    )
    rerun = run(ev, localcloud)  # multipart ETag differs: the CRC-64 proves it is the same
    assert rerun["counters"]["skipped"] == 1


def test_an_object_too_large_for_copy_object_switches_to_multipart_on_osss_answer(
    monkeypatch, tmp_path
):
    from localcloud import launcher

    cloud = launcher.start(tmp_path / "lc", env={"LOCALCLOUD_OSS_MAX_COPY_BYTES": "200000"})
    try:
        monkeypatch.setenv("OSSBATCH_OSS_ENDPOINT", cloud.oss_endpoint)
        monkeypatch.setenv("OSSBATCH_REPORT_PREFIX", "reports/")
        auth = oss2.Auth(cloud.access_key_id, cloud.access_key_secret)
        src = oss2.Bucket(auth, cloud.oss_endpoint, f"s-{uuid.uuid4().hex[:12]}")
        src.create_bucket()
        src.put_object("big.bin", bytes(range(256)) * 2000)
        src.put_object("small.bin", b"tiny")
        src.put_object("index.jsonl", '{"key": "big.bin"}\n{"key": "small.bin"}\n')
        before = oss_counters(cloud)
        ev = index_event(src, src, "index.jsonl", multipart_threshold=200_000, part_size=102_400)
        ev["dest"]["storage_class"] = None
        result = run(ev, cloud)
        delta = counter_delta(before, oss_counters(cloud))
        assert result["counters"]["done"] == 2 and result["counters"]["failed"] == 0
        # both tried CopyObject first; only the refused one paid a HEAD and went multipart
        assert delta.get("CopyObject") == 2 and delta.get("UploadPartCopy") == 5, delta
        assert src.get_object("copied/big.bin").read() == bytes(range(256)) * 2000
    finally:
        cloud.stop()


def test_in_place_conversion_keeps_metadata_and_tags_and_a_rerun_rewrites_nothing(
    env, localcloud, bucket
):
    bucket.put_object(
        "t/a.bin",
        b"payload",
        headers={"x-oss-meta-owner": "team-a", "Content-Type": "image/png", "x-oss-tagging": "k=v"},
    )
    ev = {
        "job_id": "conv-tags",
        "listing": {"bucket": bucket.bucket_name, "prefix": "t/"},
        "dest": {"bucket": bucket.bucket_name, "storage_class": "Archive"},
    }
    assert run(ev, localcloud)["counters"]["done"] == 1
    head = bucket.head_object("t/a.bin")
    assert head.headers["x-oss-storage-class"] == "Archive"
    assert head.headers["x-oss-meta-owner"] == "team-a" and head.content_type == "image/png"
    assert bucket.get_object_tagging("t/a.bin").tag_set.tagging_rule == {"k": "v"}
    before = oss_counters(localcloud)
    again = run(ev, localcloud)
    delta = counter_delta(before, oss_counters(localcloud))
    # already Archive: skipped from the listing alone, never copied onto itself again
    assert again["counters"]["skipped"] == 1 and delta.get("CopyObject", 0) == 0, delta


def test_in_place_storage_class_conversion(env, localcloud, bucket):
    put_objects(bucket, 3, prefix="c/")
    ev = {
        "job_id": "conv",
        "listing": {"bucket": bucket.bucket_name, "prefix": "c/"},
        "dest": {"bucket": bucket.bucket_name, "storage_class": "IA"},
    }
    assert run(ev, localcloud)["counters"]["done"] == 3
    assert bucket.head_object("c/0001.bin").headers["x-oss-storage-class"] == "IA"
    assert run(ev, localcloud)["counters"]["skipped"] == 3


def test_missing_source_bucket_is_systemic(env, localcloud, dest):
    ev = {
        "job_id": "j",
        "listing": {"bucket": f"nope-{uuid.uuid4().hex[:12]}"},
        "dest": {"bucket": dest.bucket_name},
    }
    with pytest.raises(SourceBucketMissing):
        run(ev, localcloud)


def test_missing_index_is_systemic(env, localcloud, bucket, dest):
    with pytest.raises(IndexMissing):
        run(index_event(bucket, dest, "absent.jsonl"), localcloud)


def test_wrong_credentials_are_systemic(env, localcloud, bucket, dest):
    ctx = fc_context(localcloud)
    ctx.credentials.access_key_secret = "wrong"
    ev = parse_event(
        CopyEvent,
        {
            "job_id": "j",
            "listing": {"bucket": bucket.bucket_name},
            "dest": {"bucket": dest.bucket_name},
        },
    )
    with pytest.raises(AccessDenied):
        copy_handler.run(ev, ctx)


def test_handler_adapter_speaks_bytes_and_validates(env, localcloud, bucket, dest):
    put_objects(bucket, 1)
    payload = json.dumps(
        {
            "job_id": "a",
            "listing": {"bucket": bucket.bucket_name},
            "dest": {"bucket": dest.bucket_name},
        }
    ).encode()
    out = json.loads(copy_handler.handler(payload, fc_context(localcloud)))
    assert out["done"] and out["counters"]["done"] == 1
    with pytest.raises(InvalidEvent, match="dest"):
        copy_handler.handler(
            b'{"job_id": "a", "listing": {"bucket": "abc"}}', fc_context(localcloud)
        )


def test_copies_reuse_connections_instead_of_one_per_object(env, localcloud, bucket, dest):
    from handlers.budget import TimeBudget
    from handlers.clients import OssClients, credentials_from_context
    from handlers.logs import JobLog

    put_objects(bucket, 40)
    ev = parse_event(
        CopyEvent,
        {
            "job_id": "conn",
            "listing": {"bucket": bucket.bucket_name},
            "dest": {"bucket": dest.bucket_name},
            "tuning": {"concurrency": 4},
        },
    )
    clients = OssClients(
        localcloud.oss_endpoint, credentials_from_context(fc_context(localcloud)), pool_size=4
    )
    result = copy_handler.copy_page(
        ev, clients, TimeBudget.seconds(60), JobLog("copy", "conn", None)
    )
    assert result["counters"]["done"] == 40
    opened = clients.session.connections_opened()
    # the listing and the copies share the pool: at least one connection, at most the pool
    assert 1 <= opened <= 4 + 2, f"{opened} connections for 40 copies: drain oss2 copy bodies"


def test_an_exhausted_budget_still_makes_progress_and_says_where_to_continue(
    env, localcloud, bucket, dest
):
    keys = put_objects(bucket, 3)
    bucket.put_object("index.jsonl", "".join(json.dumps({"key": k}) + "\n" for k in keys))
    ev = index_event(bucket, dest, "index.jsonl", tuning={"time_budget_seconds": 0.000001})
    first = run(ev, localcloud)
    assert not first["done"] and first["counters"]["done"] == 1
    assert first["next_offset"] == len(json.dumps({"key": keys[0]})) + 1


def test_the_function_timeout_bounds_the_page(env, localcloud, bucket, dest):
    put_objects(bucket, 5)
    ev = {
        "job_id": "t",
        "listing": {"bucket": bucket.bucket_name},
        "dest": {"bucket": dest.bucket_name},
    }
    result = run(ev, localcloud, timeout=1)  # margin >= the whole timeout: one object, then stop
    assert not result["done"] and result["counters"]["done"] >= 1
