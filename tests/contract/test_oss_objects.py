"""OSS objects through unmodified oss2: put/get/head/delete, metadata, ranges, CRC, ETag."""

from __future__ import annotations

import base64
import hashlib

import oss2
import pytest

KEYS = [
    "plain.txt",
    "with space.bin",
    "plus+sign",
    "per%cent",
    "中文/文件名.txt",
    "emoji-\U0001f600",
    "a/b/c/deep.txt",
]


@pytest.mark.parametrize("key", KEYS)
def test_put_then_get_returns_the_same_bytes_for_any_key(bucket, key):
    data = key.encode() * 100
    put = bucket.put_object(key, data)
    got = bucket.get_object(key)
    assert got.read() == data
    assert got.etag == put.etag == hashlib.md5(data).hexdigest().upper()


def test_etag_is_quoted_upper_case_md5_and_crc64_matches_oss2(bucket):
    data = b"hello world"
    result = bucket.put_object("e", data)
    assert result.resp.headers["etag"] == '"5EB63BBBE01EEED093CB22BB8F5ACDC3"'
    crc = oss2.utils.Crc64()
    crc.update(data)
    assert int(result.resp.headers["x-oss-hash-crc64ecma"]) == crc.crc
    assert result.resp.headers["x-oss-request-id"]


def test_user_metadata_content_type_and_stored_headers_come_back(bucket):
    bucket.put_object(
        "m.json",
        b"{}",
        headers={
            "Content-Type": "application/json",
            "x-oss-meta-owner": "team-a",
            "Cache-Control": "no-cache",
        },
    )
    head = bucket.head_object("m.json")
    assert head.content_type == "application/json"
    assert head.headers["x-oss-meta-owner"] == "team-a"
    assert head.headers["cache-control"] == "no-cache"
    assert head.content_length == 2
    assert head.headers["x-oss-storage-class"] == "Standard"
    assert head.last_modified > 0


def test_content_md5_mismatch_is_invalid_digest(bucket):
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(oss2.exceptions.OssError) as err:
        bucket.put_object("md5", b"payload", headers={"Content-MD5": wrong})
    assert (err.value.status, err.value.code) == (400, "InvalidDigest")
    assert not bucket.object_exists("md5")


def test_content_md5_that_matches_is_accepted(bucket):
    good = base64.b64encode(hashlib.md5(b"payload").digest()).decode()
    bucket.put_object("md5ok", b"payload", headers={"Content-MD5": good})
    assert bucket.get_object("md5ok").read() == b"payload"


@pytest.mark.parametrize(
    ("byte_range", "expected", "status"),
    [
        ((0, 3), b"0123", 206),
        ((5, None), b"56789", 206),
        ((None, 3), b"789", 206),  # suffix range: last 3 bytes
        ((8, 20), b"0123456789", 200),  # end past the object: OSS answers the whole object
        ((20, 30), b"0123456789", 200),
        ((5, 2), b"0123456789", 200),
    ],
)
def test_range_get_follows_oss_rules(bucket, byte_range, expected, status):
    bucket.put_object("r", b"0123456789")
    result = bucket.get_object("r", byte_range=byte_range)
    assert result.status == status
    assert result.read() == expected


def test_standard_range_behavior_clips_and_rejects_unsatisfiable(bucket):
    bucket.put_object("r", b"0123456789")
    std = {"x-oss-range-behavior": "standard"}
    assert bucket.get_object("r", byte_range=(8, 20), headers=std).read() == b"89"
    with pytest.raises(oss2.exceptions.OssError) as err:
        bucket.get_object("r", byte_range=(20, 30), headers=std)
    assert (err.value.status, err.value.code) == (416, "InvalidRange")


def test_get_and_head_of_missing_key_are_no_such_key(bucket):
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object("missing")
    with pytest.raises(oss2.exceptions.NotFound):
        bucket.head_object("missing")
    assert bucket.object_exists("missing") is False


def test_delete_is_idempotent(bucket):
    bucket.put_object("d", b"x")
    bucket.delete_object("d")
    bucket.delete_object("d")
    assert not bucket.object_exists("d")


def test_overwrite_replaces_bytes_and_etag(bucket):
    bucket.put_object("o", b"first")
    bucket.put_object("o", b"second version")
    assert bucket.get_object("o").read() == b"second version"


def test_batch_delete_verbose_lists_keys_and_quiet_lists_none(localcloud, bucket):
    import hashlib as _hashlib

    from tests.contract.oss_raw import signed_request

    keys = ["x/1", "x/2 space", "x/3+中"]
    for k in keys:
        bucket.put_object(k, b"1")
    result = bucket.batch_delete_objects(keys[:2])  # oss2 always asks for the verbose answer
    assert sorted(result.deleted_keys) == sorted(keys[:2])
    body = "<Delete><Quiet>true</Quiet><Object><Key>x/3+中</Key></Object></Delete>".encode()
    md5 = base64.b64encode(_hashlib.md5(body).digest()).decode()
    quiet = signed_request(
        localcloud,
        "POST",
        bucket.bucket_name,
        params={"delete": ""},
        data=body,
        headers={"Content-MD5": md5},
    )
    assert quiet.status_code == 200 and b"<Deleted>" not in quiet.content
    assert [o.key for o in oss2.ObjectIterator(bucket)] == []


def test_conditional_get_if_none_match_is_not_modified(bucket):
    put = bucket.put_object("c", b"x")
    with pytest.raises(oss2.exceptions.NotModified):
        bucket.get_object("c", headers={"If-None-Match": f'"{put.etag}"'})
    with pytest.raises(oss2.exceptions.PreconditionFailed):
        bucket.get_object("c", headers={"If-Match": '"0000"'})


def test_get_to_file_and_put_from_file_verify_crc(bucket, tmp_path):
    src = tmp_path / "in.bin"
    src.write_bytes(bytes(range(256)) * 4096)
    bucket.put_object_from_file("f", str(src))
    dst = tmp_path / "out.bin"
    bucket.get_object_to_file("f", str(dst))
    assert dst.read_bytes() == src.read_bytes()


def test_signed_url_v1_allows_anonymous_download(bucket):
    import requests

    bucket.put_object("signed", b"secret bytes")
    url = bucket.sign_url("GET", "signed", 60)
    assert requests.get(url, timeout=10).content == b"secret bytes"


def test_append_object_grows_and_checks_position(bucket):
    r1 = bucket.append_object("log", 0, b"hello ")
    r2 = bucket.append_object("log", r1.next_position, b"world")
    assert r2.next_position == 11
    assert bucket.get_object("log").read() == b"hello world"
    with pytest.raises(oss2.exceptions.PositionNotEqualToLength):
        bucket.append_object("log", 3, b"x")
    bucket.put_object("normal", b"x")
    with pytest.raises(oss2.exceptions.ObjectNotAppendable):
        bucket.append_object("normal", 1, b"y")


def test_object_acl_round_trip(bucket):
    bucket.put_object("acl", b"x")
    assert bucket.get_object_acl("acl").acl == "default"
    bucket.put_object_acl("acl", oss2.OBJECT_ACL_PUBLIC_READ)
    assert bucket.get_object_acl("acl").acl == "public-read"
    assert "x-oss-object-acl" not in bucket.head_object("acl").headers


@pytest.mark.parametrize("size", [0, 1000, 64 * 1024, 64 * 1024 + 1, 300_000])
def test_inline_and_file_backed_objects_behave_the_same(bucket, size):
    data = bytes(i % 251 for i in range(size))
    bucket.put_object("obj", data)
    assert bucket.get_object("obj").read() == data
    if size:
        assert (
            bucket.get_object("obj", byte_range=(size // 2, size - 1)).read() == data[size // 2 :]
        )
    bucket.copy_object(bucket.bucket_name, "obj", "copy")
    bucket.put_object("obj", b"overwritten")  # the copy keeps its own bytes
    assert bucket.get_object("copy").read() == data
    upload_id = bucket.init_multipart_upload("mp").upload_id
    part = bucket.upload_part_copy(bucket.bucket_name, "copy", None, "mp", upload_id, 1)
    bucket.complete_multipart_upload("mp", upload_id, [oss2.models.PartInfo(1, part.etag)])
    assert bucket.get_object("mp").read() == data
    bucket.delete_object("copy")
    assert not bucket.object_exists("copy")


def test_chunked_upload_without_content_length(bucket):
    def body():
        for i in range(50):
            yield bytes([i]) * 10_000

    bucket.put_object("chunked", body())
    assert bucket.get_object("chunked").read() == b"".join(bytes([i]) * 10_000 for i in range(50))


def test_signed_url_put_and_v4_signed_url_get(localcloud, bucket):
    import requests

    url = bucket.sign_url("PUT", "via-url", 60, headers={"Content-Type": "text/plain"})
    assert (
        requests.put(
            url, data=b"up", headers={"Content-Type": "text/plain"}, timeout=10
        ).status_code
        == 200
    )
    b4 = oss2.Bucket(
        oss2.AuthV4(localcloud.access_key_id, localcloud.access_key_secret),
        localcloud.oss_endpoint,
        bucket.bucket_name,
        region=localcloud.region,
    )
    assert requests.get(b4.sign_url("GET", "via-url", 60), timeout=10).content == b"up"


# bodies past 1 MiB are hashed and written in an intake thread, batch by batch: the sizes
# around the hand-over and the batch size must give the same ETag, CRC-64 and bytes
@pytest.mark.parametrize(
    "size", [(1 << 20) - 1, 1 << 20, (1 << 20) + 1, 2 << 20, 3 * (1 << 20) + 12345]
)
def test_bodies_around_the_intake_threshold_keep_etag_crc64_and_bytes(bucket, size):
    data = hashlib.sha256(str(size).encode()).digest() * (size // 32) + b"t" * (size % 32)
    good = base64.b64encode(hashlib.md5(data).digest()).decode()
    put = bucket.put_object(f"sized/{size}", data, headers={"Content-MD5": good})
    crc = oss2.utils.Crc64()
    crc.update(data)
    assert put.etag == hashlib.md5(data).hexdigest().upper()
    assert int(put.resp.headers["x-oss-hash-crc64ecma"]) == crc.crc
    assert bucket.get_object(f"sized/{size}").read() == data


def test_large_body_with_a_wrong_content_md5_is_invalid_digest_and_not_stored(bucket):
    data = b"L" * (3 << 20)
    wrong = base64.b64encode(hashlib.md5(data[:-1] + b"M").digest()).decode()
    with pytest.raises(oss2.exceptions.OssError) as err:
        bucket.put_object("large-md5", data, headers={"Content-MD5": wrong})
    assert (err.value.status, err.value.code) == (400, "InvalidDigest")
    assert not bucket.object_exists("large-md5")


def test_large_part_with_a_wrong_content_md5_is_invalid_digest(bucket):
    upload_id = bucket.init_multipart_upload("large-part").upload_id
    data = b"P" * (3 << 20)
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(oss2.exceptions.OssError) as err:
        bucket.upload_part("large-part", upload_id, 1, data, headers={"Content-MD5": wrong})
    assert (err.value.status, err.value.code) == (400, "InvalidDigest")
    assert bucket.list_parts("large-part", upload_id).parts == []
