"""unzip pages whose small entries are uploaded by worker processes (handlers.processes).

Real children against localcloud through oss2; ``fanout_after_items: 0`` makes small
packages fan out as soon as the workers are up.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import oss2
import psutil
import pytest

from handlers import unzip as unzip_handler
from handlers.errors import DestinationBucketMissing
from handlers.events import UnzipEvent, parse_event
from tests import zipcorpus
from tests.handlerkit import fc_context, read_report


def package(n_tiny: int) -> tuple[bytes, dict[str, bytes]]:
    """Tiny entries, two entries too big for a worker (> 64 KiB) and one with a bad CRC."""
    files = [(f"t/{i:05d}.txt", b"entry %d\n" % i) for i in range(n_tiny)]
    files[n_tiny // 2 : n_tiny // 2] = [("big/a.bin", b"a" * 100_000), ("big/b.bin", b"b" * 70_000)]
    data = bytearray(zipcorpus.build(files, method=zipfile.ZIP_STORED))
    bad = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("t/00007.txt")
    # flip one stored byte of entry 7: its CRC-32 no longer matches
    start = bad.header_offset + 30 + len(bad.filename)
    data[start] ^= 0xFF
    return bytes(data), {name: body for name, body in files if name != "t/00007.txt"}


def run(cloud, bucket, data: bytes, **extra) -> dict:
    bucket.put_object("in/pkg.zip", data)
    return run_uploaded(cloud, bucket, **extra)


def run_uploaded(cloud, bucket, **extra) -> dict:
    event = {
        "job_id": "fan",
        "package": {"bucket": bucket.bucket_name, "key": "in/pkg.zip"},
        "tuning": {
            "processes": 2,
            "fanout_after_items": 0,
            "fanout_min_small_entries": 0,
            **extra.pop("tuning", {}),
        },
        **extra,
    }
    return unzip_handler.run(parse_event(UnzipEvent, event), fc_context(cloud))


def outputs(bucket) -> dict[str, bytes]:
    return {
        o.key[len("out/pkg/") :]: bucket.get_object(o.key).read()
        for o in oss2.ObjectIterator(bucket, prefix="out/pkg/")
    }


def test_workers_upload_tiny_entries_and_the_page_records_every_one(
    unzip_env, localcloud, bucket, capfd
):
    data, expected = package(1500)
    result = run(localcloud, bucket, data)
    assert result["done"] and result["marker"] == 1502
    counters = result["counters"]
    assert (counters["entries"], counters["extracted"], counters["failed"]) == (1502, 1501, 1)
    assert counters["bytes_out"] == sum(len(v) for v in expected.values())
    assert outputs(bucket) == expected
    report = read_report(bucket, result["report_key"])
    assert len(report) == 1502  # one line per entry, whichever process uploaded it
    assert [r["code"] for r in report if r["status"] == "failed"] == ["CrcMismatch"]
    logged = [json.loads(x) for x in capfd.readouterr().err.splitlines() if x.startswith("{")]
    assert [e["event"] for e in logged].count("page_workers_started") == 1
    assert not [p for p in psutil.Process().children() if "handlers.processes" in p.cmdline()]


def test_pages_cut_by_max_items_extract_each_entry_once(unzip_env, localcloud, bucket):
    data, expected = package(700)
    totals, marker, pages = {}, 0, 0
    while True:
        result = run(
            localcloud, bucket, data, marker=marker, totals=totals, tuning={"max_items": 300}
        )
        pages += 1
        totals, marker = result["totals"], result["marker"]
        if result["done"]:
            break
    assert pages == 3 and totals["entries"] == 702
    assert totals["extracted"] == 701 and totals["failed"] == 1
    assert outputs(bucket) == expected


def test_a_missing_output_bucket_fails_the_page_by_name(unzip_env, localcloud, bucket):
    data, _ = package(600)
    with pytest.raises(DestinationBucketMissing):
        run(localcloud, bucket, data, output_bucket=f"gone-{uuid.uuid4().hex[:12]}")


def test_packages_with_few_small_entries_stay_in_process(unzip_env, localcloud, bucket, capfd):
    data, expected = package(300)
    result = run(localcloud, bucket, data, tuning={"fanout_min_small_entries": 500})
    assert result["done"] and result["counters"]["extracted"] == 301
    assert outputs(bucket) == expected
    logged = [json.loads(x) for x in capfd.readouterr().err.splitlines() if x.startswith("{")]
    assert "page_workers_started" not in [e["event"] for e in logged]


def test_workers_send_damaged_uploads_again_until_intact(
    unzip_env, localcloud_factory, monkeypatch
):
    cloud = localcloud_factory()  # private: its faults reach no other test
    monkeypatch.setenv("OSSBATCH_OSS_ENDPOINT", cloud.oss_endpoint)
    auth = oss2.Auth(cloud.access_key_id, cloud.access_key_secret)
    bucket = oss2.Bucket(auth, cloud.oss_endpoint, f"dmg-{uuid.uuid4().hex[:8]}")
    bucket.create_bucket()
    data, expected = package(400)
    bucket.put_object("in/pkg.zip", data)
    cloud.set_faults(fault_rate=0.2, kinds=["damage"], ops=["PutObject"], seed=4)
    result = run_uploaded(cloud, bucket, tuning={"retry_attempts": 10})
    injected = cloud.admin("GET", "/faults")["oss"]["injected"]
    cloud.set_faults(fault_rate=0.0, ops=[])
    assert injected.get("damage", 0) > 20  # about one PUT in five, in the workers too
    assert result["done"] and result["counters"]["failed"] == 1  # the bad CRC-32 only
    assert outputs(bucket) == expected
