"""unzip on a versioned packages bucket and on symlinked packages: the pinned upload is read and
deleted by its versionId (a newer upload survives, no delete marker), a PutSymlink .zip
extracts its target's bytes under the link's name."""

from __future__ import annotations

import io
import zipfile

import oss2
import pytest

from handlers import unzip as unzip_handler
from handlers.errors import PackageRejected
from handlers.events import UnzipEvent, parse_event
from tests.handlerkit import fc_context


@pytest.fixture
def env(unzip_env):
    return unzip_env


def run(event: dict, cloud):
    return unzip_handler.run(parse_event(UnzipEvent, event), fc_context(cloud))


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _versioned(bucket):
    config = oss2.models.BucketVersioningConfig()
    config.status = "Enabled"
    bucket.put_bucket_versioning(config)


def _event(bucket, key, etag):
    return {"job_id": "uv", "package": {"bucket": bucket.bucket_name, "key": key, "etag": etag}}


def test_a_newer_upload_neither_changes_the_extraction_nor_is_deleted(env, localcloud, bucket):
    _versioned(bucket)
    first = bucket.put_object("in/pkg.zip", _zip({"a.txt": b"first"}))
    bucket.put_object("in/pkg.zip", _zip({"a.txt": b"second", "b.txt": b"new"}))  # newer upload
    result = run(_event(bucket, "in/pkg.zip", first.etag), localcloud)
    assert result["all_succeeded"]
    assert result["package"]["version_id"] == first.versionid
    assert bucket.get_object("out/pkg/a.txt").read() == b"first"
    assert not bucket.object_exists("out/pkg/b.txt")

    deleted = run(
        {**_event(bucket, "in/pkg.zip", first.etag), "action": "delete_package"}, localcloud
    )
    assert deleted["deleted"] and deleted["package"]["version_id"] == first.versionid
    versions = bucket.list_object_versions(prefix="in/pkg.zip")
    assert [v.versionid for v in versions.versions] != [] and versions.delete_marker == []
    assert all(v.versionid != first.versionid for v in versions.versions)
    names = zipfile.ZipFile(io.BytesIO(bucket.get_object("in/pkg.zip").read())).namelist()
    assert names == ["a.txt", "b.txt"]  # the newer upload is still the current version


def test_delete_without_a_newer_upload_leaves_no_delete_marker(env, localcloud, bucket):
    _versioned(bucket)
    put = bucket.put_object("in/solo.zip", _zip({"x": b"1"}))
    assert run(_event(bucket, "in/solo.zip", put.etag), localcloud)["all_succeeded"]
    run({**_event(bucket, "in/solo.zip", put.etag), "action": "delete_package"}, localcloud)
    versions = bucket.list_object_versions(prefix="in/solo.zip")
    assert versions.versions == [] and versions.delete_marker == []


def test_a_pinned_version_that_is_gone_is_package_changed(env, localcloud, bucket):
    _versioned(bucket)
    first = bucket.put_object("in/p.zip", _zip({"x": b"1"}))
    bucket.put_object("in/p.zip", _zip({"x": b"2"}))
    bucket.delete_object("in/p.zip", params={"versionId": first.versionid})
    with pytest.raises(PackageRejected, match="PackageChanged"):
        run(_event(bucket, "in/p.zip", first.etag), localcloud)


def test_a_symlinked_package_extracts_the_targets_bytes_under_the_links_name(
    env, localcloud, bucket
):
    data = _zip({"doc/readme.txt": b"hello", "img.bin": b"\x00\x01"})
    target = bucket.put_object("store/real-1.zip", data)
    link_etag = bucket.put_symlink("store/real-1.zip", "in/linked.zip").headers["etag"]
    # the PutSymlink event pins the link's own ETag; If-Match uses the target's
    result = run(_event(bucket, "in/linked.zip", link_etag), localcloud)
    assert result["all_succeeded"]
    assert result["package"]["etag"] == target.etag.strip('"').upper()
    assert result["package"]["target_key"] == "store/real-1.zip"
    assert bucket.get_object("out/linked/doc/readme.txt").read() == b"hello"
    run({**_event(bucket, "in/linked.zip", link_etag), "action": "delete_package"}, localcloud)
    assert not bucket.object_exists("in/linked.zip")
    assert bucket.get_object("store/real-1.zip").read() == data  # the target is never deleted
