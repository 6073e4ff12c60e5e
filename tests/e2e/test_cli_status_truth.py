"""Status that tells the truth (issue 12), through the real CLI on a real localcloud:
`jobs list` shows each job's current state, `jobs stop` says what happens or waits,
`unzip status` sorts before it limits, shows `partial` runs and finds runs of deleted
packages."""

from __future__ import annotations

import io
import json
import time
import zipfile

import pytest
from typer.testing import CliRunner

from ossbatch import cloud, sampledata
from ossbatch.cli import app

runner = CliRunner()


def invoke(data_dir, *args: str):
    return runner.invoke(app, ["--data-dir", str(data_dir), *args])


def json_of(result) -> dict | list:
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("truth-local")
    try:
        assert invoke(data_dir, "local", "up", "--json").exit_code == 0
        yield data_dir, cloud.from_local_state(cloud.read_state(data_dir))
    finally:
        invoke(data_dir, "local", "down")


def set_faults(conn, **faults) -> None:
    import urllib.request

    request = urllib.request.Request(
        conn.admin_endpoint + "/faults", method="POST", data=json.dumps(faults).encode()
    )
    urllib.request.urlopen(request, timeout=10).close()


def test_stop_says_the_page_in_flight_finishes_and_list_shows_the_current_state(local):
    data_dir, conn = local
    sources = conn.oss_bucket(conn.buckets["sources"])
    sampledata.upload_objects(sources, sampledata.object_keys("stop/", 8))
    set_faults(conn, latency_ms=400, ops=["CopyObject"])  # 8 one-item pages: >= 3 s of work
    try:
        started = json_of(
            invoke(
                data_dir,
                "copy",
                "start",
                "--source",
                f"oss://{conn.buckets['sources']}/stop/",
                "--dest",
                f"oss://{conn.buckets['archive']}/stop/",
                "--max-items-per-page",
                "1",
                "--json",
            )
        )
        job_id = started["job_id"]
        asked = json_of(invoke(data_dir, "jobs", "stop", job_id, "--json"))
        assert asked["state"] == "stopping"
        assert asked["message"].startswith("stop requested; the page in flight finishes")
        waited = json_of(invoke(data_dir, "jobs", "stop", job_id, "--wait", "--json"))
        assert waited["state"] == "stopped"
        listed = {r["job_id"]: r for r in json_of(invoke(data_dir, "jobs", "list", "--json"))}
        assert listed[job_id]["state"] == "stopped"
    finally:
        set_faults(conn, latency_ms=0, ops=[])
    resumed = invoke(data_dir, "jobs", "resume", job_id, "--wait", "--json")
    assert resumed.exit_code == 0, resumed.output
    row = {r["job_id"]: r for r in json_of(invoke(data_dir, "jobs", "list", "--json"))}[job_id]
    assert row["first_status"] == "Stopped"  # what the old listing showed
    assert row["state"] == "succeeded" and row["executions"] == 2


def test_jobs_stop_wait_returns_once_the_job_has_stopped(local):
    data_dir, conn = local
    sources = conn.oss_bucket(conn.buckets["sources"])
    sampledata.upload_objects(sources, sampledata.object_keys("stopwait/", 6))
    set_faults(conn, latency_ms=400, ops=["CopyObject"])
    try:
        job_id = json_of(
            invoke(
                data_dir,
                "copy",
                "start",
                "--source",
                f"oss://{conn.buckets['sources']}/stopwait/",
                "--dest",
                f"oss://{conn.buckets['archive']}/stopwait/",
                "--max-items-per-page",
                "1",
                "--json",
            )
        )["job_id"]
        waited = json_of(invoke(data_dir, "jobs", "stop", job_id, "--wait", "--json"))
        assert waited["state"] == "stopped" and waited["message"] == "stopped"
        status = json_of(invoke(data_dir, "jobs", "status", job_id, "--json"))
        assert status["state"] == "stopped"
    finally:
        set_faults(conn, latency_ms=0, ops=[])


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def runs_of(data_dir, key: str | None = None, limit: int = 20) -> list[dict]:
    args = ["unzip", "status", "--limit", str(limit), "--json"]
    if key:
        args.insert(2, key)
    result = invoke(data_dir, *args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def wait_for_run(data_dir, bucket: str, key: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for row in runs_of(data_dir, limit=1000):
            if row["key"] == key and row["status"] not in ("Running",):
                return row
        time.sleep(0.3)
    raise AssertionError(f"no finished run of {key}")


def test_unzip_status_sorts_before_it_limits_and_finds_deleted_packages(local):
    data_dir, conn = local
    bucket = conn.buckets["packages"]
    packages = conn.oss_bucket(bucket)
    keys = [f"incoming/order-{i}.zip" for i in range(3)]
    for key in keys:  # one after the other: started times are ordered
        packages.put_object(key, zip_bytes({f"{key}.txt": b"x"}))
        assert wait_for_run(data_dir, bucket, key)["status"] == "Succeeded"
    [newest] = runs_of(data_dir, limit=1)
    assert newest["key"] == keys[-1]
    assert [r["key"] for r in runs_of(data_dir, limit=3)][:1] == [keys[-1]]
    # a clean run deletes the package (delete_after_success); its run is still found by key
    assert not packages.object_exists(keys[0])
    found = runs_of(data_dir, f"oss://{bucket}/{keys[0]}")
    assert [r["key"] for r in found] == [keys[0]] and found[0]["status"] == "Succeeded"


def test_a_run_with_failed_entries_shows_partial_and_its_failed_count(local):
    data_dir, conn = local
    bucket = conn.buckets["packages"]
    key = "incoming/partial.zip"
    conn.oss_bucket(bucket).put_object(key, zip_bytes({"ok.txt": b"ok", "../evil.txt": b"x"}))
    row = wait_for_run(data_dir, bucket, key)
    assert row["status"] == "partial" and row["failed_entries"] == 1
    result = invoke(data_dir, "unzip", "status", f"oss://{bucket}/{key}", "--json")
    assert result.exit_code == 1  # a partial run is not a success
    assert json.loads(result.stdout)[0]["status"] == "partial"


def test_a_failed_run_shows_its_real_error(local):
    data_dir, conn = local
    bucket = conn.buckets["packages"]
    key = "incoming/not-a-zip.zip"
    conn.oss_bucket(bucket).put_object(key, b"this is not a zip archive " * 8)
    row = wait_for_run(data_dir, bucket, key)
    assert row["status"] == "Failed"
    assert "NotAZipArchive" in row["error"] and "UnzipFailed" not in row["error"]
    [one] = runs_of(data_dir, f"oss://{bucket}/{key}")
    assert one["error"] == row["error"]
