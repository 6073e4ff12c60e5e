"""Planning a job over an OSS bucket inventory (--inventory oss://bucket/.../manifest.json).

Before the job starts: read the manifest (and check it against manifest.checksum), check
every data file it names (one ranged GET of its last 4 bytes: it exists, has the size and
MD5 the manifest says, and its gzip trailer tells its decompressed size), then cut the
concatenated decompressed CSVs into up to ``count`` shards of about equal bytes. A cut may
fall inside a file; a row belongs to the shard where its first byte lies (handlers/inventory.py).
Cost: 2 + (number of data files) GETs, and 1 for the row sample of the object total.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass

from handlers.inventory import (
    InventoryError,
    InventoryFile,
    InventoryManifest,
    InventoryRowError,
    csv_lines,
    inventory_root,
    parse_manifest,
    parse_row,
)
from handlers.shards import InventoryRange
from ossbatch.cloud import ConfigError, Connection
from ossbatch.retrying import call

# a compressed CSV of object rows inflates about 5-10x; a gzip trailer names the size mod 4 GiB
FALLBACK_RATIO = 8
MIN_SHARD_BYTES = 64 * 1024
SAMPLE_BYTES = 256 * 1024  # compressed bytes of the first data file read for the object total


@dataclass(frozen=True)
class InventoryPlan:
    bucket: str
    manifest_key: str
    manifest_etag: str
    manifest: InventoryManifest
    inflated: tuple[int, ...]  # estimated decompressed bytes per data file
    ranges: tuple[InventoryRange, ...]

    @property
    def rows_estimate_bytes(self) -> int:
        return sum(self.inflated)


def read_manifest(conn: Connection, bucket: str, key: str) -> tuple[InventoryManifest, str]:
    """(manifest, its ETag); a one-line ConfigError when it is missing or not OSS's format."""
    import oss2

    where = f"oss://{bucket}/{key}"
    oss = conn.oss_bucket(bucket)
    try:
        result = call(oss.get_object, key)
        raw, etag = result.read(), (result.etag or "").strip('"')
    except oss2.exceptions.NoSuchBucket:
        raise ConfigError(f"--inventory {where}: bucket {bucket!r} does not exist") from None
    except oss2.exceptions.NotFound:
        raise ConfigError(
            f"--inventory {where} does not exist; give the manifest.json of an inventory run "
            "(<prefix>/<source bucket>/<inventory id>/<YYYY-MM-DDTHH-MMZ>/manifest.json)"
        ) from None
    try:
        manifest = parse_manifest(raw, where)
    except InventoryError as exc:
        raise ConfigError(str(exc)) from None
    _check_checksum(oss, key, raw, where)
    return manifest, etag


def _check_checksum(oss, key: str, raw: bytes, where: str) -> None:
    """manifest.checksum (the MD5 of manifest.json) must agree when it is there."""
    import oss2

    checksum_key = (
        key.rsplit("/", 1)[0] + "/manifest.checksum" if "/" in key else "manifest.checksum"
    )
    try:
        expected = call(oss.get_object, checksum_key).read().decode("ascii", "replace").strip()
    except oss2.exceptions.NotFound:
        return
    actual = hashlib.md5(raw, usedforsecurity=False).hexdigest()
    if expected.upper() != actual.upper():
        raise ConfigError(
            f"--inventory {where}: its MD5 is {actual.upper()} but manifest.checksum says "
            f"{expected.upper()}; the manifest was damaged or replaced"
        )


def probe_file(conn: Connection, bucket: str, data_file: InventoryFile) -> int:
    """The file's estimated decompressed size, after checking it against the manifest."""
    import oss2

    where = f"oss://{bucket}/{data_file.key}"
    if data_file.size < 18:  # the smallest gzip member: 10 header + 2 deflate + 8 trailer bytes
        raise ConfigError(f"inventory data file {where} is {data_file.size} bytes: not gzip")
    try:
        result = call(conn.oss_bucket(bucket).get_object, data_file.key, byte_range=(None, 4))
        tail = result.read()
    except oss2.exceptions.NotFound:
        raise ConfigError(
            f"inventory data file {where} named in the manifest does not exist; regenerate "
            "the inventory"
        ) from None
    size = _total_size(result.headers.get("Content-Range"), len(tail))
    if size != data_file.size:
        raise ConfigError(
            f"inventory data file {where} is {size} bytes but the manifest says "
            f"{data_file.size}; the file was replaced: regenerate the inventory"
        )
    etag = (result.etag or "").strip('"').upper()
    if "-" not in etag and etag != data_file.md5.upper():
        raise ConfigError(
            f"inventory data file {where} has MD5 {etag} but the manifest says "
            f"{data_file.md5.upper()}: the file was damaged or replaced; regenerate the inventory"
        )
    isize = int.from_bytes(tail[-4:], "little")
    return isize if isize >= data_file.size else data_file.size * FALLBACK_RATIO


def _total_size(content_range: str | None, got: int) -> int:
    # "bytes 96-99/100"; without the header the object was shorter than the range
    if content_range and "/" in content_range:
        return int(content_range.rsplit("/", 1)[1])
    return got


def split_ranges(inflated: list[int], count: int) -> list[InventoryRange]:
    """Up to ``count`` ranges over the files' concatenated (estimated) decompressed bytes;
    together they cover every position exactly once, whatever the estimates."""
    files = len(inflated)
    if files == 0:
        return [InventoryRange(file=0, offset=0, end_file=0, end=None)]
    total = sum(inflated)
    count = max(1, min(count, total // MIN_SHARD_BYTES or 1))
    starts = [(0, 0)]
    for k in range(1, count):
        position = _position(inflated, total * k // count)
        if position > starts[-1]:
            starts.append(position)
    ranges = []
    for n, (file, offset) in enumerate(starts):
        if n + 1 < len(starts):
            next_file, next_offset = starts[n + 1]
            end_file, end = (next_file - 1, None) if next_offset == 0 else (next_file, next_offset)
        else:
            end_file, end = files - 1, None
        ranges.append(InventoryRange(file=file, offset=offset, end_file=end_file, end=end))
    return ranges


def _position(inflated: list[int], cut: int) -> tuple[int, int]:
    """(file, offset) of the cut-th byte of the concatenation (the start of a file at a seam)."""
    for number, size in enumerate(inflated):
        if cut < size:
            return number, cut
        cut -= size
    return len(inflated) - 1, inflated[-1]


def plan(conn: Connection, bucket: str, manifest_key: str, count: int) -> InventoryPlan:
    manifest, etag = read_manifest(conn, bucket, manifest_key)
    inflated = [probe_file(conn, bucket, data_file) for data_file in manifest.files]
    return InventoryPlan(
        bucket, manifest_key, etag, manifest, tuple(inflated), tuple(split_ranges(inflated, count))
    )


@dataclass(frozen=True)
class RowSample:
    rows: int  # the job's objects among the sampled rows (current, under the prefix)
    per_byte: float  # of those per decompressed byte
    mean_size: float
    whole: bool  # the sample was the whole inventory: rows is the count
    per_compressed_byte: float = 0.0  # of those per byte of the data file as stored


def sample_rows(
    conn: Connection, plan: InventoryPlan, prefix: str, plus_is_space: bool
) -> RowSample:
    """The first data file's leading rows (one ranged GET): how many objects a byte holds."""
    files = plan.manifest.files
    if not files:
        return RowSample(0, 0.0, 0.0, True)
    first = files[0]
    read = min(first.size, SAMPLE_BYTES)
    raw = call(conn.oss_bucket(plan.bucket).get_object, first.key, byte_range=(0, read - 1)).read()
    try:
        data, ended = _inflate_members(raw)
    except zlib.error as exc:
        raise ConfigError(
            f"inventory data file oss://{plan.bucket}/{first.key} is not gzip ({exc})"
        ) from None
    whole = len(files) == 1 and read == first.size and ended
    complete = data if whole else data[: data.rfind(b"\n") + 1]
    rows, sizes = 0, 0
    own = inventory_root(plan.manifest_key)
    for line in csv_lines(iter([complete])):
        try:
            row = parse_row(
                line.raw, plan.manifest.fields, plan.manifest.source_bucket, plus_is_space
            )
        except InventoryRowError:
            continue
        own_file = bool(own) and row.bucket == plan.bucket and row.key.startswith(own)
        if row.current and row.key.startswith(prefix) and not own_file:
            rows, sizes = rows + 1, sizes + (row.size or 0)
    per_byte = rows / len(complete) if complete else 0.0
    # per compressed byte too: exact file sizes scale it, where a gzip trailer names only
    # its own member's size (a file of several members inflates to more than it says)
    per_compressed = rows / read if read else 0.0
    return RowSample(rows, per_byte, sizes / rows if rows else 0.0, whole, per_compressed)


def _inflate_members(raw: bytes) -> tuple[bytes, bool]:
    """(decompressed bytes of every gzip member in ``raw``, whether the last one ended)."""
    data, pending = b"", raw
    while pending:
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        data += inflate.decompress(pending)
        if not inflate.eof:
            return data, False
        pending = inflate.unused_data
    return data, True
