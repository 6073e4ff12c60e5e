"""Handlers under injected OSS faults (503 SlowDown, 500, dropped connections) on a private localcloud."""

from __future__ import annotations

import json
import pickle

import oss2
import pytest

from handlers import copy as copy_handler
from handlers import unzip as unzip_handler
from handlers.clients import Credentials, OssClients, put_verified
from handlers.events import CopyEvent, UnzipEvent, parse_event
from handlers.integrity import UploadDamaged, UploadUnverified
from handlers.processes import portable
from handlers.retrying import RetryPolicy
from tests import zipcorpus
from tests.handlerkit import fc_context, read_report


@pytest.fixture
def faulty(localcloud_factory, monkeypatch):
    cloud = localcloud_factory()
    monkeypatch.setenv("OSSBATCH_OSS_ENDPOINT", cloud.oss_endpoint)
    monkeypatch.setenv("OSSBATCH_REPORT_PREFIX", "reports/")
    auth = oss2.Auth(cloud.access_key_id, cloud.access_key_secret)
    bucket = oss2.Bucket(auth, cloud.oss_endpoint, "faulty-bucket")
    bucket.create_bucket()
    return cloud, bucket


def test_copy_survives_throttling_5xx_and_resets(faulty):
    cloud, bucket = faulty
    keys = [f"src/{i:03d}" for i in range(30)]
    for k in keys:
        bucket.put_object(k, k.encode())
    bucket.put_object("index.jsonl", "".join(json.dumps({"key": k}) + "\n" for k in keys))
    cloud.set_faults(fault_rate=0.25, seed=3)
    event = {
        "job_id": "faults",
        "index": {"bucket": bucket.bucket_name, "key": "index.jsonl"},
        "dest": {"bucket": bucket.bucket_name, "prefix": "dst/"},
        "tuning": {"retry_attempts": 10},
    }
    result = copy_handler.run(parse_event(CopyEvent, event), fc_context(cloud))
    cloud.set_faults(fault_rate=0.0)
    assert result["counters"]["done"] == 30 and result["counters"]["failed"] == 0
    assert all(bucket.get_object(f"dst/{k}").read() == k.encode() for k in keys)


def test_exhausted_retries_are_item_failures_with_attempts(faulty):
    cloud, bucket = faulty
    for i in range(3):
        bucket.put_object(f"s/{i}", b"x")
    cloud.set_faults(fault_rate=1.0, kinds=["slowdown"], ops=["CopyObject"])
    event = {
        "job_id": "slow",
        "listing": {"bucket": bucket.bucket_name, "prefix": "s/"},
        "dest": {"bucket": bucket.bucket_name, "prefix": "d/"},
        "tuning": {"retry_attempts": 2},
    }
    result = copy_handler.run(parse_event(CopyEvent, event), fc_context(cloud))
    cloud.set_faults(fault_rate=0.0, ops=[])
    assert result["done"] and result["counters"]["failed"] == 3
    report = read_report(bucket, result["report_key"])
    assert {(r["code"], r["attempts"]) for r in report} == {("SlowDown", 2)}


def test_unzip_survives_faults_on_uploads_and_ranged_reads(faulty):
    cloud, bucket = faulty
    data = zipcorpus.build([(f"f{i:02d}.txt", b"%d" % i * 1000) for i in range(25)])
    bucket.put_object("in/p.zip", data)
    cloud.set_faults(fault_rate=0.2, kinds=["slowdown", "internal"], seed=5)
    event = {
        "job_id": "uf",
        "package": {"bucket": bucket.bucket_name, "key": "in/p.zip"},
        "output_prefix": "out/",
        "tuning": {"retry_attempts": 10},
    }
    result = unzip_handler.run(parse_event(UnzipEvent, event), fc_context(cloud))
    cloud.set_faults(fault_rate=0.0)
    assert result["all_succeeded"] and result["counters"]["extracted"] == 25
    assert bucket.get_object("out/in/p/f07.txt").read() == b"7" * 1000  # no watch prefix set


def _handler_bucket(cloud, bucket):
    """The bucket as handlers build it: no oss2 CRC check of its own beside ours."""
    creds = Credentials(cloud.access_key_id, cloud.access_key_secret)
    return OssClients(cloud.oss_endpoint, creds).bucket(bucket.bucket_name)


def _damage_event(bucket, attempts: int) -> dict:
    return {
        "job_id": "dmg",
        "package": {"bucket": bucket.bucket_name, "key": "in/d.zip"},
        "output_prefix": "out/",
        "tuning": {"retry_attempts": attempts},
        # big.bin goes up in three parts, the rest as single PUTs
        "small_entry_bytes": 100_000,
        "part_size": 102_400,
    }


def _damage_package(bucket) -> dict[str, bytes]:
    entries = {f"s{i:02d}.txt": b"%d" % i * 500 for i in range(12)}
    entries["big.bin"] = bytes(range(256)) * 1100  # 281,600 bytes
    bucket.put_object("in/d.zip", zipcorpus.build(list(entries.items())))
    return entries


def test_unzip_sends_damaged_uploads_again_until_oss_stored_them_intact(faulty):
    cloud, bucket = faulty
    entries = _damage_package(bucket)
    cloud.set_faults(fault_rate=0.4, kinds=["damage"], ops=["PutObject", "UploadPart"], seed=2)
    result = unzip_handler.run(
        parse_event(UnzipEvent, _damage_event(bucket, 10)), fc_context(cloud)
    )
    injected = cloud.admin("GET", "/faults")["oss"]["injected"]
    cloud.set_faults(fault_rate=0.0, ops=[])
    assert injected.get("damage", 0) >= 3  # the seed damages several uploads, parts among them
    assert result["all_succeeded"] and result["counters"]["extracted"] == len(entries)
    for name, data in entries.items():
        assert bucket.get_object(f"out/in/d/{name}").read() == data


def test_parts_damaged_every_time_fail_their_entry_and_are_never_completed(faulty):
    cloud, bucket = faulty
    entries = _damage_package(bucket)
    cloud.set_faults(fault_rate=1.0, kinds=["damage"], ops=["UploadPart"])
    result = unzip_handler.run(parse_event(UnzipEvent, _damage_event(bucket, 2)), fc_context(cloud))
    cloud.set_faults(fault_rate=0.0, ops=[])
    assert result["counters"]["failed"] == 1
    assert result["counters"]["extracted"] == len(entries) - 1
    [big] = [r for r in read_report(bucket, result["report_key"]) if r.get("code")]
    assert (big["name"], big["code"], big["attempts"]) == ("big.bin", "UploadDamaged", 2)
    assert "big.bin part 1" in big["message"]
    # never completed from damaged parts, and nothing is left pending
    assert not bucket.object_exists("out/in/d/big.bin")
    assert list(oss2.MultipartUploadIterator(bucket)) == []


def test_a_put_damaged_every_time_names_the_key_and_how_to_repair(faulty):
    cloud, bucket = faulty
    bucket = _handler_bucket(cloud, bucket)
    cloud.set_faults(fault_rate=1.0, kinds=["damage"], ops=["PutObject"])
    with pytest.raises(UploadDamaged) as err:
        put_verified(bucket, RetryPolicy(attempts=3, initial_seconds=0), "k/one", b"payload")
    injected = cloud.admin("GET", "/faults")["oss"]["injected"]
    cloud.set_faults(fault_rate=0.0, ops=[])
    assert injected == {"damage": 3} and err.value.attempts == 3
    assert str(err.value).startswith("k/one: OSS stored CRC-64 ")
    assert "re-run the job" in str(err.value)
    assert bucket.get_object("k/one").read() == b"qayload"  # what the message warns of


def test_an_exclusive_put_refuses_damage_so_nothing_damaged_is_stored(faulty):
    cloud, bucket = faulty
    bucket = _handler_bucket(cloud, bucket)
    cloud.set_faults(fault_rate=1.0, kinds=["damage"], ops=["PutObject"])
    headers = {"x-oss-forbid-overwrite": "true"}
    with pytest.raises(oss2.exceptions.OssError) as err:
        put_verified(bucket, RetryPolicy(2, 0), "lease", b"{}", headers, refuse_damaged=True)
    cloud.set_faults(fault_rate=0.0, ops=[])
    assert (err.value.code, err.value.attempts) == ("InvalidDigest", 2)
    assert not bucket.object_exists("lease")
    put_verified(bucket, RetryPolicy(2, 0), "lease", b"{}", headers, refuse_damaged=True)
    assert bucket.get_object("lease").read() == b"{}"


@pytest.mark.parametrize(
    "exc",
    [UploadDamaged("out/k part 2", 1, "2", "UploadPart"), UploadUnverified("out/k", "PutObject")],
)
def test_upload_check_errors_cross_from_a_page_worker_as_themselves(exc):
    crossed = portable(exc)
    assert crossed is exc  # portable() keeps it only if it survives pickling
    back = pickle.loads(pickle.dumps(exc))
    assert (type(back), str(back)) == (type(exc), str(exc))
