"""Multipart through oss2: parts, copy parts, complete rules, listings, resumable up/download."""

from __future__ import annotations

import hashlib
import os

import oss2
import pytest

from tests.contract.oss_raw import error_code, signed_request

PART = 100 * 1024


def _upload(bucket, key, chunks):
    upload_id = bucket.init_multipart_upload(key).upload_id
    parts = []
    for i, chunk in enumerate(chunks, 1):
        r = bucket.upload_part(key, upload_id, i, chunk)
        parts.append(oss2.models.PartInfo(i, r.etag))
    return upload_id, parts


def test_multipart_etag_and_crc_are_as_oss_computes(bucket):
    chunks = [os.urandom(PART), os.urandom(PART), b"tail"]
    upload_id, parts = _upload(bucket, "mp", chunks)
    result = bucket.complete_multipart_upload("mp", upload_id, parts)
    joined = b"".join(hashlib.md5(c).digest() for c in chunks)
    assert result.etag == hashlib.md5(joined).hexdigest().upper() + "-3"
    got = bucket.get_object("mp")
    assert got.read() == b"".join(chunks)
    assert got.headers["x-oss-object-type"] == "Multipart"
    crc = oss2.utils.Crc64()
    crc.update(b"".join(chunks))
    assert int(got.headers["x-oss-hash-crc64ecma"]) == crc.crc


def test_complete_with_wrong_etag_is_invalid_part(bucket):
    upload_id, parts = _upload(bucket, "k", [os.urandom(PART), b"x"])
    parts[1] = oss2.models.PartInfo(2, "0" * 32)
    with pytest.raises(oss2.exceptions.OssError) as err:
        bucket.complete_multipart_upload("k", upload_id, parts)
    assert (err.value.status, err.value.code) == (400, "InvalidPart")


def test_complete_out_of_order_is_invalid_part_order(localcloud, bucket):
    # oss2 sorts the parts itself: send the XML by hand
    upload_id, parts = _upload(bucket, "k", [os.urandom(PART), b"x"])
    body = (
        "<CompleteMultipartUpload>"
        + "".join(
            f'<Part><PartNumber>{p.part_number}</PartNumber><ETag>"{p.etag}"</ETag></Part>'
            for p in reversed(parts)
        )
        + "</CompleteMultipartUpload>"
    )
    resp = signed_request(
        localcloud,
        "POST",
        bucket.bucket_name,
        "k",
        params={"uploadId": upload_id},
        data=body.encode(),
    )
    assert (resp.status_code, error_code(resp)) == (400, "InvalidPartOrder")


def test_small_non_last_part_is_entity_too_small(bucket):
    upload_id, parts = _upload(bucket, "k", [b"small", b"x"])
    with pytest.raises(oss2.exceptions.OssError) as err:
        bucket.complete_multipart_upload("k", upload_id, parts)
    assert err.value.code == "EntityTooSmall"


def test_abort_then_any_use_is_no_such_upload(bucket):
    upload_id, _ = _upload(bucket, "k", [b"x"])
    bucket.abort_multipart_upload("k", upload_id)
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.upload_part("k", upload_id, 2, b"y")
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.list_parts("k", upload_id)


def test_list_parts_and_list_uploads(bucket):
    upload_id, _ = _upload(bucket, "dir/k 1", [b"a", b"b", b"c"])
    parts = bucket.list_parts("dir/k 1", upload_id, max_parts=2)
    assert [p.part_number for p in parts.parts] == [1, 2] and parts.is_truncated
    rest = bucket.list_parts("dir/k 1", upload_id, marker=parts.next_marker)
    assert [p.part_number for p in rest.parts] == [3]
    uploads = list(oss2.MultipartUploadIterator(bucket))
    assert [(u.key, u.upload_id) for u in uploads] == [("dir/k 1", upload_id)]
    assert [p.part_number for p in oss2.PartIterator(bucket, "dir/k 1", upload_id)] == [1, 2, 3]


def test_upload_part_copy_with_range(bucket):
    src = os.urandom(3 * PART)
    bucket.put_object("src", src)
    upload_id = bucket.init_multipart_upload("dst").upload_id
    r1 = bucket.upload_part_copy(bucket.bucket_name, "src", (0, PART - 1), "dst", upload_id, 1)
    r2 = bucket.upload_part_copy(
        bucket.bucket_name, "src", (PART, 3 * PART - 1), "dst", upload_id, 2
    )
    bucket.complete_multipart_upload(
        "dst", upload_id, [oss2.models.PartInfo(1, r1.etag), oss2.models.PartInfo(2, r2.etag)]
    )
    assert bucket.get_object("dst").read() == src
    assert r1.etag == hashlib.md5(src[:PART]).hexdigest().upper()


def test_complete_all_header_joins_every_part(bucket):
    upload_id, _ = _upload(bucket, "all", [os.urandom(PART), b"end"])
    bucket.complete_multipart_upload("all", upload_id, None, headers={"x-oss-complete-all": "yes"})
    assert bucket.head_object("all").content_length == PART + 3


def test_resumable_upload_and_download_end_to_end(bucket, tmp_path):
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(2 * 1024 * 1024 + 123))
    oss2.resumable_upload(
        bucket,
        "resumable/big.bin",
        str(src),
        multipart_threshold=256 * 1024,
        part_size=256 * 1024,
        num_threads=3,
        store=oss2.ResumableStore(root=str(tmp_path)),
    )
    head = bucket.head_object("resumable/big.bin")
    assert head.content_length == src.stat().st_size
    assert head.headers["x-oss-object-type"] == "Multipart"
    dst = tmp_path / "out.bin"
    oss2.resumable_download(
        bucket,
        "resumable/big.bin",
        str(dst),
        multiget_threshold=256 * 1024,
        part_size=300 * 1024,
        num_threads=3,
        store=oss2.ResumableDownloadStore(root=str(tmp_path)),
    )
    assert dst.read_bytes() == src.read_bytes()


def test_list_uploads_pages_with_markers_and_rolls_up_prefixes(bucket):
    made = []
    for key in ["a/1", "a/2", "b", "b", "c/x/1"]:
        made.append((key, bucket.init_multipart_upload(key).upload_id))
    got = [(u.key, u.upload_id) for u in oss2.MultipartUploadIterator(bucket, max_uploads=2)]
    assert got == sorted(made)
    top = bucket.list_multipart_uploads(delimiter="/")
    assert top.prefix_list == ["a/", "c/"]
    assert [u.key for u in top.upload_list] == ["b", "b"]
    under_a = bucket.list_multipart_uploads(prefix="a/")
    assert [u.key for u in under_a.upload_list] == ["a/1", "a/2"]


def test_empty_parts_and_empty_appends_are_fine(bucket):
    upload_id = bucket.init_multipart_upload("empty").upload_id
    part = bucket.upload_part("empty", upload_id, 1, b"")
    bucket.complete_multipart_upload("empty", upload_id, [oss2.models.PartInfo(1, part.etag)])
    assert bucket.get_object("empty").read() == b""
    assert bucket.append_object("app", 0, b"").next_position == 0
