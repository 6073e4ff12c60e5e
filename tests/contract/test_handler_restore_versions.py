"""restore handler on a versioned bucket: the version an index line names is restored and
polled, never the current one; without a version the current one is."""

from __future__ import annotations

import oss2

from handlers import restore as restore_handler
from handlers.events import RestoreEvent, parse_event
from tests.handlerkit import fc_context


def _run(event: dict, cloud):
    return restore_handler.run(parse_event(RestoreEvent, event), fc_context(cloud))


def _event(bucket, mode, index_key="i.csv", **extra):
    return {
        "job_id": "rv",
        "mode": mode,
        "index": {"bucket": bucket.bucket_name, "key": index_key},
        **extra,
    }


def test_a_named_version_is_restored_and_polled_not_the_current_one(
    monkeypatch, localcloud_factory
):
    cloud = localcloud_factory()
    monkeypatch.setenv("OSSBATCH_OSS_ENDPOINT", cloud.oss_endpoint)
    auth = oss2.Auth(cloud.access_key_id, cloud.access_key_secret)
    bucket = oss2.Bucket(auth, cloud.oss_endpoint, "restore-versions")
    bucket.create_bucket()
    config = oss2.models.BucketVersioningConfig()
    config.status = "Enabled"
    bucket.put_bucket_versioning(config)
    cold = bucket.put_object("k", b"old", headers={"x-oss-storage-class": "ColdArchive"}).versionid
    current = bucket.put_object("k", b"new", headers={"x-oss-storage-class": "Archive"}).versionid
    bucket.put_object("i.csv", f"restore-versions,k,{cold}\n".encode())

    submitted = _run(_event(bucket, "submit", tier="Bulk"), cloud)
    assert submitted["counters"]["submitted"] == 1
    head_old = bucket.head_object("k", params={"versionId": cold})
    assert head_old.headers["x-oss-restore"] == 'ongoing-request="true"'
    assert "x-oss-restore" not in bucket.head_object("k", params={"versionId": current}).headers
    pending = _run(_event(bucket, "poll"), cloud)
    assert pending["counters"]["pending"] == 1 and not pending["all_restored"]

    cloud.admin("POST", "/clock", {"advance_seconds": 3600})
    done = _run(_event(bucket, "poll"), cloud)
    assert done["counters"]["restored"] == 1 and done["all_restored"]
    assert bucket.get_object("k", params={"versionId": cold}).read() == b"old"


def test_pending_keys_carry_their_versions_to_the_next_poll(monkeypatch, localcloud_factory):
    cloud = localcloud_factory()
    monkeypatch.setenv("OSSBATCH_OSS_ENDPOINT", cloud.oss_endpoint)
    auth = oss2.Auth(cloud.access_key_id, cloud.access_key_secret)
    bucket = oss2.Bucket(auth, cloud.oss_endpoint, "restore-pending")
    bucket.create_bucket()
    config = oss2.models.BucketVersioningConfig()
    config.status = "Enabled"
    bucket.put_bucket_versioning(config)
    old = bucket.put_object("k", b"old", headers={"x-oss-storage-class": "Archive"}).versionid
    bucket.put_object("k", b"new")  # the current version is Standard: readable
    bucket.restore_object("k", params={"versionId": old})
    event = {
        "job_id": "rp",
        "mode": "poll",
        "pending": {"bucket": "restore-pending", "keys": ["k"], "version_ids": {"k": old}},
    }
    result = _run(event, cloud)
    assert result["counters"]["pending"] == 1  # the old version, not the readable current one
    assert result["pending"] == {
        "bucket": "restore-pending",
        "keys": ["k"],
        "version_ids": {"k": old},
    }
