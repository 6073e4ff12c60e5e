"""Concurrent clients: overwrites, reads, copies and deletes of the same keys stay consistent."""

from __future__ import annotations

import hashlib
import random
import threading

import oss2


def test_concurrent_overwrites_and_reads_always_see_one_whole_version(localcloud, bucket):
    versions = {
        i: bytes([65 + i]) * (1000 + i * 40_000) for i in range(4)
    }  # inline and file-backed
    bucket.put_object("hot", versions[0])
    problems: list[str] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        b = oss2.Bucket(bucket.auth, bucket.endpoint, bucket.bucket_name)
        for _ in range(25):
            b.put_object("hot", versions[rng.randrange(4)])
            b.copy_object(bucket.bucket_name, "hot", f"copy-{seed}")

    def reader() -> None:
        b = oss2.Bucket(bucket.auth, bucket.endpoint, bucket.bucket_name)
        for _ in range(40):
            got = b.get_object("hot")
            body = got.read()  # oss2 also checks the CRC against the header
            if body not in versions.values():
                problems.append(f"torn read of {len(body)} bytes")
            elif got.etag != hashlib.md5(body).hexdigest().upper():
                problems.append("etag of another version")

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert problems == []
    for i in range(4):
        assert bucket.get_object(f"copy-{i}").read() in versions.values()


def test_concurrent_multipart_uploads_of_one_key(localcloud, bucket):
    def upload(seed: int) -> None:
        b = oss2.Bucket(bucket.auth, bucket.endpoint, bucket.bucket_name)
        data = bytes([seed]) * (300 * 1024)
        uid = b.init_multipart_upload("mp").upload_id
        p1 = b.upload_part("mp", uid, 1, data[: 200 * 1024])
        p2 = b.upload_part("mp", uid, 2, data[200 * 1024 :])
        b.complete_multipart_upload(
            "mp", uid, [oss2.models.PartInfo(1, p1.etag), oss2.models.PartInfo(2, p2.etag)]
        )

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    body = bucket.get_object("mp").read()
    assert len(body) == 300 * 1024 and len(set(body)) == 1
    assert list(oss2.MultipartUploadIterator(bucket)) == []
