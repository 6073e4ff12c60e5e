"""Object tagging through oss2 and alibabacloud-oss-v2: Put/Get/DeleteObjectTagging, x-oss-tagging
on put, append, multipart initiate and symlink, the copy tagging directive, OSS's limits."""

from __future__ import annotations

import alibabacloud_oss_v2 as ossv2
import oss2
import pytest
from oss2.headers import OSS_OBJECT_TAGGING, OSS_OBJECT_TAGGING_COPY_DIRECTIVE
from oss2.models import Tagging, TaggingRule


def _tags(bucket, key, **params) -> dict:
    return bucket.get_object_tagging(key, params=params or None).tag_set.tagging_rule


def _tagging(pairs: dict) -> Tagging:
    rule = TaggingRule()
    rule.tagging_rule.update(pairs)  # not rule.add(): oss2 checks some limits client-side
    return Tagging(rule)


def test_put_get_delete_object_tagging_and_the_tag_count_header(bucket):
    bucket.put_object("k", b"x")
    assert _tags(bucket, "k") == {}
    last_modified = bucket.head_object("k").last_modified
    bucket.put_object_tagging("k", _tagging({"a" * 128: "b" * 256, "+-.:": "_/", "中文": ""}))
    assert _tags(bucket, "k") == {"a" * 128: "b" * 256, "+-.:": "_/", "中文": ""}
    head = bucket.head_object("k")
    assert head.headers["x-oss-tagging-count"] == "3"
    assert head.last_modified == last_modified  # tags do not touch Last-Modified
    assert bucket.delete_object_tagging("k").status == 204
    assert _tags(bucket, "k") == {}


@pytest.mark.parametrize(
    "pairs",
    [
        {"a" * 129: "v"},
        {"": "v"},
        {"%@abc": "v"},
        {"k": "b" * 257},
        {"k": "%abc"},
        {f"k{i}": "v" for i in range(11)},
    ],
    ids=[
        "key-too-long",
        "empty-key",
        "bad-key-char",
        "value-too-long",
        "bad-value-char",
        "11-tags",
    ],
)
def test_tags_outside_oss_limits_are_invalid_tag(bucket, pairs):
    bucket.put_object("k", b"x")
    with pytest.raises(oss2.exceptions.ServerError) as exc:
        bucket.put_object_tagging("k", _tagging(pairs))
    assert (exc.value.status, exc.value.code) == (400, "InvalidTag")


def test_x_oss_tagging_on_put_multipart_append_and_symlink(bucket):
    bucket.put_object("p", b"x", headers={OSS_OBJECT_TAGGING: "k1=v1&k2=v2"})
    assert _tags(bucket, "p") == {"k1": "v1", "k2": "v2"}
    upload = bucket.init_multipart_upload("mp", headers={OSS_OBJECT_TAGGING: "m=1"}).upload_id
    part = bucket.upload_part("mp", upload, 1, b"x")
    bucket.complete_multipart_upload("mp", upload, [oss2.models.PartInfo(1, part.etag)])
    assert _tags(bucket, "mp") == {"m": "1"}
    first = bucket.append_object("ap", 0, b"ab", headers={OSS_OBJECT_TAGGING: "a=1"})
    # tags given on a later append are ignored: only the creating append sets them
    bucket.append_object("ap", first.next_position, b"cd", headers={OSS_OBJECT_TAGGING: "b=2"})
    assert _tags(bucket, "ap") == {"a": "1"}
    bucket.put_symlink("p", "link", headers={OSS_OBJECT_TAGGING: "s=1"})
    assert _tags(bucket, "link") == {"s": "1"}
    with pytest.raises(oss2.exceptions.ServerError):
        bucket.put_object("bad", b"x", headers={OSS_OBJECT_TAGGING: "aa=bb=cc"})
    many = "&".join(f"k{i}=v" for i in range(11))
    with pytest.raises(oss2.exceptions.ServerError):
        bucket.init_multipart_upload("mp2", headers={OSS_OBJECT_TAGGING: many})


def test_copy_keeps_tags_by_default_and_replaces_them_when_asked(bucket):
    bucket.put_object("src", b"x", headers={OSS_OBJECT_TAGGING: "k1=v1&k2=v2"})
    bucket.copy_object(bucket.bucket_name, "src", "default")
    assert _tags(bucket, "default") == {"k1": "v1", "k2": "v2"}
    bucket.copy_object(
        bucket.bucket_name, "src", "replaced",
        headers={OSS_OBJECT_TAGGING_COPY_DIRECTIVE: "Replace", OSS_OBJECT_TAGGING: "%20%2B%2F%20=%E4%B8%AD"},
    )  # fmt: skip
    assert _tags(bucket, "replaced") == {" +/ ": "中"}
    bucket.copy_object(
        bucket.bucket_name, "src", "cleared", headers={OSS_OBJECT_TAGGING_COPY_DIRECTIVE: "REPLACE"}
    )
    assert _tags(bucket, "cleared") == {}
    with pytest.raises(oss2.exceptions.ServerError):
        bucket.copy_object(
            bucket.bucket_name, "src", "x", headers={OSS_OBJECT_TAGGING_COPY_DIRECTIVE: "Merge"}
        )


def test_the_v2_sdk_tags_objects_and_copies_with_a_directive(v2client, v2bucket):
    v2client.put_object(ossv2.PutObjectRequest(bucket=v2bucket, key="k", body=b"x", tagging="a=1"))
    v2client.put_object_tagging(
        ossv2.PutObjectTaggingRequest(
            bucket=v2bucket,
            key="k",
            tagging=ossv2.Tagging(tag_set=ossv2.TagSet(tags=[ossv2.Tag(key="t", value="v")])),
        )
    )
    got = v2client.get_object_tagging(ossv2.GetObjectTaggingRequest(bucket=v2bucket, key="k"))
    assert [(t.key, t.value) for t in got.tag_set.tags] == [("t", "v")]
    assert (
        v2client.head_object(ossv2.HeadObjectRequest(bucket=v2bucket, key="k")).tagging_count == 1
    )
    v2client.copy_object(
        ossv2.CopyObjectRequest(
            bucket=v2bucket, key="c", source_key="k", tagging="n=2", tagging_directive="Replace"
        )
    )
    copied = v2client.get_object_tagging(ossv2.GetObjectTaggingRequest(bucket=v2bucket, key="c"))
    assert [(t.key, t.value) for t in copied.tag_set.tags] == [("n", "2")]
    v2client.delete_object_tagging(ossv2.DeleteObjectTaggingRequest(bucket=v2bucket, key="k"))
    empty = v2client.get_object_tagging(ossv2.GetObjectTaggingRequest(bucket=v2bucket, key="k"))
    assert not (empty.tag_set.tags or [])
