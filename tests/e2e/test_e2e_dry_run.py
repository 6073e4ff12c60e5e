"""--dry-run on copy and restore through the CLI on localcloud: figures, and not one write."""

from __future__ import annotations

import json
import urllib.request

from ossbatch import sampledata
from tests.e2e.test_e2e_cli import local, ossbatch  # noqa: F401 - the module's localcloud

READS = {"ListObjects", "ListObjectsV2", "HeadObject", "GetObject", "GetBucketInfo", "HeadBucket"}


def counters(conn) -> dict:
    with urllib.request.urlopen(f"{conn.admin_endpoint}/counters", timeout=10) as resp:
        return json.loads(resp.read())


def delta(before: dict, after: dict, service: str) -> dict:
    b, a = before.get(service, {}), after.get(service, {})
    return {k: a[k] - b.get(k, 0) for k in a if isinstance(a[k], int) and a[k] != b.get(k, 0)}


def test_dry_run_counts_classes_and_costs_and_writes_nothing(local):  # noqa: F811
    data_dir, conn = local
    sources = conn.oss_bucket(conn.buckets["sources"])
    keys = sampledata.object_keys("dry/", 120)
    sampledata.upload_objects(sources, keys[:100])
    for key in keys[100:]:
        sources.put_object(key, b"ia", headers={"x-oss-storage-class": "IA"})
    before = counters(conn)
    code, doc = ossbatch(
        data_dir,
        "copy",
        "start",
        "--source",
        f"oss://{conn.buckets['sources']}/dry/",
        "--dest",
        f"oss://{conn.buckets['archive']}/dry/",
        "--storage-class",
        "Archive",
        "--exclude",
        "*0119*",
        "--dry-run",
        "--json",
    )
    after = counters(conn)
    assert code == 0, doc
    assert doc["dry_run"] and doc["method"] == "full listing"
    assert doc["by_class"]["Standard"]["objects"] == 100
    assert doc["by_class"]["IA"]["objects"] == 19 and doc["filtered"] == {"key": 1}
    assert doc["objects"] == 119 and doc["oss_requests"] >= 119
    assert doc["fc_invocations"] >= doc["shards"] >= 1 and doc["flow_executions"] >= 1
    assert any("minimum storage duration of 60 days" in w for w in doc["warnings"])
    oss = delta(before, after, "oss")
    assert oss and set(oss) <= READS, oss  # reads only: no PUT, COPY, DELETE, POST
    assert "flow" in after  # the engine's counters are there: no execution was started
    assert not any(k.startswith("flow_") for k in delta(before, after, "flow")), after["flow"]


def test_restore_dry_run_of_an_index_reads_the_index_and_a_head_sample(local):  # noqa: F811
    data_dir, conn = local
    sources = conn.oss_bucket(conn.buckets["sources"])
    keys = sampledata.object_keys("dryr/", 30)
    for key in keys:
        sources.put_object(key, b"cold", headers={"x-oss-storage-class": "ColdArchive"})
    sources.put_object("dryr.csv", sampledata.csv_index(conn.buckets["sources"], keys))
    before = counters(conn)
    code, doc = ossbatch(
        data_dir,
        "restore",
        "start",
        "--index",
        f"oss://{conn.buckets['sources']}/dryr.csv",
        "--dry-run",
        "--json",
    )
    after = counters(conn)
    assert code == 0, doc
    assert doc["by_class"] == {"ColdArchive": {"objects": 30, "bytes": 120, "share_error_95": 0.0}}
    assert any("ColdArchive restores" in w for w in doc["warnings"])
    assert doc["cost"]["total_known"] is None  # local.yaml sets no prices
    assert set(delta(before, after, "oss")) <= READS
