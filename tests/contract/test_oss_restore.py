"""Storage classes and the RestoreObject lifecycle through oss2 (fast restore clock)."""

from __future__ import annotations

import re
import time
import uuid

import oss2
import pytest
import requests

from localcloud import launcher
from tests.contract.oss_raw import error_code, signed_request

DONE = re.compile(
    r'^ongoing-request="false", expiry-date="\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT"$'
)


DURATIONS = {"Archive": 3600, "ColdArchive": 7200, "DeepColdArchive": 10800}


@pytest.fixture(scope="module")
def slow_restores(tmp_path_factory):
    """A localcloud whose restores take hours, driven by the admin clock: no timing flakiness."""
    spec = ",".join(f"{cls}={sec}" for cls, sec in DURATIONS.items())
    cloud = launcher.start(tmp_path_factory.mktemp("restore"), "--restore-seconds", spec)
    yield cloud
    cloud.stop()


@pytest.fixture
def cold_bucket(slow_restores):
    b = oss2.Bucket(
        oss2.Auth(slow_restores.access_key_id, slow_restores.access_key_secret),
        slow_restores.oss_endpoint,
        f"r-{uuid.uuid4().hex[:16]}",
    )
    b.create_bucket()
    return b


def _advance(cloud, seconds: float) -> None:
    requests.post(cloud.admin_endpoint + "/clock", json={"advance_seconds": seconds}, timeout=5)


@pytest.mark.parametrize("storage_class", ["Archive", "ColdArchive", "DeepColdArchive"])
def test_restore_lifecycle_202_then_409_then_readable_then_200(
    slow_restores, cold_bucket, storage_class
):
    bucket = cold_bucket
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
    with pytest.raises(oss2.exceptions.OssError) as err:
        bucket.get_object("cold")
    assert err.value.code == "InvalidObjectState"

    _advance(slow_restores, DURATIONS[storage_class])
    assert DONE.match(bucket.head_object("cold").headers["x-oss-restore"])
    assert bucket.get_object("cold").read() == b"frozen"
    assert bucket.restore_object("cold").status == 200  # already restored: extends, not an error


def test_restore_finishes_on_the_real_clock_too(localcloud, bucket):
    # the session cloud restores Archive in 1 s (tests/conftest.py)
    bucket.put_object("a", b"x", headers={"x-oss-storage-class": "Archive"})
    assert bucket.restore_object("a").status == 202
    deadline = time.monotonic() + 15
    while 'ongoing-request="false"' not in bucket.head_object("a").headers.get("x-oss-restore", ""):
        assert time.monotonic() < deadline, "Archive restore of 1 s did not finish in 15 s"
        time.sleep(0.1)
    assert bucket.get_object("a").read() == b"x"


def test_restore_request_with_days_and_tier(cold_bucket):
    bucket = cold_bucket
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


def test_list_shows_storage_class_and_restore_info(cold_bucket):
    bucket = cold_bucket
    bucket.put_object("a", b"x", headers={"x-oss-storage-class": "Archive"})
    bucket.restore_object("a")
    [obj] = bucket.list_objects().object_list
    assert obj.storage_class == "Archive"
    assert obj.restore_info == 'ongoing-request="true"'


def test_restored_copy_expires_after_days_on_the_scaled_clock(localcloud_factory):
    cloud = localcloud_factory("--restore-seconds", "Archive=0", "--day-seconds", "3")
    b = oss2.Bucket(
        oss2.Auth(cloud.access_key_id, cloud.access_key_secret), cloud.oss_endpoint, "expiry"
    )
    b.create_bucket()
    b.put_object("k", b"x", headers={"x-oss-storage-class": "Archive"})
    b.restore_object("k", input=oss2.models.RestoreConfiguration(days=1))
    assert b.get_object("k").read() == b"x"
    time.sleep(3.2)
    assert "x-oss-restore" not in b.head_object("k").headers
    with pytest.raises(oss2.exceptions.OssError) as err:
        b.get_object("k")
    assert err.value.code == "InvalidObjectState"
