"""End to end through the `ossbatch` CLI: `local up` provisions localcloud from
environments/local.yaml through the real SDKs, then the jobs run on the real flows,
FC runtime and handlers; `local down` stops it."""

from __future__ import annotations

import json
import time

import oss2
import pytest
from typer.testing import CliRunner

from ossbatch import cloud, notifications, sampledata
from ossbatch.cli import app

runner = CliRunner()


def ossbatch(data_dir, *args: str) -> tuple[int, dict | list | str]:
    result = runner.invoke(app, ["--data-dir", str(data_dir), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    try:
        return result.exit_code, json.loads(result.stdout)
    except (json.JSONDecodeError, ValueError):
        return result.exit_code, result.output


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("e2e-local")
    try:
        code, doc = ossbatch(data_dir, "local", "up", "--json")
        assert code == 0, doc
        yield data_dir, cloud.from_local_state(cloud.read_state(data_dir))
    finally:  # stop what `local up` started even when provisioning failed half-way
        code, doc = ossbatch(data_dir, "local", "down", "--json")
    assert code == 0 and doc["status"] == "stopped"


def test_local_status_prints_endpoints_credentials_and_names(local):
    data_dir, conn = local
    code, doc = ossbatch(data_dir, "local", "status", "--json")
    assert code == 0 and doc["status"] == "running"
    for key in (
        "oss_endpoint",
        "mns_endpoint",
        "fc_endpoint",
        "fnf_endpoint",
        "access_key_id",
        "access_key_secret",
    ):
        assert doc[key]
    assert doc["buckets"]["sources"] == "ossbatch-local-sources"
    assert doc["queues"]["notifications"] == "ossbatch-local-unzip-done"


def test_local_functions_run_one_process_each(local):
    """localcloud's instances share this machine's CPUs: `local up` gives no page workers."""
    from alibabacloud_fc20230330 import models as fc

    from ossbatch.config import load_environment

    _, conn = local
    env = load_environment("local")
    for job in ("copy", "unzip"):
        function = conn.fc().get_function(env.function_name(job), fc.GetFunctionRequest()).body
        assert function.environment_variables["OSSBATCH_PROCESSES"] == "1", job


def test_copy_then_restore_end_to_end(local):
    data_dir, conn = local
    sources = conn.oss_bucket(conn.buckets["sources"])
    keys = sampledata.object_keys("e2e/", 300)
    sampledata.upload_objects(sources, keys)
    sources.put_object("e2e-index.csv", sampledata.csv_index(conn.buckets["sources"], keys))
    archive_name = conn.buckets["archive"]

    code, doc = ossbatch(
        data_dir,
        "copy",
        "start",
        "--index",
        f"oss://{conn.buckets['sources']}/e2e-index.csv",
        "--dest",
        f"oss://{archive_name}/e2e/",
        "--storage-class",
        "Archive",
        "--wait",
        "--json",
    )
    assert code == 0, doc
    assert doc["state"] == "succeeded" and doc["done"] == 300 and doc["failed"] == 0
    archive = conn.oss_bucket(archive_name)
    head = archive.head_object("e2e/" + keys[7])
    assert head.headers["x-oss-storage-class"] == "Archive"
    assert head.content_length == sampledata.size_of(7)

    code, doc = ossbatch(
        data_dir, "restore", "start", "--source", f"oss://{archive_name}/e2e/", "--wait", "--json"
    )
    assert code == 0, doc
    assert doc["state"] == "succeeded"
    for i in (0, 150, 299):
        data = archive.get_object("e2e/" + keys[i]).read()
        assert data == sampledata.object_bytes(keys[i], sampledata.size_of(i))

    code, listed = ossbatch(data_dir, "jobs", "list", "--json")
    assert code == 0 and {row["kind"] for row in listed} >= {"copy", "restore"}


def test_failed_items_above_tolerance_exit_with_code_1_and_appear_in_the_report(local):
    data_dir, conn = local
    sources = conn.oss_bucket(conn.buckets["sources"])
    sources.put_object(
        "holes.csv",
        f"{conn.buckets['sources']},missing/a\n{conn.buckets['sources']},missing/b\n".encode(),
    )
    code, doc = ossbatch(
        data_dir,
        "copy",
        "start",
        "--index",
        f"oss://{conn.buckets['sources']}/holes.csv",
        "--dest",
        f"oss://{conn.buckets['archive']}/holes/",
        "--wait",
        "--json",
    )
    assert code == 1
    assert doc["state"] == "succeeded" and doc["failed"] == 2
    code, report = ossbatch(data_dir, "jobs", "report", doc["job_id"], "--failed-only", "--json")
    assert code == 0 and report["records"] == 2 and report["by_status"] == {"failed": 2}


def test_status_of_an_unknown_job_is_a_usage_error(local):
    data_dir, _ = local
    code, _ = ossbatch(data_dir, "jobs", "status", "copy-20000101-000000-0000", "--json")
    assert code == 2


def test_zip_upload_is_extracted_by_the_trigger_and_notified(local):
    data_dir, conn = local
    packages = conn.oss_bucket(conn.buckets["packages"])
    payload, expected = sampledata.build_zip(40)
    packages.put_object("incoming/e2e.zip", payload)
    queue = conn.mns().get_queue(conn.queues["notifications"])
    deadline = time.monotonic() + 15
    message = None
    while time.monotonic() < deadline and message is None:
        try:
            msg, body = notifications.receive(queue, wait_seconds=3)
        except Exception:
            continue
        queue.delete_message(msg.receipt_handle)
        if body.get("key") == "incoming/e2e.zip":
            message = body
    assert message is not None and message["status"] == "succeeded"
    assert message["entries"] == 40
    # entries land in the extraction bucket, where only the unzip role (fc-unzip) may write
    extraction = conn.oss_bucket(conn.buckets["extraction"])
    extracted = {
        obj.key: extraction.get_object(obj.key).read()
        for obj in oss2.ObjectIterator(extraction, prefix="extracted/e2e/")
    }
    assert extracted == {f"extracted/e2e/{name}": data for name, data in expected.items()}
    assert not list(oss2.ObjectIterator(packages, prefix="extracted/"))


def test_watching_a_job_shows_its_progress_bar_until_it_ends(local):
    data_dir, conn = local
    sources = conn.oss_bucket(conn.buckets["sources"])
    keys = sampledata.object_keys("watch/", 50)
    sampledata.upload_objects(sources, keys)
    code, doc = ossbatch(
        data_dir,
        "copy",
        "start",
        "--source",
        f"oss://{conn.buckets['sources']}/watch/",
        "--dest",
        f"oss://{conn.buckets['archive']}/watch/",
        "--json",
    )
    assert code == 0 and doc["state"] == "started"
    code, text = ossbatch(data_dir, "jobs", "status", doc["job_id"], "--watch", "--interval", "0.3")
    assert code == 0
    assert doc["job_id"] in text and "succeeded" in text and "50 done" in text


def _enable_versioning(bucket) -> None:
    config = oss2.models.BucketVersioningConfig()
    config.status = "Enabled"
    bucket.put_bucket_versioning(config)


def _messages_for(conn, keys: set[str], timeout: float = 30) -> dict[str, dict]:
    """The unzip notifications of these package keys (the queue is shared: others are kept)."""
    queue = conn.mns().get_queue(conn.queues["notifications"])
    found: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and set(found) != keys:
        try:
            msg, body = notifications.receive(queue, wait_seconds=3)
        except Exception:
            continue
        if body.get("key") in keys:
            queue.delete_message(msg.receipt_handle)
            found[body["key"]] = body
    return found


def test_copy_of_a_versioned_tagged_source_keeps_version_tags_metadata_and_reruns_to_nothing(
    local,
):
    data_dir, conn = local
    name = conn.buckets["sources"]
    sources = conn.oss_bucket(name)
    _enable_versioning(sources)
    old = sources.put_object(
        "ver/k.txt", b"old", headers={"x-oss-tagging": "stage=old", "x-oss-meta-origin": "v1"}
    ).versionid
    sources.put_object("ver/k.txt", b"newer", headers={"x-oss-tagging": "stage=new"})
    sources.put_object("ver/plain.txt", b"plain", headers={"x-oss-tagging": "p=1"})
    sources.put_object("ver-index.csv", f"{name},ver/k.txt,{old}\n{name},ver/plain.txt\n".encode())
    archive = conn.oss_bucket(conn.buckets["archive"])

    def copy(*extra):
        return ossbatch(
            data_dir, "copy", "start", "--index", f"oss://{name}/ver-index.csv",
            "--dest", f"oss://{conn.buckets['archive']}/ver/", "--storage-class", "IA",
            *extra, "--wait", "--json",
        )  # fmt: skip

    code, doc = copy()
    assert code == 0 and doc["done"] == 2 and doc["failed"] == 0, doc
    got = archive.get_object("ver/ver/k.txt")
    assert got.read() == b"old" and got.headers["x-oss-meta-origin"] == "v1"
    assert got.headers["x-oss-storage-class"] == "IA"
    assert archive.get_object_tagging("ver/ver/k.txt").tag_set.tagging_rule == {"stage": "old"}
    code, again = copy()
    assert code == 0 and again["done"] == 0 and again["skipped"] == 2, again

    code, doc = ossbatch(
        data_dir, "copy", "start", "--index", f"oss://{name}/ver-index.csv",
        "--dest", f"oss://{conn.buckets['archive']}/tagged/", "--tags", "job=e2e,owner=ops",
        "--wait", "--json",
    )  # fmt: skip
    assert code == 0 and doc["done"] == 2, doc
    for key in ("tagged/ver/k.txt", "tagged/ver/plain.txt"):
        assert archive.get_object_tagging(key).tag_set.tagging_rule == {
            "job": "e2e",
            "owner": "ops",
        }


def test_unzip_deletes_exactly_the_extracted_version_and_a_symlinked_package_extracts(local):
    _, conn = local
    packages = conn.oss_bucket(conn.buckets["packages"])
    _enable_versioning(packages)
    payload, expected = sampledata.build_zip(5)
    first = packages.put_object("incoming/ver.zip", payload).versionid
    newer = packages.put_object("incoming/ver.zip", b"not a zip: this upload fails").versionid
    # the target lies under the watched prefix (the unzip role reads only there), not a .zip
    packages.put_object("incoming/store/real.bin", payload)
    packages.put_symlink("incoming/store/real.bin", "incoming/linked.zip")

    found = _messages_for(conn, {"incoming/ver.zip", "incoming/linked.zip"})
    assert found["incoming/linked.zip"]["status"] == "succeeded", json.dumps(found)
    assert found["incoming/linked.zip"]["target_key"] == "incoming/store/real.bin"
    extraction = conn.oss_bucket(conn.buckets["extraction"])
    linked = {
        o.key: extraction.get_object(o.key).read()
        for o in oss2.ObjectIterator(extraction, prefix="extracted/linked/")
    }
    assert linked == {f"extracted/linked/{n}": d for n, d in expected.items()}

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        versions = packages.list_object_versions(prefix="incoming/ver.zip")
        if first not in {v.versionid for v in versions.versions}:
            break
        time.sleep(0.5)
    # the extracted version went by its versionId; the newer (failed) upload is current
    assert [v.versionid for v in versions.versions] == [newer] and versions.delete_marker == []
    assert packages.get_object("incoming/ver.zip").read().startswith(b"not a zip")
    assert packages.get_object("incoming/store/real.bin").read() == payload  # target is kept


def test_verify_passes_a_clean_copy_then_catches_a_corrupted_and_a_missing_object(local, tmp_path):
    data_dir, conn = local
    sources = conn.oss_bucket(conn.buckets["sources"])
    keys = sampledata.object_keys("verify-e2e/", 40)
    sampledata.upload_objects(sources, keys)
    rule = oss2.models.TaggingRule()
    rule.add("team", "data")
    for key in keys[:3]:  # tags are compared through the deployment's fc-worker role
        sources.put_object_tagging(key, oss2.models.Tagging(rule))
    sources.put_object("verify-e2e.csv", sampledata.csv_index(conn.buckets["sources"], keys))
    archive = conn.oss_bucket(conn.buckets["archive"])
    code, copied = ossbatch(
        data_dir,
        "copy",
        "start",
        "--index",
        f"oss://{conn.buckets['sources']}/verify-e2e.csv",
        "--dest",
        f"oss://{conn.buckets['archive']}/verified/",
        "--storage-class",
        "IA",
        "--wait",
        "--json",
    )
    assert code == 0 and copied["done"] == 40, copied
    code, clean = ossbatch(data_dir, "jobs", "verify", copied["job_id"], "--json")
    assert code == 0, clean
    assert clean["matched"] == 40 and clean["mismatched"] == 0 and clean["state"] == "succeeded"
    assert clean["inline"] is True  # 40 items <= 1,000: the pages ran in the CLI process

    corrupted, deleted = "verified/" + keys[5], "verified/" + keys[17]
    same_size = bytes(b ^ 0xFF for b in archive.get_object(corrupted).read())
    archive.put_object(corrupted, same_size, headers={"x-oss-storage-class": "IA"})
    archive.delete_object(deleted)
    # the flow (--no-inline) and the CLI process (--inline) find the same, report the same
    for how in ("--no-inline", "--inline"):
        code, found = ossbatch(data_dir, "jobs", "verify", copied["job_id"], how, "--json")
        assert code == 1, found
        assert found["inline"] is (how == "--inline")
        assert found["matched"] == 38 and found["mismatched"] == 2
        assert found["by_difference"] == {"crc64": 1, "missing": 1}
        assert found["report"].startswith(f"oss://{conn.buckets['reports']}/")

        lines_file = tmp_path / f"mismatches{how}.jsonl"
        code, _ = ossbatch(
            data_dir, "jobs", "report", found["verify_job_id"], "-o", str(lines_file)
        )
        assert code == 0
        lines = [json.loads(line) for line in lines_file.read_text().splitlines()]
        assert {(r["dest_key"], tuple(r["differs"])) for r in lines} == {
            (corrupted, ("crc64",)),
            (deleted, ("missing",)),
        }


def test_verify_of_an_unknown_job_is_a_one_line_usage_error(local):
    data_dir, _ = local
    result = runner.invoke(
        app, ["--data-dir", str(data_dir), "jobs", "verify", "copy-20000101-000000-0000"]
    )
    assert result.exit_code == 2
    assert "copy-20000101-000000-0000" in result.output
    assert "Traceback" not in result.output
