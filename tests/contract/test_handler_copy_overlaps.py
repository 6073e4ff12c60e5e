"""copy handler: a copy never reads its own output, an unquoted CSV comma never names another
object, and a bad bucket on one index line fails that line only (issue 12)."""

from __future__ import annotations

import uuid

from handlers import copy as copy_handler
from handlers.events import CopyEvent, parse_event
from tests.handlerkit import fc_context, read_report


def run(event: dict, cloud):
    return copy_handler.run(parse_event(CopyEvent, event), fc_context(cloud))


def keys_under(bucket, prefix: str) -> list[str]:
    return sorted(o.key for o in bucket.list_objects(prefix=prefix, max_keys=1000).object_list)


def test_a_listing_copy_into_its_own_source_leaves_the_destination_out(env, localcloud, bucket):
    for i in range(3):
        bucket.put_object(f"rec/{i}.bin", b"x")
    bucket.put_object("rec/zz/rec/old.bin", b"a previous run's output")
    ev = {
        "job_id": "nested",
        "listing": {"bucket": bucket.bucket_name, "prefix": "rec/"},
        "dest": {"bucket": bucket.bucket_name, "prefix": "rec/zz/"},
        "tuning": {"max_items": 2},
    }
    pages = 0
    while True:  # pages chained as the flow does: never more pages than source objects
        result = run(ev, localcloud)
        pages += 1
        assert pages <= 4, "the copy is reading its own output"
        if result["done"]:
            break
        ev["listing"]["marker"] = result["next_marker"]
    assert keys_under(bucket, "rec/zz/") == [
        "rec/zz/rec/0.bin",
        "rec/zz/rec/1.bin",
        "rec/zz/rec/2.bin",
        "rec/zz/rec/old.bin",
    ]
    assert not any(k.startswith("rec/zz/rec/zz/") for k in keys_under(bucket, "rec/"))


def test_an_in_place_conversion_still_lists_every_object(env, localcloud, bucket):
    bucket.put_object("cold/a.bin", b"a")
    ev = {
        "job_id": "inplace",
        "listing": {"bucket": bucket.bucket_name, "prefix": "cold/"},
        "dest": {"bucket": bucket.bucket_name, "prefix": "", "storage_class": "IA"},
    }
    result = run(ev, localcloud)
    assert result["counters"]["done"] == 1
    assert bucket.head_object("cold/a.bin").headers["x-oss-storage-class"] == "IA"


def test_an_item_that_would_overwrite_the_index_fails_alone(env, localcloud, bucket):
    name = bucket.bucket_name
    bucket.put_object("list.csv", b"x")
    bucket.put_object("out/list.csv", f"{name},list.csv\n".encode())
    ev = {
        "job_id": "selfindex",
        "index": {"bucket": name, "key": "out/list.csv"},
        "dest": {"bucket": name, "prefix": "out/"},
    }
    result = run(ev, localcloud)
    assert result["counters"]["failed"] == 1
    assert bucket.get_object("out/list.csv").read() == f"{name},list.csv\n".encode()
    [record] = read_report(bucket, result["report_key"])
    assert record["code"] == "WouldOverwriteIndex"


def test_an_unquoted_comma_in_a_csv_key_is_a_malformed_line_not_another_object(
    env, localcloud, bucket, dest
):
    name = bucket.bucket_name
    bucket.put_object("comma/a", b"the WRONG object")
    bucket.put_object("comma/a,b.txt", b"right")
    manifest = f"{name},comma/a,b.txt\n{name},comma/a%2Cb.txt\n".encode()
    bucket.put_object("m.csv", manifest)
    ev = {
        "job_id": "comma",
        "index": {"bucket": name, "key": "m.csv"},
        "dest": {"bucket": dest.bucket_name, "prefix": "c/"},
    }
    result = run(ev, localcloud)
    assert result["counters"]["done"] == 1 and result["counters"]["failed"] == 1
    assert keys_under(dest, "c/") == ["c/comma/a,b.txt"]
    [record] = read_report(dest, result["report_key"])
    assert record["code"] == "MalformedLine" and "3 fields" in record["message"]


def test_a_missing_or_invalid_bucket_on_one_index_line_fails_only_that_line(
    env, localcloud, bucket, dest
):
    name = bucket.bucket_name
    bucket.put_object("ok.bin", b"ok")
    missing = f"nope-{uuid.uuid4().hex[:12]}"
    lines = [f"{name},ok.bin", f"{missing},ok.bin", "Bad_Bucket,ok.bin"]
    bucket.put_object("i.csv", ("\n".join(lines) + "\n").encode())
    ev = {
        "job_id": "badbucket",
        "index": {"bucket": name, "key": "i.csv"},
        "dest": {"bucket": dest.bucket_name, "prefix": "o/"},
    }
    result = run(ev, localcloud)
    assert result["done"]
    assert result["counters"]["done"] == 1 and result["counters"]["failed"] == 2
    codes = sorted(r["code"] for r in read_report(dest, result["report_key"]))
    assert codes == ["InvalidBucketName", "NoSuchBucket"]
