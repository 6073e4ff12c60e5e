"""Handlers under injected OSS faults (503 SlowDown, 500, dropped connections) on a private localcloud."""

from __future__ import annotations

import json

import oss2
import pytest

from handlers import copy as copy_handler
from handlers import unzip as unzip_handler
from handlers.events import CopyEvent, UnzipEvent, parse_event
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
