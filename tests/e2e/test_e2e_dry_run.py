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
    # local.yaml sets no prices: the documented defaults price FC and CloudFlow, and what
    # no page documents (OSS requests, retrieval per GB) is null with the setting to fill
    assert doc["prices"]["fc_per_gb_second"]["origin"] == "default"
    assert doc["prices"]["fc_per_gb_second"]["source"].startswith("https://")
    assert doc["cost"]["oss_requests"] is None and doc["cost"]["restore_ColdArchive"] is None
    assert doc["prices"]["restore_per_gb.ColdArchive.Expedited"]["origin"] == "unset"
    assert doc["cost"]["total_known"] is not None and doc["cost"]["currency"] == "USD"
    assert set(delta(before, after, "oss")) <= READS


def test_dry_run_prices_from_the_environment_file_win_and_every_source_is_printed(
    local,  # noqa: F811
    tmp_path,
):
    from ossbatch.config import ENVIRONMENTS_DIR

    data_dir, conn = local
    sources = conn.oss_bucket(conn.buckets["sources"])
    sampledata.upload_objects(sources, sampledata.object_keys("dryp/", 10))
    env_file = tmp_path / "priced.yaml"
    env_file.write_text(
        (ENVIRONMENTS_DIR / "local.yaml").read_text(encoding="utf-8")
        + "prices: {oss_put_per_10k: 0.5, fc_per_gb_second: 0.001}\n",
        encoding="utf-8",
    )
    args = ["copy", "start", "--source", f"oss://{conn.buckets['sources']}/dryp/"]
    args += ["--dest", f"oss://{conn.buckets['archive']}/dryp/", "--dry-run"]
    code, doc = ossbatch(data_dir, "--env", str(env_file), *args, "--json")
    assert code == 0, doc
    assert doc["prices"]["oss_put_per_10k"]["origin"] == "environment"
    assert doc["prices"]["fc_per_gb_second"] == {
        "value": 0.001,
        "unit": "per GB-second of function memory",
        "origin": "environment",
        "currency": "USD",
    }
    assert doc["prices"]["flow_per_1k_transitions"]["origin"] == "default"
    assert doc["cost"]["oss_requests"] == round(0.5 * doc["oss_requests"] / 10_000, 2)
    code, text = ossbatch(data_dir, "--env", str(env_file), *args)
    assert code == 0, text
    assert "oss_put_per_10k: 0.5 USD" in text and "from the environment file" in text
    assert "serverless-workflow/latest/billing-billing, dated 2026-02-28" in text
