"""flows/unzip.yaml on the local engine with the real unzip handler: every branch."""

from __future__ import annotations

import json
import time
import uuid

import oss2
import pytest
from jobkit import ACCOUNT, READINGS, REGION, start_stack
from zipcorpus import encrypted_without_password, not_a_zip

from handlers.events import PackageRef
from handlers.jobinput import Resources, UnzipJob, UnzipJobSettings
from handlers.zipsafety import output_key, package_dir_name
from ossbatch import sampledata


@pytest.fixture(scope="module", params=READINGS)
def stack(request, tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("unzipflow"), compat=request.param == "compat")
    yield s
    s.close()


def unzip_input(stack, key: str, etag: str, delete: bool) -> dict:
    """What the trigger starts the flow with (a typed UnzipJob)."""
    arn = f"acs:fc:{REGION}:{ACCOUNT}:functions/ossbatch-unzip/LATEST"
    job = UnzipJob(
        job_id=f"unzip-{uuid.uuid4().hex[:8]}",
        package=PackageRef(bucket=stack.bucket_name("pkg"), key=key, etag=etag),
        resources=Resources(
            function=arn,
            queue=f"acs:mns:{REGION}:{ACCOUNT}:/queues/notify/messages",
            flow=f"acs:fnf:{REGION}:{ACCOUNT}:flow/ossbatch-unzip",
        ),
        settings=UnzipJobSettings(delete_after_success=delete),
    )
    return job.model_dump(mode="json", include={"job_id", "package", "resources", "settings"})


def extract(stack, payload: bytes, delete: bool = True):
    packages = stack.bucket("pkg")
    key = f"incoming/{uuid.uuid4().hex[:6]}.zip"
    etag = packages.put_object(key, payload).etag.strip('"').upper()
    doc = unzip_input(stack, key, etag, delete)
    stack.engine.start_execution("ossbatch-unzip", doc["job_id"], json.dumps(doc))
    record = stack.engine.wait("ossbatch-unzip", doc["job_id"], 120)
    messages = [json.loads(m.body) for m in stack.mns.receive("notify", 16)]
    mine = [m for m in messages if m.get("key") == key]
    assert len(mine) == 1, f"expected one MNS message for {key}, got {messages}"
    return packages, key, record, mine[0]


def test_a_long_extraction_continues_in_fresh_executions_and_notifies_once(stack):
    payload, expected = sampledata.build_zip(30)
    packages = stack.bucket("pkg")
    began = time.time()
    key = f"incoming/{uuid.uuid4().hex[:6]}.zip"
    etag = packages.put_object(key, payload).etag.strip('"').upper()
    doc = unzip_input(stack, key, etag, delete=False)
    # 4 entries a page, 3 pages an execution: 8 pages = the first execution + 2 continuations
    doc["settings"].update(pages_per_execution=3, tuning={"max_items": 4})
    stack.engine.start_execution("ossbatch-unzip", doc["job_id"], json.dumps(doc))
    first = stack.engine.wait("ossbatch-unzip", doc["job_id"], 120)
    assert json.loads(first.output)["status"] == "continued"
    second = stack.engine.wait("ossbatch-unzip", f"{doc['job_id']}--1", 120)
    assert json.loads(second.output)["status"] == "continued"
    last = stack.engine.wait("ossbatch-unzip", f"{doc['job_id']}--2", 120)
    assert last.status == "Succeeded"
    mine = [
        m
        for m in map(json.loads, (x.body for x in stack.mns.receive("notify", 16)))
        if m.get("key") == key
    ]
    assert len(mine) == 1 and mine[0]["status"] == "succeeded"
    assert mine[0]["entries"] == 30 and mine[0]["extracted"] == 30
    # from the first page over three executions: within the test's own wall time
    assert 0 < mine[0]["duration_seconds"] <= time.time() - began
    package_prefix = mine[0]["package_prefix"]
    assert package_prefix.endswith(package_dir_name(key) + "/")
    for name, data in expected.items():
        assert packages.get_object(package_prefix + name).read() == data


def test_clean_extraction_sends_one_succeeded_message_with_the_result(stack):
    payload, expected = sampledata.build_zip(30)
    packages, key, record, message = extract(stack, payload, delete=False)
    assert record.status == "Succeeded"
    assert message["status"] == "succeeded"
    assert message["entries"] == 30 and message["failed_entries"] == 0
    assert message["bucket"] == stack.bucket_name("pkg") and message["etag"]
    assert message["bytes"] == sum(len(v) for v in expected.values())
    for field_name in ("output_prefix", "report_key", "execution", "extracted"):
        assert field_name in message
    package_dir = package_dir_name(key)  # the handler adds it under output_prefix
    for name, data in expected.items():
        assert (
            packages.get_object(output_key(message["output_prefix"], package_dir, name)).read()
            == data
        )
    assert packages.object_exists(key), "delete_after_success is off: keep the package"


def test_clean_extraction_deletes_the_package_when_configured(stack):
    payload, _ = sampledata.build_zip(5)
    packages, key, record, message = extract(stack, payload, delete=True)
    assert message["status"] == "succeeded"
    assert not packages.object_exists(key)


def test_failed_entries_keep_the_package_and_report_partial(stack):
    packages, key, record, message = extract(stack, encrypted_without_password(), delete=True)
    assert record.status == "Succeeded"
    assert message["status"] == "partial"
    assert message["failed_entries"] >= 1
    assert packages.object_exists(key), "an entry failed: the package must never be deleted"


def test_unreadable_package_sends_failed_message_and_ends_with_a_named_error(stack):
    packages, key, record, message = extract(stack, not_a_zip(), delete=True)
    assert record.status == "Failed"
    assert message["status"] == "failed"
    assert message["error"] and message["detail"]
    assert packages.object_exists(key)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_execution_without_resources_fails_naming_the_missing_arn(stack):
    # the failure notice cannot be sent either (no queue): its retries take ~63 s
    stack.engine.start_execution("ossbatch-unzip", "bare", json.dumps({"job_id": "bare"}))
    record = stack.engine.wait("ossbatch-unzip", "bare", 200)
    assert record.status == "Failed"
    assert record.error_code == "FnF.InvalidArgument"
    assert "resourceArn None" in record.error_detail


def test_duplicate_names_are_counted_in_the_notification(stack):
    from zipcorpus import duplicate_names

    packages, key, record, message = extract(stack, duplicate_names(), delete=True)
    assert message["status"] == "partial"
    assert message["duplicate_names"] == 1 and message["failed_entries"] == 1
    assert packages.object_exists(key)


def test_a_newer_upload_wins_over_the_extraction_of_the_older_one(stack):
    import zipfile

    from zipcorpus import build

    packages = stack.bucket("pkg")
    key = f"incoming/{uuid.uuid4().hex[:6]}.zip"
    old = build(
        [(f"big/{i:05d}.bin", b"old" * 500) for i in range(3000)], method=zipfile.ZIP_STORED
    )
    new_bytes = b"the newer version" * 64
    old_etag = packages.put_object(key, old).etag.strip('"').upper()
    first = unzip_input(stack, key, old_etag, delete=True)
    # pages of 150, 4 PUTs in flight of >= 20 ms each: the old run takes >= 15 s in all,
    # so the newer upload always lands while it runs (its first page is what we wait for)
    first["settings"]["tuning"] = {"max_items": 150, "concurrency": 4}
    stack.oss.set_faults(latency_ms=20, ops=["PutObject"])
    stack.engine.start_execution("ossbatch-unzip", first["job_id"], json.dumps(first))
    try:
        prefix = f"extracted/{package_dir_name(key)}/big/"
        while not list(oss2.ObjectIterator(packages, prefix=prefix, max_keys=1)):
            # waiting for output that must appear (the old run's first page), not for a race
            assert (
                stack.engine.describe_execution("ossbatch-unzip", first["job_id"]).status
                == "Running"
            )
        new = build([("big/02999.bin", new_bytes)], method=zipfile.ZIP_STORED)
        new_etag = packages.put_object(key, new).etag.strip('"').upper()
    finally:
        stack.oss.set_faults(latency_ms=0)
    second = unzip_input(stack, key, new_etag, delete=True)
    stack.engine.start_execution("ossbatch-unzip", second["job_id"], json.dumps(second))
    stale = stack.engine.wait("ossbatch-unzip", first["job_id"], 120)
    newest = stack.engine.wait("ossbatch-unzip", second["job_id"], 180)
    messages = {
        m["job_id"]: m for m in map(json.loads, (x.body for x in stack.mns.receive("notify", 16)))
    }
    assert stale.status == "Failed" and messages[first["job_id"]]["status"] == "failed", (
        messages,
        stale,
    )
    assert "PackageChanged" in messages[first["job_id"]]["detail"]
    assert newest.status == "Succeeded" and messages[second["job_id"]]["status"] == "succeeded"
    assert packages.get_object(prefix + "02999.bin").read() == new_bytes


def test_jobs_status_reads_the_counters_a_finished_unzip_emits(stack):
    from ossbatch.jobs import _unzip_progress

    payload, expected = sampledata.build_zip(12)
    _packages, _key, record, message = extract(stack, payload, delete=False)
    progress = _unzip_progress(json.loads(record.output))  # what `jobs status` shows
    assert progress.done == message["extracted"] == 12
    assert progress.bytes == message["bytes"] == sum(len(v) for v in expected.values())
    assert progress.failed == 0 and progress.items == message["entries"]
