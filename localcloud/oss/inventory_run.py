"""Run a bucket inventory now (admin control): gzipped CSV data files, manifest.json and
manifest.checksum written into the destination bucket in OSS's layout (docs/localcloud.md
"Bucket inventory" states each format rule and the doc page it comes from)."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

from . import tagging
from .checksums import crc64
from .inventory_config import OPTIONAL_FIELDS, InventoryConfig, InventoryFilter, NoSuchInventory
from .objects import SSE_HEADER
from .storage import ObjectRecord

DEFAULT_ROWS_PER_FILE = 1_000_000
OSS_SERVICE = "oss.aliyuncs.com"  # the principal a RAM role trusts so OSS may assume it
MANIFEST_VERSION = "2019-09-01"
_PAGE = 1000


class InventoryRunError(Exception):
    """Why an inventory could not be written; `status` is the admin answer's HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class InventoryRow:
    rec: ObjectRecord
    latest: bool


def _key_text(key: str) -> str:
    # "The object name is URL-encoded": every byte outside A-Z a-z 0-9 - _ . ~ as %XX (UTF-8)
    return quote(key, safe="")


def _time(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _field(rec: ObjectRecord, name: str) -> str:
    if rec.delete_marker:
        return ""  # a delete marker has no size, class, ETag...
    if name == "Size":
        return str(rec.size)
    if name == "StorageClass":
        return rec.storage_class
    if name == "LastModifiedDate":
        return _time(rec.last_modified)
    if name == "ETag":
        return rec.etag
    if name == "IsMultipartUploaded":
        return _bool(rec.object_type == "Multipart")
    if name == "EncryptionStatus":
        return _bool(bool(rec.meta.get(SSE_HEADER)))
    if name == "TransitionTime":
        return ""  # no lifecycle rules here: never transitioned
    if name == "ObjectAcl":
        return rec.meta.get(":acl", "default")
    if name == "TaggingCount":
        return str(len(tagging.of(rec.meta)))
    if name == "ObjectType":
        return rec.object_type
    raise ValueError(f"unknown inventory field {name!r}")


def file_schema(config: InventoryConfig, versioned: bool) -> list[str]:
    """The CSV columns, left to right: Bucket, Key, [VersionId, IsLatest, IsDeleteMarker],
    then the configured optional fields in the documented order."""
    columns = ["Bucket", "Key"]
    if versioned:
        columns += ["VersionId", "IsLatest", "IsDeleteMarker"]
    return columns + [f for f in OPTIONAL_FIELDS if f in config.optional_fields]


def _matches(f: InventoryFilter, rec: ObjectRecord, classes) -> bool:
    if f.last_modify_begin is not None and rec.last_modified < f.last_modify_begin:
        return False
    if f.last_modify_end is not None and rec.last_modified > f.last_modify_end:
        return False
    if rec.delete_marker:
        return True  # size and class filters do not apply to a marker
    if f.lower_size is not None and rec.size < f.lower_size:
        return False
    if f.upper_size is not None and rec.size > f.upper_size:
        return False
    return classes is None or rec.storage_class in classes


def _entries(storage, bucket: str, prefix: str, versioned: bool) -> Iterator[InventoryRow]:
    """Current objects by key, or every version (newest first) with versioned."""
    if not versioned:
        after = ""
        while True:
            page = storage.scan_objects(bucket, after, prefix, _PAGE)
            yield from (InventoryRow(rec, True) for rec in page)
            if len(page) < _PAGE:
                return
            after = page[-1].key
    key, seq = "", None
    while True:
        page = storage.scan_versions(bucket, prefix, key, seq, _PAGE)
        yield from (InventoryRow(rec, latest) for rec, latest in page)
        if len(page) < _PAGE:
            return
        key, seq = page[-1][0].key, page[-1][0].seq


def _csv_row(bucket: str, row: InventoryRow, schema: list[str]) -> list[str]:
    rec = row.rec
    values = {
        "Bucket": bucket,
        "Key": _key_text(rec.key),
        "VersionId": rec.version_id or "null",
        "IsLatest": _bool(row.latest),
        "IsDeleteMarker": _bool(rec.delete_marker),
    }
    return [values[c] if c in values else _field(rec, c) for c in schema]


def _data_files(rows: Iterator[list[str]], rows_per_file: int) -> Iterator[tuple[bytes, int]]:
    """(gzipped CSV, row count) of at most rows_per_file rows each (every field quoted, no
    header line: the columns are the manifest's fileSchema)."""
    buf, count = io.StringIO(), 0
    writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
        count += 1
        if count == rows_per_file:
            yield gzip.compress(buf.getvalue().encode(), mtime=0), count
            buf.seek(0)
            buf.truncate()
            count = 0
    if count:
        yield gzip.compress(buf.getvalue().encode(), mtime=0), count


def inventory_root(config: InventoryConfig, source: str) -> str:
    """<destination prefix>/<source bucket>/<inventory id> (no prefix: that level is omitted)."""
    prefix = config.destination.prefix.strip("/")
    return "/".join(p for p in (prefix, source, config.id) if p)


def load(svc, bucket: str, inventory_id: str) -> InventoryConfig:
    doc = svc.storage.get_inventory(bucket, inventory_id)
    if doc is None:
        raise NoSuchInventory(f"Bucket {bucket!r} has no inventory configuration {inventory_id!r}.")
    return InventoryConfig.from_json(doc)


def _role_denial(svc, config: InventoryConfig, source: str, keys: list[str]) -> str | None:
    """Why OSS could not write these keys through the configured role, or None.

    PutBucketInventory: "you must create a RAM role. This role requires permissions to read all
    objects from the source bucket and write objects to the destination bucket."
    """
    ram = getattr(svc, "ram", None)
    if ram is None:
        return None
    from localcloud.ram.oss_access import object_arn
    from localcloud.ram.sessions import AssumeRoleError

    try:
        session = ram.sessions.assume_role(config.destination.role_arn, OSS_SERVICE)
    except AssumeRoleError as exc:
        return f"OSS cannot assume the inventory's RoleArn: {exc}"
    needs = [("oss:ListObjects", f"acs:oss:*:{svc.account_id}:{source}")]
    needs += [
        ("oss:PutObject", object_arn(svc.account_id, config.destination.bucket, k)) for k in keys
    ]
    denial = ram.sessions.check(session, needs)
    return denial.describe(session) if denial else None


def _put(svc, config: InventoryConfig, key: str, body: bytes, content_type: str) -> None:
    temp = svc.storage.new_temp_path()
    temp.write_bytes(body)
    etag = hashlib.md5(body).hexdigest().upper()
    # Encryption SSE-OSS: the inventory files are stored encrypted (x-oss-server-side-encryption)
    meta = {SSE_HEADER: "AES256"} if config.destination.encryption == "SSE-OSS" else {}
    svc.objects.commit(
        config.destination.bucket, key, temp, len(body), etag, crc64(body), content_type, meta,
        "Standard", svc.next_request_id(),
    )  # fmt: skip


@dataclass(frozen=True)
class InventoryPlan:
    """Everything one run writes, known before the first byte is written."""

    data: list[tuple[str, bytes]]  # (key, gzipped CSV)
    rows: int
    manifest_key: str
    checksum_key: str
    manifest: dict


def _check_run(svc, bucket: str, inventory_id: str, rows_per_file) -> InventoryConfig:
    if not isinstance(rows_per_file, int) or isinstance(rows_per_file, bool) or rows_per_file < 1:
        raise InventoryRunError(
            400, f"rows_per_file must be a positive integer, got {rows_per_file!r}"
        )
    svc.buckets.get(bucket)
    config = load(svc, bucket, inventory_id)
    if not config.enabled:
        # GetBucketInventory: "false indicates that no inventory list is generated"
        raise InventoryRunError(
            409, f"inventory {inventory_id!r} of bucket {bucket!r} has IsEnabled false: enable it"
        )
    if config.destination.encryption == "SSE-KMS":
        raise InventoryRunError(
            501,
            f"inventory {inventory_id!r} asks for SSE-KMS files: localcloud has no KMS keys (its KMS serves secrets only)",
        )
    svc.buckets.get(config.destination.bucket)
    return config


def plan(svc, bucket: str, config: InventoryConfig, rows_per_file: int) -> InventoryPlan | None:
    """The data files and manifest of an inventory of `bucket` now; None when nothing matches."""
    started = time.time()
    versioned = config.included_versions == "All" and bool(svc.buckets.get(bucket).versioning)
    schema = file_schema(config, versioned)
    classes = config.filter.classes()
    rows = (
        _csv_row(bucket, row, schema)
        for row in _entries(svc.storage, bucket, config.filter.prefix, versioned)
        if _matches(config.filter, row.rec, classes)
    )
    chunks = list(_data_files(rows, rows_per_file))
    if not chunks:
        return None
    root, name = inventory_root(config, bucket), uuid.uuid4()
    data = [
        (f"{root}/data/{name}{'' if i == 0 else f'-{i}'}.csv.gz", body)
        for i, (body, _) in enumerate(chunks)
    ]
    stamp = time.strftime("%Y-%m-%dT%H-%MZ", time.gmtime(started))
    files = [
        {"key": key, "size": len(body), "MD5checksum": hashlib.md5(body).hexdigest().upper()}
        for key, body in data
    ]
    manifest = {
        "creationTimestamp": str(int(started)),
        "destinationBucket": config.destination.bucket,
        "fileFormat": "CSV",
        "fileSchema": ", ".join(schema),
        "files": files,
        "sourceBucket": bucket,
        "version": MANIFEST_VERSION,
    }
    folder = f"{root}/{stamp}"
    rows_total = sum(n for _, n in chunks)
    return InventoryPlan(
        data, rows_total, f"{folder}/manifest.json", f"{folder}/manifest.checksum", manifest
    )


def run(svc, bucket: str, inventory_id: str, rows_per_file: int | None = None) -> dict:
    """Write one inventory of `bucket` now; answers what was written (nothing when no object
    matches: "If no objects ... apply to the prefix ..., inventory lists are not generated").

    The data files go first and the manifest last, so a manifest always names files that exist.
    """
    if rows_per_file is None:
        rows_per_file = DEFAULT_ROWS_PER_FILE
    config = _check_run(svc, bucket, inventory_id, rows_per_file)
    work = plan(svc, bucket, config, rows_per_file)
    if work is None:
        return {"written": False, "reason": "no object matches the inventory's filter", "files": []}
    keys = [key for key, _ in work.data] + [work.manifest_key, work.checksum_key]
    denial = _role_denial(svc, config, bucket, keys)
    if denial:
        raise InventoryRunError(403, f"inventory {inventory_id!r} of bucket {bucket!r}: {denial}")
    for key, body in work.data:
        _put(svc, config, key, body, "application/x-gzip")
    manifest_body = json.dumps(work.manifest, indent=4).encode()
    _put(svc, config, work.manifest_key, manifest_body, "application/json")
    checksum = hashlib.md5(manifest_body).hexdigest().upper().encode()
    _put(svc, config, work.checksum_key, checksum, "text/plain")
    return {
        "written": True,
        "destination_bucket": config.destination.bucket,
        "manifest_key": work.manifest_key,
        "checksum_key": work.checksum_key,
        "files": work.manifest["files"],
        "rows": work.rows,
    }
