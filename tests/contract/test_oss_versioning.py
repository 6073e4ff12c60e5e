"""Bucket versioning through oss2 and alibabacloud-oss-v2: version ids on every write, delete
markers, reads/copies/ACL/restore by version, ListObjectVersions paging, versioned batch delete."""

from __future__ import annotations

import alibabacloud_oss_v2 as ossv2
import oss2
import pytest
from oss2.models import (
    BatchDeleteObjectVersion,
    BatchDeleteObjectVersionList,
    BucketVersioningConfig,
)


def _versioned(bucket: oss2.Bucket, status: str = "Enabled") -> oss2.Bucket:
    config = BucketVersioningConfig()
    config.status = status
    bucket.put_bucket_versioning(config)
    return bucket


def test_versioning_status_is_reported_by_get_bucket_versioning_and_info(bucket):
    assert bucket.get_bucket_versioning().status is None
    _versioned(bucket)
    assert bucket.get_bucket_versioning().status == "Enabled"
    assert bucket.get_bucket_info().versioning_status == "Enabled"
    _versioned(bucket, "Suspended")
    assert bucket.get_bucket_versioning().status == "Suspended"
    with pytest.raises(oss2.exceptions.MalformedXml):
        _versioned(bucket, "Off")


def test_every_write_on_an_enabled_bucket_keeps_a_version(bucket):
    _versioned(bucket)
    v1 = bucket.put_object("k", b"one").versionid
    v2 = bucket.put_object("k", b"two").versionid
    assert v1 and v2 and v1 != v2
    assert bucket.get_object("k").read() == b"two"
    assert bucket.get_object("k", params={"versionId": v1}).read() == b"one"
    head = bucket.head_object("k", params={"versionId": v1})
    assert head.versionid == v1 and head.content_length == 3
    assert bucket.get_object_meta("k", params={"versionId": v2}).versionid == v2
    copied = bucket.copy_object(bucket.bucket_name, "k", "c", params={"versionId": v1})
    assert copied.versionid and bucket.get_object("c").read() == b"one"
    assert copied.resp.headers["x-oss-copy-source-version-id"] == v1


def test_a_delete_adds_a_marker_and_deleting_the_marker_brings_the_object_back(bucket):
    _versioned(bucket)
    v1 = bucket.put_object("k", b"one").versionid
    gone = bucket.delete_object("k")
    assert gone.delete_marker and gone.versionid and gone.versionid != v1
    with pytest.raises(oss2.exceptions.NoSuchKey) as exc:
        bucket.get_object("k")
    assert exc.value.headers.get("x-oss-delete-marker") == "true"
    assert not bucket.object_exists("k")
    assert [o.key for o in bucket.list_objects().object_list] == []  # markers hide the key
    bucket.delete_object("k", params={"versionId": gone.versionid})
    assert bucket.get_object("k").read() == b"one"


def test_deleting_one_version_leaves_the_others_and_promotes_the_newest(bucket):
    _versioned(bucket)
    v1 = bucket.put_object("k", b"one").versionid
    v2 = bucket.put_object("k", b"two").versionid
    result = bucket.delete_object("k", params={"versionId": v2})
    assert result.versionid == v2 and not result.delete_marker
    assert bucket.get_object("k").read() == b"one"
    with pytest.raises(oss2.exceptions.ServerError) as exc:
        bucket.get_object("k", params={"versionId": v2})
    assert (exc.value.status, exc.value.code) == (404, "NoSuchVersion")
    bucket.delete_object("k", params={"versionId": v1})
    assert not bucket.object_exists("k")
    bucket.delete_bucket()  # no version left: the bucket is empty


def test_a_bucket_with_noncurrent_versions_is_not_empty(bucket):
    _versioned(bucket)
    bucket.put_object("k", b"one")
    bucket.delete_object("k")
    with pytest.raises(oss2.exceptions.BucketNotEmpty):
        bucket.delete_bucket()


def test_invalid_or_empty_version_ids_are_refused(bucket):
    _versioned(bucket)
    bucket.put_object("k", b"one")
    for bad in ("", "IllegalVersion"):
        with pytest.raises(oss2.exceptions.ServerError) as exc:
            bucket.get_object("k", params={"versionId": bad})
        assert exc.value.status == 400
        with pytest.raises(oss2.exceptions.ServerError):
            bucket.get_object_acl("k", params={"versionId": bad})


def test_suspended_writes_replace_the_null_version_and_keep_older_ones(bucket):
    _versioned(bucket)
    v1 = bucket.put_object("k", b"one").versionid
    _versioned(bucket, "Suspended")
    assert bucket.put_object("k", b"two").versionid == "null"
    assert bucket.put_object("k", b"three").versionid == "null"
    versions = bucket.list_object_versions().versions
    assert [(v.versionid, v.is_latest) for v in versions] == [("null", True), (v1, False)]
    assert bucket.get_object("k", params={"versionId": "null"}).read() == b"three"


def test_list_object_versions_pages_with_markers_and_rolls_up_prefixes(bucket):
    _versioned(bucket)
    written = []
    for key in ("a", "b", "b", "d/x", "d/y", "e"):
        written.append((key, bucket.put_object(key, key.encode()).versionid))
    marker = bucket.delete_object("e").versionid
    seen, key_marker, vid_marker = [], "", ""
    while True:
        page = bucket.list_object_versions(
            delimiter="/", key_marker=key_marker, versionid_marker=vid_marker, max_keys=2
        )
        seen += [(v.key, v.versionid) for v in page.versions]
        seen += [(m.key, m.versionid) for m in page.delete_marker]
        seen += [(p, None) for p in page.common_prefix]
        if not page.is_truncated:
            break
        key_marker, vid_marker = page.next_key_marker, page.next_versionid_marker
    b_versions = [v for k, v in written if k == "b"]
    expected = {("a", written[0][1]), ("b", b_versions[1]), ("b", b_versions[0]), ("d/", None)}
    expected |= {("e", written[-1][1]), ("e", marker)}
    assert sorted(seen, key=str) == sorted(expected, key=str) and len(seen) == len(expected)


def test_batch_delete_with_and_without_version_ids(bucket):
    _versioned(bucket)
    v1 = bucket.put_object("k", b"one").versionid
    v2 = bucket.put_object("k", b"two").versionid
    bucket.put_object("other", b"x")
    plain = bucket.batch_delete_objects(["other"])
    assert (
        plain.delete_versions[0].delete_marker and plain.delete_versions[0].delete_marker_versionid
    )
    versions = BatchDeleteObjectVersionList(
        [BatchDeleteObjectVersion("k", v1), BatchDeleteObjectVersion("k", v2)]
    )
    result = bucket.delete_object_versions(versions)
    assert sorted(d.versionid for d in result.delete_versions) == sorted([v1, v2])
    assert [v.key for v in bucket.list_object_versions().versions] == ["other"]


def test_acl_tagging_and_restore_address_one_version(bucket):
    from oss2.models import RestoreConfiguration, Tagging, TaggingRule

    _versioned(bucket)
    v1 = bucket.put_object("k", b"one", headers={"x-oss-storage-class": "Archive"}).versionid
    v2 = bucket.put_object("k", b"two").versionid
    bucket.put_object_acl("k", oss2.OBJECT_ACL_PUBLIC_READ, params={"versionId": v1})
    assert bucket.get_object_acl("k", params={"versionId": v1}).acl == "public-read"
    assert bucket.get_object_acl("k").acl == "default"
    rule = TaggingRule()
    rule.add("stage", "old")
    bucket.put_object_tagging("k", Tagging(rule), params={"versionId": v1})
    assert bucket.get_object_tagging("k", params={"versionId": v1}).tag_set.tagging_rule == {
        "stage": "old"
    }
    assert bucket.get_object_tagging("k").tag_set.tagging_rule == {}
    assert (
        bucket.restore_object("k", params={"versionId": v1}, input=RestoreConfiguration(1)).status
        == 202
    )
    assert "x-oss-restore" in bucket.head_object("k", params={"versionId": v1}).headers
    assert "x-oss-restore" not in bucket.head_object("k", params={"versionId": v2}).headers


def test_multipart_complete_and_append_answer_version_ids(bucket):
    _versioned(bucket)
    upload = bucket.init_multipart_upload("mp").upload_id
    part = bucket.upload_part("mp", upload, 1, b"p" * 10)
    done = bucket.complete_multipart_upload("mp", upload, [oss2.models.PartInfo(1, part.etag)])
    assert done.versionid
    assert bucket.head_object("mp").versionid == done.versionid


def test_the_v2_sdk_writes_reads_lists_and_deletes_versions(v2client, v2bucket):
    v2client.put_bucket_versioning(
        ossv2.PutBucketVersioningRequest(
            bucket=v2bucket,
            versioning_configuration=ossv2.VersioningConfiguration(status="Enabled"),
        )
    )
    status = v2client.get_bucket_versioning(ossv2.GetBucketVersioningRequest(bucket=v2bucket))
    assert status.version_status == "Enabled"
    v1 = v2client.put_object(
        ossv2.PutObjectRequest(bucket=v2bucket, key="k", body=b"one")
    ).version_id
    v2 = v2client.put_object(
        ossv2.PutObjectRequest(bucket=v2bucket, key="k", body=b"two")
    ).version_id
    old = v2client.get_object(ossv2.GetObjectRequest(bucket=v2bucket, key="k", version_id=v1))
    assert old.body.read() == b"one" and old.version_id == v1
    head = v2client.head_object(ossv2.HeadObjectRequest(bucket=v2bucket, key="k", version_id=v2))
    assert head.version_id == v2
    copy = v2client.copy_object(
        ossv2.CopyObjectRequest(bucket=v2bucket, key="c", source_key="k", source_version_id=v1)
    )
    assert copy.version_id
    marker = v2client.delete_object(ossv2.DeleteObjectRequest(bucket=v2bucket, key="k"))
    assert marker.delete_marker and marker.version_id
    listing = v2client.list_object_versions(ossv2.ListObjectVersionsRequest(bucket=v2bucket))
    assert {(v.key, v.version_id) for v in listing.version} == {
        ("k", v1),
        ("k", v2),
        ("c", copy.version_id),
    }
    assert [(m.key, m.is_latest) for m in listing.delete_marker] == [("k", True)]
    result = v2client.delete_multiple_objects(
        ossv2.DeleteMultipleObjectsRequest(
            bucket=v2bucket,
            objects=[
                ossv2.DeleteObject(key="k", version_id=v) for v in (v1, v2, marker.version_id)
            ],
        )
    )
    assert len(result.deleted_objects) == 3
    with pytest.raises(ossv2.exceptions.OperationError):
        v2client.get_object(ossv2.GetObjectRequest(bucket=v2bucket, key="k"))
