"""`jobs status` of a listing job through the CLI on localcloud: a total from the split
(marked estimate or counted), done/total, percent and an ETA mid-run; total == done at
the end. The run is held mid-way by localcloud's latency injection, not by sleeps."""

from __future__ import annotations

import time

from tests.e2e.test_cli_status_truth import set_faults
from tests.e2e.test_e2e_cli import local, ossbatch  # noqa: F401 - the module's localcloud
from tests.e2e.test_e2e_listing_jobs import put_many

COUNT = 1_200


def test_a_listing_job_shows_its_estimated_total_mid_run_and_the_counted_total_at_the_end(
    local,  # noqa: F811
):
    data_dir, conn = local
    sources = conn.oss_bucket(conn.buckets["sources"])
    put_many(sources, [f"prog/{i % 7}/{i:05d}.dat" for i in range(COUNT)])
    args = ["copy", "start", "--source", f"oss://{conn.buckets['sources']}/prog/"]
    args += ["--dest", f"oss://{conn.buckets['archive']}/prog/", "--concurrency", "2"]
    set_faults(conn, latency_ms=150, ops=["CopyObject"])  # ~10 s of copying: status sees it run
    try:
        code, started = ossbatch(data_dir, *args, "--max-items-per-page", "20", "--json")
        assert code == 0, started
        job_id = started["job_id"]
        deadline = time.monotonic() + 60
        while True:
            code, mid = ossbatch(data_dir, "jobs", "status", job_id, "--json")
            if mid["state"] == "running" and mid["done"] > 0:
                break
            assert mid["state"] == "running" and time.monotonic() < deadline, mid
            time.sleep(0.2)
        code, text = ossbatch(data_dir, "jobs", "status", job_id)
    finally:
        set_faults(conn, latency_ms=0, ops=[])
    assert mid["total"] >= COUNT * 0.8 and mid["done"] < mid["total"]
    assert mid["total_basis"].startswith("counted" if not mid["total_is_estimate"] else "estimate")
    assert 0 < mid["percent"] < 100
    assert mid["percent"] == round(100 * mid["done"] / mid["total"], 1)
    assert mid["eta_s"] is not None and mid["eta_s"] > 0
    assert "total_basis: " in text and "eta_s: " in text
    waited = ossbatch(data_dir, "jobs", "status", job_id, "--watch", "--json")[1]
    assert waited["state"] == "succeeded", waited
    code, end = ossbatch(data_dir, "jobs", "status", job_id, "--json")
    assert code == 0 and end["done"] == end["total"] == COUNT
    assert end["total_is_estimate"] is False and end["percent"] == 100.0 and end["eta_s"] == 0.0


def test_an_index_job_says_no_total_is_known_instead_of_zero(local):  # noqa: F811
    from ossbatch import sampledata

    data_dir, conn = local
    sources = conn.oss_bucket(conn.buckets["sources"])
    keys = sampledata.object_keys("progi/", 40)
    sampledata.upload_objects(sources, keys)
    sources.put_object("progi.csv", sampledata.csv_index(conn.buckets["sources"], keys))
    set_faults(conn, latency_ms=300, ops=["CopyObject"])
    try:
        code, started = ossbatch(
            data_dir,
            "copy",
            "start",
            "--index",
            f"oss://{conn.buckets['sources']}/progi.csv",
            "--dest",
            f"oss://{conn.buckets['archive']}/progi/",
            "--max-items-per-page",
            "1",
            "--json",
        )
        assert code == 0, started
        code, mid = ossbatch(data_dir, "jobs", "status", started["job_id"], "--json")
    finally:
        set_faults(conn, latency_ms=0, ops=[])
    assert mid["state"] == "running", mid
    assert mid["total"] is None and mid["total_is_estimate"] is None
    assert mid["total_basis"].startswith("no object total known")


def test_an_inventory_job_shows_a_sampled_total_mid_run_and_total_equals_done_at_the_end(
    local,  # noqa: F811
):
    from tests.e2e.test_e2e_inventory_jobs import write_inventory

    data_dir, conn = local
    name = conn.buckets["sources"]
    sources = conn.oss_bucket(name)
    keys = [f"progv/{i:05d}.dat" for i in range(600)]
    put_many(sources, keys)
    manifest = write_inventory(sources, name, keys, 3, prefix="inventory-progv")
    args = ["copy", "start", "--inventory", f"oss://{name}/{manifest}", "--concurrency", "3"]
    args += ["--dest", f"oss://{conn.buckets['archive']}/progv/", "--max-items-per-page", "10"]
    set_faults(conn, latency_ms=150, ops=["CopyObject"])
    try:
        code, started = ossbatch(data_dir, *args, "--json")
        assert code == 0, started
        job_id = started["job_id"]
        deadline = time.monotonic() + 60
        while True:
            code, mid = ossbatch(data_dir, "jobs", "status", job_id, "--json")
            if mid["state"] == "running" and mid["done"] > 0:
                break
            assert mid["state"] == "running" and time.monotonic() < deadline, mid
            time.sleep(0.2)
    finally:
        set_faults(conn, latency_ms=0, ops=[])
    # three data files, the first one read: rows per byte scale the other two
    assert mid["total_is_estimate"] is True, mid
    assert mid["total_basis"].startswith("estimate (sampled by the inventory sample; at least ")
    assert 0.8 * 600 <= mid["total"] <= 1.25 * 600 and mid["done"] < mid["total"]
    assert 0 < mid["percent"] < 100 and mid["eta_s"] is not None
    assert ossbatch(data_dir, "jobs", "status", job_id, "--watch", "--json")[1]["state"] == (
        "succeeded"
    )
    code, end = ossbatch(data_dir, "jobs", "status", job_id, "--json")
    assert end["done"] == end["total"] == 600 and end["total_is_estimate"] is False
