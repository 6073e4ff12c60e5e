"""Inventory-sourced jobs through the CLI on localcloud (--inventory .../manifest.json).

The inventory here is written by the test as OSS documents it (manifest.json +
manifest.checksum + gzipped CSV data files with URL-encoded keys, every field quoted;
https://www.alibabacloud.com/help/en/oss/user-guide/bucket-inventory), so the reader is
checked against the documented format on its own; requests per object come from
localcloud's counters."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
from oss2.models import (
    INVENTORY_FORMAT_CSV,
    INVENTORY_FREQUENCY_DAILY,
    INVENTORY_INCLUDED_OBJECT_VERSIONS_ALL,
    INVENTORY_INCLUDED_OBJECT_VERSIONS_CURRENT,
    InventoryBucketDestination,
    InventoryConfiguration,
    InventoryDestination,
    InventoryFilter,
    InventorySchedule,
)

from tests.contract.ramkit import allow, make_role
from tests.e2e.test_e2e_cli import app, local, ossbatch, runner  # noqa: F401 - the module's localcloud

SCHEMA = (
    "Bucket, Key, Size, StorageClass, LastModifiedDate, ETag, IsMultipartUploaded, EncryptionStatus"
)
ODD_NAMES = ["a,comma", 'a "quote"', "a space", "a+plus", "línea\nnueva", "日本語", "100%"]


def counters(conn) -> dict:
    with urllib.request.urlopen(f"{conn.admin_endpoint}/counters", timeout=10) as resp:
        return json.loads(resp.read())["oss"]


def requests_between(before: dict, after: dict) -> int:
    return sum(v - before.get(k, 0) for k, v in after.items() if isinstance(v, int))


def put_many(bucket, keys):
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: bucket.put_object(k, k.encode()), keys))


def csv_rows(
    bucket_name: str, heads: list[tuple[str, object]], extra: list[list[str]] = ()
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for key, head in heads:
        modified = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(head.last_modified))
        etag = head.etag.strip('"').upper()
        writer.writerow(
            [
                bucket_name,
                quote(key, safe=""),
                head.content_length,
                head.headers.get("x-oss-storage-class", "Standard"),
                modified,
                etag,
                "false",
                "false",
            ]
        )
    writer.writerows(extra)
    return out.getvalue().encode()


def write_inventory(
    bucket, source_name: str, keys: list[str], files: int, prefix="inventory"
) -> str:
    """An inventory of ``keys`` in ``files`` data files under prefix/source/<id>/; the
    manifest key. A data file holds two gzip members (OSS may concatenate)."""
    with ThreadPoolExecutor(16) as pool:
        heads = list(zip(keys, pool.map(lambda k: bucket.head_object(k), keys), strict=True))
    root = f"{prefix}/{source_name}/daily/"
    entries = []
    heads.sort()  # OSS scans in key order and cuts the rows into files in turn
    size = -(-len(heads) // files)
    for n in range(files):
        part = heads[n * size : (n + 1) * size]
        data = csv_rows(source_name, part)
        half = len(data) // 2
        cut = data.index(b"\n", half) + 1 if b"\n" in data[half:] else len(data)
        blob = gzip.compress(data[:cut]) + gzip.compress(data[cut:])
        key = f"{root}data/{n:04d}-{len(keys)}.csv.gz"
        bucket.put_object(key, blob)
        entries.append(
            {"key": key, "size": len(blob), "MD5checksum": hashlib.md5(blob).hexdigest().upper()}
        )
    manifest = json.dumps(
        {
            "creationTimestamp": str(int(time.time())),
            "destinationBucket": bucket.bucket_name,
            "fileFormat": "CSV",
            "fileSchema": SCHEMA,
            "files": entries,
            "sourceBucket": source_name,
            "version": "2019-09-01",
        }
    ).encode()
    run = f"{root}{time.strftime('%Y-%m-%dT%H-%MZ', time.gmtime())}/"
    bucket.put_object(run + "manifest.json", manifest)
    bucket.put_object(run + "manifest.checksum", hashlib.md5(manifest).hexdigest().upper())
    return run + "manifest.json"


def localcloud_inventory(conn, bucket, prefix: str, rows_per_file: int, versions=False) -> dict:
    """localcloud writes the inventory of bucket/prefix as OSS would (PutBucketInventory, then
    the admin run-now; docs/localcloud.md "Bucket inventory"); its answer (manifest_key, rows)."""
    role = make_role(
        conn,
        f"inv-{uuid.uuid4().hex[:8]}",
        "oss.aliyuncs.com",
        allow(["oss:ListObjects", "oss:PutObject"], [f"acs:oss:*:*:{bucket.bucket_name}*"]),
    )
    inventory_id = f"e2e{uuid.uuid4().hex[:6]}"
    included = (
        INVENTORY_INCLUDED_OBJECT_VERSIONS_ALL
        if versions
        else INVENTORY_INCLUDED_OBJECT_VERSIONS_CURRENT
    )
    bucket.put_bucket_inventory_configuration(
        InventoryConfiguration(
            inventory_id=inventory_id,
            is_enabled=True,
            inventory_schedule=InventorySchedule(frequency=INVENTORY_FREQUENCY_DAILY),
            included_object_versions=included,
            inventory_filter=InventoryFilter(prefix=prefix),
            optional_fields=["Size", "LastModifiedDate", "ETag", "StorageClass"],
            inventory_destination=InventoryDestination(
                bucket_destination=InventoryBucketDestination(
                    account_id=conn.account_id,
                    role_arn=role,
                    bucket=bucket.bucket_name,
                    inventory_format=INVENTORY_FORMAT_CSV,
                    prefix="inventory-lc",
                )
            ),
        )
    )
    body = {
        "bucket": bucket.bucket_name,
        "inventory_id": inventory_id,
        "rows_per_file": rows_per_file,
    }
    request = urllib.request.Request(
        f"{conn.admin_endpoint}/oss/inventory/run", method="POST", data=json.dumps(body).encode()
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        out = json.loads(answer.read())
    assert out["written"], out
    return out


def inventory_job(data_dir, conn, prefix: str, count: int, files: int, generated=False):
    """Copy ``count`` objects listed by an inventory in 4 shards; then a re-run over the
    finished destination. Returns (fresh, re-run) requests per object and seconds. The
    inventory is the test's own (documented format) or, ``generated``, localcloud's."""
    name = conn.buckets["sources"]
    sources = conn.oss_bucket(name)
    keys = [f"{prefix}{i % 17:02d}/{i:06d}{'-é' if i % 97 == 0 else ''}.dat" for i in range(count)]
    keys[: len(ODD_NAMES)] = [f"{prefix}{odd}" for odd in ODD_NAMES]
    put_many(sources, keys)
    if generated:
        run = localcloud_inventory(conn, sources, prefix, -(-count // files))
        assert (run["rows"], len(run["files"])) == (count, files), run
        manifest = run["manifest_key"]
    else:
        manifest = write_inventory(
            sources, name, keys, files, prefix=f"inventory-{prefix.strip('/')}"
        )
    args = [
        "copy", "start", "--inventory", f"oss://{name}/{manifest}",
        "--dest", f"oss://{conn.buckets['archive']}/{prefix}", "--concurrency", "4",
        "--wait", "--json",
    ]  # fmt: skip
    figures, jobs = [], []
    for expected in ((count, 0), (0, count)):
        before, started = counters(conn), time.monotonic()
        code, doc = ossbatch(data_dir, *args)
        seconds = time.monotonic() - started
        assert code == 0, doc
        assert (doc["done"], doc["skipped"], doc["failed"]) == (*expected, 0), doc
        after = counters(conn)
        by_op = {
            k: v - before.get(k, 0)
            for k, v in after.items()
            if isinstance(v, int) and v != before.get(k, 0)
        }
        print(f"inventory {count}: {by_op} in {seconds:.1f} s")
        figures.append((requests_between(before, after) / count, seconds))
        jobs.append(doc["job_id"])
    archive = conn.oss_bucket(conn.buckets["archive"])
    for odd in ODD_NAMES:  # the decoded key, not its URL encoding, was copied
        assert archive.head_object(f"{prefix}{prefix}{odd}").content_length == len(
            f"{prefix}{odd}".encode()
        )
    inventory_job.last_jobs = jobs
    return figures


def test_an_inventory_job_copies_each_object_once_and_a_rerun_makes_almost_no_requests(local):  # noqa: F811
    (fresh, _), (rerun, _) = inventory_job(*local, "inv/", 2_000, files=3)
    # a CopyObject each, plus the plan, pages' manifest and data-file reads
    assert fresh <= 1.02, fresh
    assert rerun <= 0.01, rerun  # the destination listing answers skip-if-done


def test_an_inventory_localcloud_wrote_copies_each_object_once_and_verifies(local):  # noqa: F811
    data_dir, conn = local
    (fresh, _), (rerun, _) = inventory_job(data_dir, conn, "invlc/", 2_000, files=3, generated=True)
    assert fresh <= 1.02, fresh
    assert rerun <= 0.01, rerun
    copy_job = inventory_job.last_jobs[0]
    conn.oss_bucket(conn.buckets["archive"]).delete_object("invlc/invlc/15/000100.dat")
    code, found = ossbatch(data_dir, "jobs", "verify", copy_job, "--json")
    assert code == 1, found  # `jobs verify` walks the inventory shards the copy walked
    assert (found["matched"], found["mismatched"]) == (1_999, 1), found
    assert found["by_difference"] == {"missing": 1}


def test_a_versioned_inventory_copies_the_latest_versions_only(local):  # noqa: F811
    """localcloud's inventory of a versioned bucket with IncludedObjectVersions All: old
    versions and delete markers are rows too; only the current objects are copied."""
    data_dir, conn = local
    archive = conn.oss_bucket(conn.buckets["archive"])  # versioned, as in prod
    standard = {"x-oss-storage-class": "Standard"}
    archive.put_object("invver/kept", b"v1", headers=standard)
    archive.put_object("invver/kept", b"v2-longer", headers=standard)
    archive.put_object("invver/gone", b"x", headers=standard)
    archive.delete_object("invver/gone")
    run = localcloud_inventory(conn, archive, "invver/", 10, versions=True)
    assert run["rows"] == 4, run  # kept v1 and v2, gone's object and its delete marker
    manifest = run["manifest_key"]
    code, doc = ossbatch(
        data_dir, "copy", "start", "--inventory", f"oss://{archive.bucket_name}/{manifest}",
        "--source", f"oss://{archive.bucket_name}/invver/",
        "--dest", f"oss://{archive.bucket_name}/invver-copy/", "--wait", "--json",
    )  # fmt: skip
    assert code == 0, doc
    assert (doc["done"], doc["skipped"], doc["failed"]) == (1, 0, 0), doc
    assert archive.head_object("invver-copy/invver/kept").content_length == len(b"v2-longer")
    assert not archive.object_exists("invver-copy/invver/gone")


@pytest.mark.slow
@pytest.mark.skipif(os.cpu_count() < 2, reason="20,000 objects through the flow need 2 cores")
def test_an_inventory_job_of_twenty_thousand_objects_in_four_shards(local):  # noqa: F811
    (fresh, seconds), (rerun, _) = inventory_job(*local, "inv20k/", 20_000, files=2, generated=True)
    print(f"inventory 20,000: fresh {fresh:.4f} req/obj in {seconds:.1f} s, re-run {rerun:.4f}")
    assert fresh <= 1.02 and rerun <= 0.01


def test_inventory_rows_of_old_versions_delete_markers_and_its_own_files_are_not_copied(local):  # noqa: F811
    data_dir, conn = local
    name = conn.buckets["sources"]
    sources = conn.oss_bucket(name)
    sources.put_object("invv/current", b"c")
    head = sources.head_object("invv/current")
    rows = [
        # an older version and a delete marker of keys that no longer exist: copying one would fail
        [name, "invv/old", "CAEQ1", "false", "false", "1"],
        [name, "invv/gone", "CAEQ2", "true", "true", ""],
        [name, "invv/current", "CAEQ3", "true", "false", str(head.content_length)],
        [name, "inventory-invv/src/daily/data/x.csv.gz", "", "true", "false", "9"],  # its own run
    ]
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    blob = gzip.compress(out.getvalue().encode())
    sources.put_object("inventory-invv/src/daily/data/x.csv.gz", blob)
    manifest = {
        "sourceBucket": name, "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size",
        "files": [{"key": "inventory-invv/src/daily/data/x.csv.gz", "size": len(blob),
                   "MD5checksum": hashlib.md5(blob).hexdigest()}],
    }  # fmt: skip
    sources.put_object(
        "inventory-invv/src/daily/2026-12-01T00-00Z/manifest.json", json.dumps(manifest)
    )
    code, doc = ossbatch(
        data_dir, "copy", "start",
        "--inventory", f"oss://{name}/inventory-invv/src/daily/2026-12-01T00-00Z/manifest.json",
        "--dest", f"oss://{conn.buckets['archive']}/", "--wait", "--json",
    )  # fmt: skip
    assert code == 0, doc
    assert (doc["done"], doc["skipped"], doc["failed"]) == (1, 0, 0), doc
    archive = conn.oss_bucket(conn.buckets["archive"])
    assert archive.head_object("invv/current").content_length == 1


def refused(data_dir, *args: str) -> str:
    """The one line a refused command prints (exit code 2, no traceback)."""
    result = runner.invoke(app, ["--data-dir", str(data_dir), *args])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and "Traceback" not in result.output, (
        result.output
    )
    return lines[0]


def test_inventory_mistakes_are_one_line_errors_before_anything_starts(local):  # noqa: F811
    data_dir, conn = local
    name, archive = conn.buckets["sources"], conn.buckets["archive"]
    sources = conn.oss_bucket(name)
    sources.put_object("inverr/k", b"k")
    good = write_inventory(sources, name, ["inverr/k"], 1, prefix="inventory-err")
    raw = sources.get_object(good).read()
    doc = json.loads(raw)

    def manifest_with(**change) -> str:
        key = f"inventory-err/{name}/bad{len(change)}{'-'.join(change)}/2026-12-01T00-00Z/manifest.json"
        sources.put_object(key, json.dumps({**doc, **change}))
        return f"oss://{name}/{key}"

    damaged = dict(doc["files"][0], MD5checksum="0" * 32)
    cases = {
        "does not exist": f"oss://{name}/inventory-err/none/manifest.json",
        "fileFormat 'ORC'": manifest_with(fileFormat="ORC"),
        "no Key in fileSchema": manifest_with(fileSchema="Bucket, Size"),
        f"{doc['files'][0]['key']} has MD5": manifest_with(files=[damaged]),
    }
    before = counters(conn)
    for message, url in cases.items():
        line = refused(
            data_dir, "copy", "start", "--inventory", url, "--dest", f"oss://{archive}/e/"
        )
        assert message in line, (message, line)
    line = refused(
        data_dir, "copy", "start", "--inventory", f"oss://{name}/{good}",
        "--source", f"oss://{archive}/x/", "--dest", f"oss://{archive}/e/",
    )  # fmt: skip
    assert f"lists bucket {name!r} but --source names bucket {archive!r}" in line
    line = refused(
        data_dir, "copy", "start", "--inventory", f"oss://{name}/{good}",
        "--index", f"oss://{name}/i.csv", "--dest", f"oss://{archive}/e/",
    )  # fmt: skip
    assert "--inventory and --index" in line
    line = refused(
        data_dir, "copy", "start", "--inventory", f"oss://{name}/{good}",
        "--dest", f"oss://{name}/inventory-err/",
    )  # fmt: skip
    assert "could overwrite its own inventory" in line
    line = refused(
        data_dir, "copy", "start", "--inventory", f"oss://{conn.buckets['packages']}/i/manifest.json",
        "--dest", f"oss://{archive}/e/",
    )  # fmt: skip
    assert "functions may read only" in line and conn.buckets["packages"] in line
    written = {
        k: v for k, v in counters(conn).items() if k.startswith(("Put", "Copy", "Delete", "Post"))
    }
    assert written == {k: v for k, v in before.items() if k in written}, "nothing may be written"


def test_an_inventory_dry_run_counts_from_the_rows_and_writes_nothing(local):  # noqa: F811
    data_dir, conn = local
    name = conn.buckets["sources"]
    sources = conn.oss_bucket(name)
    keys = [f"invdry/{i:03d}.dat" for i in range(30)]
    put_many(sources, keys)
    manifest = write_inventory(sources, name, keys, 2, prefix="inventory-dry")
    before = counters(conn)
    code, doc = ossbatch(
        data_dir, "copy", "start", "--inventory", f"oss://{name}/{manifest}",
        "--dest", f"oss://{conn.buckets['archive']}/invdry/", "--exclude", "*/00*",
        "--dry-run", "--json",
    )  # fmt: skip
    assert code == 0, doc
    assert (
        doc["method"] == "whole inventory"
        and doc["objects"] == 20
        and doc["filtered"] == {"key": 10}
    )
    after = counters(conn)
    assert not [
        k for k in after if k.startswith(("Put", "Copy", "Delete")) and after[k] != before.get(k, 0)
    ]


def test_a_restore_job_from_an_inventory_makes_every_archived_object_readable(local):  # noqa: F811
    data_dir, conn = local
    archive = conn.oss_bucket(conn.buckets["archive"])
    keys = [f"invrest/{i:03d}{'-é' if i % 7 == 0 else ''}" for i in range(60)]
    with ThreadPoolExecutor(16) as pool:
        list(
            pool.map(
                lambda k: archive.put_object(
                    k, k.encode(), headers={"x-oss-storage-class": "Archive"}
                ),
                keys,
            )
        )
    archive.put_object("invrest/standard", b"s", headers={"x-oss-storage-class": "Standard"})
    run = localcloud_inventory(conn, archive, "invrest/", 25)
    assert (run["rows"], len(run["files"])) == (61, 3), run
    code, doc = ossbatch(
        data_dir, "restore", "start", "--inventory", f"oss://{archive.bucket_name}/{run['manifest_key']}",
        "--source", f"oss://{archive.bucket_name}/invrest/", "--concurrency", "3",
        "--only-class", "Archive", "--wait", "--json",
    )  # fmt: skip
    assert code == 0, doc
    assert doc["state"] == "succeeded" and doc["failed"] == 0, doc
    assert (doc["done"], doc["skipped"]) == (60, 1), doc  # the Standard one, by its row's class
    for key in (keys[0], keys[33], keys[59]):
        assert archive.get_object(key).read() == key.encode()


def test_filters_on_an_inventory_job_read_the_rows_and_head_nothing(local):  # noqa: F811
    data_dir, conn = local
    name = conn.buckets["sources"]
    sources = conn.oss_bucket(name)
    sources.put_object("invflt/a.dat", b"12345")
    sources.put_object("invflt/b.dat", b"1")
    sources.put_object("invflt/c.log", b"12345")
    sources.put_object("invflt/d.dat", b"12345", headers={"x-oss-storage-class": "IA"})
    run = localcloud_inventory(conn, sources, "invflt/", 10)
    before = counters(conn)
    code, doc = ossbatch(
        data_dir, "copy", "start", "--inventory", f"oss://{name}/{run['manifest_key']}",
        "--dest", f"oss://{conn.buckets['archive']}/flt/", "--include", "*.dat",
        "--min-size", "2", "--only-class", "Standard", "--wait", "--json",
    )  # fmt: skip
    assert code == 0, doc
    assert (doc["done"], doc["skipped"]) == (1, 3), doc  # a.dat; b small, c.log, d IA
    after = counters(conn)
    assert after.get("HeadObject", 0) == before.get("HeadObject", 0)  # the rows said it all
    archive = conn.oss_bucket(conn.buckets["archive"])
    assert archive.head_object("flt/invflt/a.dat").content_length == 5
