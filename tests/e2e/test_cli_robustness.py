"""Every bad input of issue 12 through the real CLI against a real localcloud (`local up`):
exit code 2 (3 when localcloud is unreachable), one line on stderr naming what to do, no
traceback, and nothing written (localcloud's request counters do not move)."""

from __future__ import annotations

import json
import os
import signal
import uuid

import pytest
from typer.testing import CliRunner

from ossbatch import cloud
from ossbatch.cli import app

runner = CliRunner()
WRITE_OPS = {
    "PutObject",
    "CopyObject",
    "DeleteObject",
    "DeleteMultipleObjects",
    "InitiateMultipartUpload",
    "UploadPart",
    "UploadPartCopy",
    "CompleteMultipartUpload",
    "AppendObject",
    "RestoreObject",
    "PutBucket",
}


def invoke(data_dir, *args: str, env: dict | None = None):
    return runner.invoke(app, ["--data-dir", str(data_dir), *args], env=env)


def writes(conn) -> dict:
    """What localcloud wrote so far: OSS write operations, executions started, messages sent."""
    import urllib.request

    with urllib.request.urlopen(conn.admin_endpoint + "/counters", timeout=10) as answer:
        counters = json.load(answer)
    oss = {op: n for op, n in counters.get("oss", {}).items() if op in WRITE_OPS}
    flow = {k: v for k, v in counters.get("flow", {}).items() if "start" in k}
    sent = {q: c.get("sent", 0) for q, c in counters.get("mns", {}).get("queues", {}).items()}
    return {"oss": oss, "flow": flow, "mns": sent}


def assert_one_line_error(result, code: int, *words: str) -> str:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert "Traceback" not in result.output, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("robust-local")
    try:
        result = invoke(data_dir, "local", "up", "--json")
        assert result.exit_code == 0, result.output
        conn = cloud.from_local_state(cloud.read_state(data_dir))
        sources = conn.oss_bucket(conn.buckets["sources"])
        sources.put_object("rb/a.txt", b"a")
        sources.put_object("rb/index.csv", f"{conn.buckets['sources']},rb/a.txt\n".encode())
        archive = conn.oss_bucket(conn.buckets["archive"])
        archive.put_object("cold/a.txt", b"a", headers={"x-oss-storage-class": "Archive"})
        yield data_dir, conn
    finally:
        invoke(data_dir, "local", "down", "--json")


def copy_args(conn, *extra: str) -> list[str]:
    return [
        "copy",
        "start",
        "--source",
        f"oss://{conn.buckets['sources']}/rb/",
        "--dest",
        f"oss://{conn.buckets['archive']}/out/",
        *extra,
    ]


BAD_COPY_OPTIONS = {
    "storage class typo": (["--storage-class", "Arhive"], ["Arhive", "Archive, ColdArchive"]),
    "negative page seconds": (["--page-seconds", "-1"], ["--page-seconds", "1"]),
    "nan page seconds": (["--page-seconds", "nan"], ["--page-seconds"]),
    "concurrency above the Map limit": (["--concurrency", "41"], ["41", "1..40"]),
    "concurrency zero": (["--concurrency", "0"], ["1..40"]),
    "queue that does not exist": (["--notify-queue", "no-such-queue"], ["no-such-queue"]),
}


@pytest.mark.parametrize("case", sorted(BAD_COPY_OPTIONS))
def test_bad_copy_options_are_refused_before_anything_starts(local, case):
    data_dir, conn = local
    extra, words = BAD_COPY_OPTIONS[case]
    before = writes(conn)
    result = invoke(data_dir, *copy_args(conn, *extra))
    assert_one_line_error(result, 2, *words)
    assert writes(conn) == before


def bad_locations(conn) -> dict:
    src, arc = conn.buckets["sources"], conn.buckets["archive"]
    return {
        "invalid bucket name": (
            ["--source", "oss://Bad_Bucket/x/", "--dest", f"oss://{arc}/o/"],
            ["Bad_Bucket", "lowercase"],
        ),
        "missing source bucket": (
            ["--source", "oss://no-such-src-bucket/", "--dest", f"oss://{arc}/o/"],
            ["no-such-src-bucket", "does not exist"],
        ),
        "missing dest bucket": (
            ["--source", f"oss://{src}/rb/", "--dest", "oss://no-such-dst-bucket/o/"],
            ["no-such-dst-bucket", "does not exist"],
        ),
        "missing index bucket": (
            ["--index", "oss://no-such-idx-bucket/i.csv", "--dest", f"oss://{arc}/o/"],
            ["no-such-idx-bucket"],
        ),
        "no bucket at all": (["--source", "oss:///x/", "--dest", f"oss://{arc}/o/"], ["bucket"]),
        "no --source nor --index": (["--dest", f"oss://{arc}/o/"], ["--index", "--source"]),
        "no --dest": (["--source", f"oss://{src}/rb/"], ["--dest"]),
        "index pointing at a prefix": (
            ["--index", f"oss://{src}/rb/", "--dest", f"oss://{arc}/o/"],
            ["prefix", "--source"],
        ),
        "index that does not exist": (
            ["--index", f"oss://{src}/rb/none.csv", "--dest", f"oss://{arc}/o/"],
            ["does not exist"],
        ),
        "dest inside the source": (
            ["--source", f"oss://{src}/rb/", "--dest", f"oss://{src}/rb/zz/"],
            ["inside", "--allow-nested"],
        ),
        "index under the dest": (
            ["--index", f"oss://{src}/rb/index.csv", "--dest", f"oss://{src}/rb/"],
            ["--allow-nested"],
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "invalid bucket name",
        "missing source bucket",
        "missing dest bucket",
        "missing index bucket",
        "no bucket at all",
        "no --source nor --index",
        "no --dest",
        "index pointing at a prefix",
        "index that does not exist",
        "dest inside the source",
        "index under the dest",
    ],
)
def test_bad_locations_are_refused_before_anything_starts(local, case):
    data_dir, conn = local
    args, words = bad_locations(conn)[case]
    before = writes(conn)
    result = invoke(data_dir, "copy", "start", *args)
    assert_one_line_error(result, 2, *words)
    assert writes(conn) == before


@pytest.mark.parametrize(
    "args, words",
    [
        (["--tier", "Fast"], ["Fast", "Expedited, Standard, Bulk"]),
        (["--days", "30"], ["--days 30", "Archive", "1..7"]),
        (["--days", "0"], ["--days"]),
        (["--page-seconds", "nan"], ["--page-seconds"]),
    ],
)
def test_bad_restore_options_are_refused_before_anything_starts(local, args, words):
    data_dir, conn = local
    before = writes(conn)
    source = f"oss://{conn.buckets['archive']}/cold/"
    result = invoke(data_dir, "restore", "start", "--source", source, *args)
    assert_one_line_error(result, 2, *words)
    assert writes(conn) == before


def test_storage_class_and_tier_are_accepted_in_any_case(local):
    data_dir, conn = local
    result = invoke(data_dir, *copy_args(conn, "--storage-class", "archive", "--json"))
    assert result.exit_code == 0, result.output
    job_id = json.loads(result.stdout)["job_id"]
    status = invoke(data_dir, "jobs", "status", job_id, "--watch", "--json")
    assert status.exit_code == 0, status.output
    head = conn.oss_bucket(conn.buckets["archive"]).head_object("out/rb/a.txt")
    assert head.headers["x-oss-storage-class"] == "Archive"
    source = f"oss://{conn.buckets['archive']}/cold/"
    restore = invoke(data_dir, "restore", "start", "--source", source, "--tier", "bulk", "--json")
    assert restore.exit_code == 0, restore.output


def test_with_json_errors_are_one_json_object_on_stderr(local):
    data_dir, conn = local
    result = invoke(data_dir, *copy_args(conn, "--storage-class", "Arhive", "--json"))
    line = assert_one_line_error(result, 2)
    doc = json.loads(line)
    assert set(doc) == {"error", "detail", "exit_code"}
    assert doc["exit_code"] == 2 and "Arhive" in doc["detail"]
    usage = invoke(data_dir, "copy", "start", "--frob", "--json")
    assert json.loads(assert_one_line_error(usage, 2))["error"] == "usage"


def test_json_given_before_the_command_is_the_commands_json(local):
    data_dir, conn = local
    listed = runner.invoke(app, ["--json", "--data-dir", str(data_dir), "jobs", "list"])
    assert listed.exit_code == 0, listed.output
    assert isinstance(json.loads(listed.stdout), list)
    bad = invoke(data_dir, "--json", *copy_args(conn, "--storage-class", "Arhive"))
    assert json.loads(assert_one_line_error(bad, 2))["exit_code"] == 2


def test_an_environment_file_that_is_not_utf8_is_a_usage_error(local, tmp_path):
    data_dir, _ = local
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"name: \xff\xfe\n")
    result = runner.invoke(app, ["--env", str(bad), "--data-dir", str(data_dir), "jobs", "list"])
    assert_one_line_error(result, 2, str(bad), "UTF-8")


def test_a_data_dir_that_is_a_file_or_lies_under_one_is_a_usage_error(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for data_dir, command in [
        (afile, ["jobs", "list"]),
        (afile, ["local", "up"]),
        (afile / "sub", ["local", "up"]),
    ]:
        result = runner.invoke(app, ["--data-dir", str(data_dir), *command])
        assert_one_line_error(result, 2, "--data-dir")
    assert afile.read_text() == "x"


def test_jobs_report_checks_its_output_file_and_the_job_id(local, tmp_path):
    data_dir, conn = local
    missing_dir = tmp_path / "nope" / "r.jsonl"
    result = invoke(data_dir, "jobs", "report", "copy-20260101-000000-aaaa", "-o", str(missing_dir))
    assert_one_line_error(result, 2, "does not exist")
    result = invoke(data_dir, "jobs", "report", "copy-20260101-000000-aaaa", "-o", str(tmp_path))
    assert_one_line_error(result, 2, "is a directory")
    result = invoke(data_dir, "jobs", "report", "copy-20260101-000000-aaaa")
    assert_one_line_error(result, 2, "copy-20260101-000000-aaaa", "jobs list")
    result = invoke(data_dir, "jobs", "report", "not-a-job")
    assert_one_line_error(result, 2, "not-a-job")


def test_local_status_prints_the_admin_token(local):
    data_dir, conn = local
    result = invoke(data_dir, "local", "status", "--json")
    doc = json.loads(result.stdout)
    assert doc["admin_token"] and doc["admin_endpoint"].endswith("/" + doc["admin_token"])


def test_at_80_columns_ids_and_urls_are_not_cut(local):
    data_dir, conn = local
    started = invoke(data_dir, *copy_args(conn, "--json"), env={"COLUMNS": "80"})
    assert started.exit_code == 0, started.output
    result = invoke(data_dir, "jobs", "list", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    ids = [
        line.split(": ", 1)[1] for line in result.stdout.splitlines() if line.startswith("job_id:")
    ]
    listed = json.loads(invoke(data_dir, "jobs", "list", "--json").stdout)
    assert ids and ids == [row["job_id"] for row in listed]
    watched = invoke(data_dir, *copy_args(conn, "--wait"), env={"COLUMNS": "80"})
    assert watched.exit_code == 0, watched.output
    assert "…" not in watched.stdout and "succeeded" in watched.stdout
    status = invoke(data_dir, "local", "status", env={"COLUMNS": "80"})
    assert f"oss_endpoint: {conn.oss_endpoint}" in status.stdout
    assert "…" not in status.stdout


def test_an_unreachable_localcloud_is_exit_3_and_local_up_restarts_it(tmp_path):
    data_dir = tmp_path / "down"
    assert invoke(data_dir, "local", "up", "--json").exit_code == 0
    try:
        pid = cloud.read_state(data_dir)["localcloud"]["pid"]
        os.kill(pid, signal.SIGKILL)  # our child: a zombie until someone reaps it
        for command in (
            ["jobs", "list"],
            ["copy", "start", "--source", "oss://ossbatch-local-sources/x/"]
            + ["--dest", "oss://ossbatch-local-archive/y/", "--wait"],
        ):
            result = invoke(data_dir, *command)
            assert_one_line_error(result, 3, "ossbatch local up", "jobs resume")
        as_json = invoke(data_dir, "jobs", "list", "--json")
        assert json.loads(assert_one_line_error(as_json, 3))["error"] == "unreachable"
        dead = invoke(data_dir, "local", "status", "--json")
        assert dead.exit_code == 1 and json.loads(dead.stdout)["status"] == "dead"
        again = invoke(data_dir, "local", "up", "--json")
        assert again.exit_code == 0, again.output
        assert cloud.read_state(data_dir)["localcloud"]["pid"] != pid
        assert invoke(data_dir, "jobs", "list", "--json").exit_code == 0
    finally:
        invoke(data_dir, "local", "down")


def test_allow_nested_copies_the_source_once_and_never_its_own_output(local):
    data_dir, conn = local
    # under the report prefix: the one place the fc-worker role (copy, restore, verify) may
    # both read and write outside Archive class (RAM is enforced; sources are read-only to
    # it, the archive bucket is Archive class, the extraction output is the unzip role's)
    src = conn.buckets["reports"]
    bucket = conn.oss_bucket(src)
    base = f"reports/nest-{uuid.uuid4().hex[:8]}/"
    for i in range(5):
        bucket.put_object(f"{base}{i}.txt", b"n")
    args = ["copy", "start", "--source", f"oss://{src}/{base}", "--dest", f"oss://{src}/{base}zz/"]
    result = invoke(
        data_dir, *args, "--allow-nested", "--max-items-per-page", "2", "--wait", "--json"
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["state"] == "succeeded" and doc["done"] + doc["skipped"] == 5
    listed = [o.key for o in bucket.list_objects(prefix=base, max_keys=100).object_list]
    assert sorted(k for k in listed if k.startswith(f"{base}zz/")) == [
        f"{base}zz/{base}{i}.txt" for i in range(5)
    ]
