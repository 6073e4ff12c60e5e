"""Symlinks through oss2 and alibabacloud-oss-v2: PutSymlink/GetSymlink, GET and HEAD follow
the link, a missing target, a link to a link, versions, the ObjectCreated:PutSymlink event."""

from __future__ import annotations

import queue
from urllib.parse import unquote

import alibabacloud_oss_v2 as ossv2
import oss2
import pytest

from localcloud.oss.auth import Credentials
from localcloud.oss.service import OssConfig, OssService


def test_get_and_head_through_a_link_answer_the_target(bucket):
    bucket.put_object("dir/target.zip", b"hello", headers={"Content-Type": "application/zip"})
    bucket.put_symlink("dir/target.zip", "link.zip", headers={"x-oss-meta-who": "link"})
    assert bucket.get_symlink("link.zip").target_key == "dir/target.zip"
    got = bucket.get_object("link.zip")
    assert got.read() == b"hello"
    head = bucket.head_object("link.zip")
    assert head.etag == "5D41402ABC4B2A76B9719D911017C592"  # the target's ETag
    assert head.content_length == 5 and head.content_type == "application/zip"
    assert head.headers["x-oss-object-type"] == "Symlink"
    assert head.headers["x-oss-meta-who"] == "link"  # the link's own metadata
    assert bucket.get_object("link.zip", byte_range=(1, 3)).read() == b"ell"
    # the link follows the target's current bytes
    bucket.put_object("dir/target.zip", b"world")
    assert bucket.get_object("link.zip").read() == b"world"


def test_a_link_to_nothing_or_to_a_link_cannot_be_read(bucket):
    bucket.put_symlink("missing", "dangling")  # allowed: the target may come later
    with pytest.raises(oss2.exceptions.ServerError) as exc:
        bucket.get_object("dangling")
    assert (exc.value.status, exc.value.code) == (404, "SymlinkTargetNotExist")
    bucket.put_object("t", b"x")
    bucket.put_symlink("t", "l1")
    bucket.put_symlink("l1", "l2")
    with pytest.raises(oss2.exceptions.ServerError) as exc:
        bucket.get_object("l2")
    assert exc.value.code == "InvalidTargetType"
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_symlink("nothing")
    with pytest.raises(oss2.exceptions.ServerError):
        bucket.get_symlink("t")  # not a link


def test_put_symlink_honours_forbid_overwrite(bucket):
    bucket.put_object("t", b"x")
    bucket.put_object("taken", b"y")
    with pytest.raises(oss2.exceptions.ServerError) as exc:
        bucket.put_symlink("t", "taken", headers={"x-oss-forbid-overwrite": "true"})
    assert exc.value.code == "FileAlreadyExists"


def test_symlinks_are_versioned_like_objects(bucket):
    config = oss2.models.BucketVersioningConfig()
    config.status = "Enabled"
    bucket.put_bucket_versioning(config)
    bucket.put_object("a", b"A")
    bucket.put_object("b", b"B")
    first = bucket.put_symlink("a", "link").versionid
    bucket.put_symlink("b", "link")
    assert first and bucket.get_object("link").read() == b"B"
    assert bucket.get_symlink("link", params={"versionId": first}).target_key == "a"


def test_put_symlink_publishes_object_created_put_symlink(tmp_path):
    # the hub lives in the localcloud process: checked here through an in-process service
    svc = OssService(OssConfig(tmp_path, Credentials("id", "secret")))
    try:
        events: queue.Queue = queue.Queue()
        svc.buckets.create("b-events", None, None)
        svc.notifications.subscribe("b-events", callback=events.put)
        svc.symlinks.create(
            "b-events", "link.zip", {"x-oss-symlink-target": "pkg.zip"}, "Standard", "r1"
        )
        event = events.get(timeout=10)["events"][0]
        assert event["eventName"] == "ObjectCreated:PutSymlink"
        assert event["oss"]["object"]["key"] == "link.zip"
    finally:
        svc.close()


def test_the_v2_sdk_puts_and_reads_symlinks(v2client, v2bucket):
    v2client.put_object(ossv2.PutObjectRequest(bucket=v2bucket, key="t/a x", body=b"data"))
    v2client.put_symlink(ossv2.PutSymlinkRequest(bucket=v2bucket, key="l", target="t/a x"))
    link = v2client.get_symlink(ossv2.GetSymlinkRequest(bucket=v2bucket, key="l"))
    assert unquote(link.target) == "t/a x"  # the SDK hands back the URL-encoded header as is
    got = v2client.get_object(ossv2.GetObjectRequest(bucket=v2bucket, key="l"))
    assert got.body.read() == b"data"
