"""Storage classes and the RestoreObject lifecycle through oss2 (fast restore clock)."""

from __future__ import annotations

import re
import time

import oss2
import pytest

from tests.contract.oss_raw import error_code, signed_request

DONE = re.compile(
    r'^ongoing-request="false", expiry-date="\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT"$'
)


def _wait_restored(bucket, key, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        header = bucket.head_object(key).headers.get("x-oss-restore", "")
        if 'ongoing-request="false"' in header:
            return header
        time.sleep(0.1)
    raise AssertionError(f"{key} not restored in {timeout}s")


@pytest.mark.parametrize("storage_class", ["Archive", "ColdArchive", "DeepColdArchive"])
def test_restore_lifecycle_202_then_409_then_readable_then_200(bucket, storage_class):
    bucket.put_object("cold", b"frozen", headers={"x-oss-storage-class": storage_class})
    assert "x-oss-restore" not in bucket.head_object("cold").headers  # never requested
    with pytest.raises(oss2.exceptions.OssError) as err:
        bucket.get_object("cold")
    assert (err.value.status, err.value.code) == (403, "InvalidObjectState")

    assert bucket.restore_object("cold").status == 202
    assert bucket.head_object("cold").headers["x-oss-restore"] == 'ongoing-request="true"'
    with pytest.raises(oss2.exceptions.OssError) as err:
        bucket.restore_object("cold")
    assert (err.value.status, err.value.code) == (409, "RestoreAlreadyInProgress")

    assert DONE.match(_wait_restored(bucket, "cold"))
    assert bucket.get_object("cold").read() == b"frozen"
    assert bucket.restore_object("cold").status == 200  # already restored: extends, not an error


def test_restore_request_with_days_and_tier(bucket):
    bucket.put_object("c", b"x", headers={"x-oss-storage-class": "ColdArchive"})
    config = oss2.models.RestoreConfiguration(
        days=3, job_parameters=oss2.models.RestoreJobParameters(oss2.models.RESTORE_TIER_EXPEDITED)
    )
    assert bucket.restore_object("c", input=config).status == 202


def test_restore_tier_not_valid_for_class_is_invalid_argument(localcloud, bucket):
    bucket.put_object("c", b"x", headers={"x-oss-storage-class": "ColdArchive"})
    body = b"<RestoreRequest><Days>1</Days><JobParameters><Tier>Warp</Tier></JobParameters></RestoreRequest>"
    resp = signed_request(
        localcloud, "POST", bucket.bucket_name, "c", params={"restore": ""}, data=body
    )
    assert (resp.status_code, error_code(resp)) == (400, "InvalidArgument")


def test_restore_of_standard_object_is_refused(bucket):
    bucket.put_object("hot", b"x")
    with pytest.raises(oss2.exceptions.OssError) as err:
        bucket.restore_object("hot")
    assert err.value.status == 400


def test_list_shows_storage_class_and_restore_info(bucket):
    bucket.put_object("a", b"x", headers={"x-oss-storage-class": "Archive"})
    bucket.restore_object("a")
    [obj] = bucket.list_objects().object_list
    assert obj.storage_class == "Archive"
    assert obj.restore_info == 'ongoing-request="true"'


def test_restored_copy_expires_after_days_on_the_scaled_clock(localcloud_factory):
    cloud = localcloud_factory("--restore-seconds", "Archive=0", "--day-seconds", "1")
    b = oss2.Bucket(
        oss2.Auth(cloud.access_key_id, cloud.access_key_secret), cloud.oss_endpoint, "expiry"
    )
    b.create_bucket()
    b.put_object("k", b"x", headers={"x-oss-storage-class": "Archive"})
    b.restore_object("k", input=oss2.models.RestoreConfiguration(days=1))
    assert b.get_object("k").read() == b"x"
    time.sleep(1.2)
    assert "x-oss-restore" not in b.head_object("k").headers
    with pytest.raises(oss2.exceptions.OssError) as err:
        b.get_object("k")
    assert err.value.code == "InvalidObjectState"
