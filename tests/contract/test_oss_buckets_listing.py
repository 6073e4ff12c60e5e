"""Buckets and listing through oss2: create with class, info/location, delete rules, v1/v2 paging."""

from __future__ import annotations

import uuid

import oss2
import pytest

from tests.contract.oss_raw import error_code, signed_request


def _name() -> str:
    return f"b-{uuid.uuid4().hex[:16]}"


def test_bucket_created_with_storage_class_reports_it(localcloud, oss_auth):
    b = oss2.Bucket(oss_auth, localcloud.oss_endpoint, _name())
    b.create_bucket(
        oss2.BUCKET_ACL_PRIVATE, oss2.models.BucketCreateConfig(oss2.BUCKET_STORAGE_CLASS_IA)
    )
    info = b.get_bucket_info()
    assert info.storage_class == "IA"
    assert info.name == b.bucket_name
    assert b.get_bucket_location().location == f"oss-{localcloud.region}"
    b.put_object("k", b"x")
    assert b.head_object("k").headers["x-oss-storage-class"] == "IA"


def test_list_buckets_finds_created_bucket(localcloud, oss_auth):
    name = _name()
    oss2.Bucket(oss_auth, localcloud.oss_endpoint, name).create_bucket()
    service = oss2.Service(oss_auth, localcloud.oss_endpoint)
    assert name in [b.name for b in oss2.BucketIterator(service)]


def test_delete_non_empty_bucket_is_409_bucket_not_empty(localcloud, bucket):
    bucket.put_object("k", b"x")
    with pytest.raises(oss2.exceptions.BucketNotEmpty):
        bucket.delete_bucket()
    bucket.delete_object("k")
    bucket.delete_bucket()
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        bucket.get_bucket_info()


@pytest.mark.parametrize("name", ["Bad_Name", "ab", "-starts-with-dash", "x" * 64])
def test_invalid_bucket_name_is_rejected(localcloud, name):
    resp = signed_request(localcloud, "PUT", name)
    assert (resp.status_code, error_code(resp)) == (400, "InvalidBucketName")


def test_object_in_missing_bucket_is_no_such_bucket(localcloud, oss_auth):
    b = oss2.Bucket(oss_auth, localcloud.oss_endpoint, _name())
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        b.put_object("k", b"x")


@pytest.fixture(scope="module")
def big_bucket(localcloud):
    """2,500 keys under three prefixes, keys with spaces/+/%/unicode."""
    auth = oss2.Auth(localcloud.access_key_id, localcloud.access_key_secret)
    b = oss2.Bucket(auth, localcloud.oss_endpoint, _name())
    b.create_bucket()
    keys = [f"p{i % 3}/{'中' if i % 7 == 0 else 'k'} {i:05d}+%" for i in range(2500)]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: b.put_object(k, b"."), keys))
    return b, sorted(keys, key=lambda k: k.encode())


def test_listing_2500_keys_pages_v1_v2_rolls_up_and_honours_markers(big_bucket):
    """One test over the shared 2,500-key bucket (built once, even when tests run in parallel)."""
    b, keys = big_bucket
    # ObjectIterator (v1, marker/NextMarker) and ObjectIteratorV2 (continuation tokens): every key,
    # in UTF-8 byte order
    assert [o.key for o in oss2.ObjectIterator(b, max_keys=100)] == keys
    assert [o.key for o in oss2.ObjectIteratorV2(b, max_keys=333, fetch_owner=True)] == keys

    # delimiter rolls keys up into common prefixes, paged like keys
    result = b.list_objects(delimiter="/")
    assert result.prefix_list == ["p0/", "p1/", "p2/"]
    assert result.object_list == []
    v2 = b.list_objects_v2(delimiter="/", max_keys=2)
    assert v2.prefix_list == ["p0/", "p1/"] and v2.is_truncated
    rest = b.list_objects_v2(delimiter="/", continuation_token=v2.next_continuation_token)
    assert rest.prefix_list == ["p2/"] and not rest.is_truncated

    # prefix + marker (v1) and prefix + start-after (v2)
    p1 = [k for k in keys if k.startswith("p1/")]
    r = b.list_objects(prefix="p1/", marker=p1[9], max_keys=5)
    assert [o.key for o in r.object_list] == p1[10:15]
    assert r.next_marker == p1[14]
    r2 = b.list_objects_v2(prefix="p1/", start_after=p1[9], max_keys=5)
    assert [o.key for o in r2.object_list] == p1[10:15]
