"""CopyObject through oss2: escaped sources, cross-bucket, metadata directive, class, conditionals."""

from __future__ import annotations

import uuid

import oss2
import pytest

from tests.contract.oss_raw import error_code, signed_request


def test_copy_keeps_bytes_etag_crc_and_metadata(bucket):
    src = "src dir/file +%中.bin"
    put = bucket.put_object(
        src, b"copy me", headers={"x-oss-meta-tag": "v1", "Content-Type": "text/x-a"}
    )
    result = bucket.copy_object(bucket.bucket_name, src, "dst/copy.bin")
    assert result.etag == put.etag
    head = bucket.head_object("dst/copy.bin")
    assert head.headers["x-oss-meta-tag"] == "v1"
    assert head.content_type == "text/x-a"
    assert head.headers["x-oss-hash-crc64ecma"] == put.resp.headers["x-oss-hash-crc64ecma"]
    assert bucket.get_object("dst/copy.bin").read() == b"copy me"


def test_copy_with_replace_directive_sets_new_metadata(bucket):
    bucket.put_object("s", b"x", headers={"x-oss-meta-old": "1"})
    bucket.copy_object(
        bucket.bucket_name,
        "s",
        "d",
        headers={
            "x-oss-metadata-directive": "REPLACE",
            "x-oss-meta-new": "2",
            "Content-Type": "text/plain",
        },
    )
    head = bucket.head_object("d")
    assert head.headers.get("x-oss-meta-new") == "2"
    assert "x-oss-meta-old" not in head.headers
    assert head.content_type == "text/plain"


def test_copy_across_buckets_with_storage_class(localcloud, oss_auth, bucket):
    other = oss2.Bucket(oss_auth, localcloud.oss_endpoint, f"x-{uuid.uuid4().hex[:12]}")
    other.create_bucket()
    bucket.put_object("s", b"cross")
    other.copy_object(
        bucket.bucket_name, "s", "archived", headers={"x-oss-storage-class": "Archive"}
    )
    head = other.head_object("archived")
    assert head.headers["x-oss-storage-class"] == "Archive"
    assert "x-oss-restore" not in head.headers


def test_copy_in_place_changes_storage_class(bucket):
    bucket.put_object("inplace", b"x")
    bucket.copy_object(
        bucket.bucket_name, "inplace", "inplace", headers={"x-oss-storage-class": "IA"}
    )
    assert bucket.head_object("inplace").headers["x-oss-storage-class"] == "IA"
    assert bucket.get_object("inplace").read() == b"x"


def test_copy_from_archived_unrestored_source_is_invalid_object_state(bucket):
    bucket.put_object("cold", b"x", headers={"x-oss-storage-class": "Archive"})
    with pytest.raises(oss2.exceptions.OssError) as err:
        bucket.copy_object(bucket.bucket_name, "cold", "warm")
    assert (err.value.status, err.value.code) == (403, "InvalidObjectState")


def test_copy_source_conditionals(bucket):
    put = bucket.put_object("s", b"x")
    bucket.copy_object(
        bucket.bucket_name, "s", "ok", headers={"x-oss-copy-source-if-match": f'"{put.etag}"'}
    )
    with pytest.raises(oss2.exceptions.PreconditionFailed):
        bucket.copy_object(
            bucket.bucket_name, "s", "no", headers={"x-oss-copy-source-if-match": '"BAD"'}
        )
    with pytest.raises(oss2.exceptions.PreconditionFailed):
        bucket.copy_object(
            bucket.bucket_name,
            "s",
            "no",
            headers={"x-oss-copy-source-if-none-match": f'"{put.etag}"'},
        )
    assert not bucket.object_exists("no")


def test_copy_of_missing_source_is_no_such_key(bucket):
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.copy_object(bucket.bucket_name, "nothing-here", "d")


def test_copy_with_bad_metadata_directive_is_invalid_argument(localcloud, bucket):
    bucket.put_object("s", b"x")
    resp = signed_request(
        localcloud,
        "PUT",
        bucket.bucket_name,
        "d",
        headers={
            "x-oss-copy-source": f"/{bucket.bucket_name}/s",
            "x-oss-metadata-directive": "MERGE",
        },
    )
    assert (resp.status_code, error_code(resp)) == (400, "InvalidArgument")
