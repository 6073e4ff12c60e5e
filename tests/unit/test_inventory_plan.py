"""Planning an inventory job against localcloud: the document the CLI builds for an
inventory validates, fits CloudFlow's 64 KiB with 40 shards, and records an object total
from a sample of the rows (`jobs status` divides by it)."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import uuid
from urllib.parse import quote

import oss2
import pytest

from ossbatch import inventoryplan, jobdocs
from ossbatch.cloud import ConfigError, Connection
from ossbatch.jobdocs import CopyJob

MAX_DATA = 64 * 1024
SCHEMA = "Bucket, Key, Size, StorageClass"


def data_file(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    return gzip.compress(out.getvalue().encode(), mtime=0)


@pytest.fixture(scope="module")
def inventory(localcloud):
    auth = oss2.Auth(localcloud.access_key_id, localcloud.access_key_secret)
    name = f"t-{uuid.uuid4().hex[:20]}"
    bucket = oss2.Bucket(auth, localcloud.oss_endpoint, name)
    bucket.create_bucket(oss2.BUCKET_ACL_PRIVATE)
    conn = Connection(
        region="cn-hangzhou",
        account_id=localcloud.account_id,
        access_key_id=localcloud.access_key_id,
        access_key_secret=localcloud.access_key_secret,
        oss_endpoint=localcloud.oss_endpoint,
        buckets={"reports": name},
        flows={k: f"ossbatch-x-{k}" for k in ("copy", "restore", "unzip")},
        functions={k: f"ossbatch-x-{k}" for k in ("copy", "restore", "unzip")},
    )

    def write(run: str, files: list[list[list[str]]]) -> str:
        entries = []
        for n, rows in enumerate(files):
            blob = data_file(rows)
            key = f"inv/{name}/{run}/data/{n}.csv.gz"
            bucket.put_object(key, blob)
            md5 = hashlib.md5(blob).hexdigest().upper()
            entries.append({"key": key, "size": len(blob), "MD5checksum": md5})
        manifest = {
            "sourceBucket": name,
            "fileFormat": "CSV",
            "fileSchema": SCHEMA,
            "files": entries,
        }
        key = f"inv/{name}/{run}/2026-12-01T00-00Z/manifest.json"
        bucket.put_object(key, json.dumps(manifest))
        return key

    return conn, name, write


def rows(name: str, count: int, start: int = 0) -> list[list[str]]:
    return [
        [name, quote(f"obj/{i:08d}-{'x' * (i % 50)}", safe=""), str(i), "Standard"]
        for i in range(start, start + count)
    ]


def document(conn, name: str, manifest_key: str, shards: int = 40) -> dict:
    plan = inventoryplan.plan(conn, name, manifest_key, shards)
    return jobdocs.copy_document(
        conn, "copy-1", index=None, source=f"oss://{name}/", dest=f"oss://{name}-dst/",
        storage_class="Archive", concurrency=shards, page_budget_s=60, inventory=plan,
    )  # fmt: skip


def test_a_forty_shard_inventory_document_validates_fits_and_estimates_its_objects(inventory):
    conn, name, write = inventory
    files = [rows(name, 60_000), rows(name, 30_000, 60_000), rows(name, 10, 90_000)]
    doc = document(conn, name, write("big", files))
    job = CopyJob.model_validate(doc)
    assert len(job.shards) == 40 and len(json.dumps(doc).encode()) < MAX_DATA
    assert job.shards[0].shard.inventory.file == 0 and job.shards[-1].shard.inventory.end is None
    estimate = job.source_estimate
    assert estimate.made_by == "inventory sample" and not estimate.exact
    assert 0.85 * 90_010 <= estimate.objects <= 1.15 * 90_010, estimate


def test_a_small_inventory_is_counted_whole(inventory):
    conn, name, write = inventory
    doc = document(conn, name, write("small", [rows(name, 25)]), shards=4)
    estimate = CopyJob.model_validate(doc).source_estimate
    assert (estimate.objects, estimate.exact, estimate.method) == (25, True, "counted")


def test_a_data_file_missing_from_the_bucket_is_named_before_the_start(inventory):
    conn, name, write = inventory
    key = write("gone", [rows(name, 3)])
    conn.oss_bucket(name).delete_object(f"inv/{name}/gone/data/0.csv.gz")
    with pytest.raises(
        ConfigError, match=f"inv/{name}/gone/data/0.csv.gz named in the manifest does not exist"
    ):
        inventoryplan.plan(conn, name, key, 4)
