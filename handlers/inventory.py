"""OSS bucket inventory as a source: manifest.json and its gzipped CSV data files.

Format (https://www.alibabacloud.com/help/en/oss/user-guide/bucket-inventory):
- ``manifest.json``: ``sourceBucket``, ``destinationBucket``, ``fileFormat`` ("CSV"),
  ``fileSchema`` (the CSV columns, comma separated: "Bucket, Key, Size, ..."), ``files``
  (``key``, ``size``, ``MD5checksum`` of each gzip data file), ``creationTimestamp``,
  ``version``; ``manifest.checksum`` next to it holds the MD5 of manifest.json.
- data files: gzip-compressed CSV, one object per row, fields in ``fileSchema`` order,
  the Key URL-encoded (so a row never holds a raw newline, comma or quote of a key).

A position in an inventory is (file number in the manifest, byte offset in that file's
*decompressed* CSV). A row belongs to the shard in whose range its first byte lies, as
index lines do (handlers/index.py); gzip cannot be entered mid-stream, so a page always
decompresses its file from the start and skips the rows before its position.
"""

from __future__ import annotations

import csv
import hashlib
import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, unquote_plus

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import SystemicError
from .index import normalise_etag


class InventoryError(SystemicError):
    """An inventory the job cannot read as OSS writes it (manifest or data file): the page
    fails, since every later row is as unreadable."""


class InventoryRowError(ValueError):
    """One CSV row that does not fit the manifest's fileSchema."""


class _Lenient(BaseModel):
    # OSS may add manifest fields (it did: version 2019-09-01 added some); ignore the unknown
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class InventoryFile(_Lenient):
    key: str = Field(min_length=1)
    size: int = Field(ge=0)
    md5: str = Field(alias="MD5checksum", min_length=32, max_length=32)


class InventoryManifest(_Lenient):
    source_bucket: str = Field(alias="sourceBucket", min_length=3)
    destination_bucket: str | None = Field(None, alias="destinationBucket")
    file_format: str = Field(alias="fileFormat")
    file_schema: str = Field(alias="fileSchema")
    files: list[InventoryFile]
    creation_timestamp: str | int | None = Field(None, alias="creationTimestamp")
    version: str | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        return schema_fields(self.file_schema)


def inventory_root(manifest_key: str) -> str | None:
    """<prefix>/<source bucket>/<inventory id>/ of .../<inventory id>/<time>/manifest.json:
    every run's manifest and data/ files lie under it (bucket-inventory docs); None when the
    key is too short to be OSS's layout."""
    parts = manifest_key.split("/")
    return "/".join(parts[:-2]) + "/" if len(parts) >= 3 and all(parts[:-2]) else None


def schema_fields(file_schema: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in file_schema.split(","))


def parse_manifest(raw: bytes, where: str) -> InventoryManifest:
    """manifest.json -> InventoryManifest; InventoryError names the manifest and the problem."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InventoryError(f"inventory manifest {where} is not JSON ({exc})") from None
    try:
        manifest = InventoryManifest.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(document)"
        raise InventoryError(
            f"inventory manifest {where} is not an OSS inventory manifest: {field}: {first['msg']}"
        ) from None
    if manifest.file_format.upper() != "CSV":
        raise InventoryError(
            f"inventory manifest {where} has fileFormat {manifest.file_format!r}; only CSV "
            "inventories can be read (configure the inventory with Format CSV)"
        )
    fields = manifest.fields
    if "Key" not in fields:
        raise InventoryError(
            f"inventory manifest {where} has no Key in fileSchema {manifest.file_schema!r}"
        )
    if len(set(fields)) != len(fields) or "" in fields:
        raise InventoryError(
            f"inventory manifest {where} has a blank or repeated column in fileSchema "
            f"{manifest.file_schema!r}"
        )
    return manifest


# --- rows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class InventoryRow:
    bucket: str
    key: str
    version_id: str | None = None
    is_latest: bool = True
    is_delete_marker: bool = False
    size: int | None = None
    storage_class: str | None = None
    last_modified: float | None = None  # epoch seconds
    etag: str | None = None

    @property
    def current(self) -> bool:
        """The object as a listing sees it: the latest version and not a delete marker."""
        return self.is_latest and not self.is_delete_marker


def decode_key(text: str, plus_is_space: bool = False) -> str:
    """An inventory Key: percent-decoded UTF-8 (RFC 3986: '+' is a plus); ``plus_is_space``
    reads the form encoding (application/x-www-form-urlencoded: '+' is a space)."""
    decode = unquote_plus if plus_is_space else unquote
    try:
        key = decode(text, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise InventoryRowError(f"Key {text!r} does not decode to UTF-8 ({exc.reason})") from None
    if not key:
        raise InventoryRowError("the Key field is empty")
    return key


def parse_row(
    raw: bytes, fields: tuple[str, ...], default_bucket: str, plus_is_space: bool = False
) -> InventoryRow:
    """One data-file row -> InventoryRow; InventoryRowError says which field is wrong."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InventoryRowError(f"row is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        values = next(csv.reader([text], strict=True))
    except (csv.Error, StopIteration) as exc:
        raise InventoryRowError(f"row is not CSV: {exc}") from None
    if len(values) != len(fields):
        raise InventoryRowError(
            f"row has {len(values)} fields, fileSchema names {len(fields)} ({', '.join(fields)})"
        )
    row = dict(zip(fields, values, strict=True))
    return InventoryRow(
        bucket=row.get("Bucket") or default_bucket,
        key=decode_key(row["Key"], plus_is_space),
        version_id=row.get("VersionId") or None,
        is_latest=_flag(row, "IsLatest", True),
        is_delete_marker=_flag(row, "IsDeleteMarker", False),
        size=_size(row.get("Size")),
        storage_class=row.get("StorageClass") or None,
        last_modified=_timestamp(row.get("LastModifiedDate")),
        etag=normalise_etag(row.get("ETag") or None),
    )


def _flag(row: dict, name: str, default: bool) -> bool:
    value = row.get(name)
    if value is None or value == "":
        return default
    if value.lower() not in ("true", "false"):
        raise InventoryRowError(f"{name} {value!r} is neither true nor false")
    return value.lower() == "true"


def _size(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise InventoryRowError(f"Size {value!r} is not a whole number of bytes")
    return int(value)


def _timestamp(value: str | None) -> float | None:
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InventoryRowError(f"LastModifiedDate {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise InventoryRowError(f"LastModifiedDate {value!r} names no time zone (OSS writes Z)")
    return moment.timestamp()


# --- gzip data files ---------------------------------------------------------------------


@dataclass(frozen=True)
class CsvLine:
    offset: int  # first byte of the row in the decompressed CSV
    next_offset: int  # first byte of the next row
    raw: bytes  # without the terminator (and a CR before it)
    last: bool  # no row follows in this file


def gunzip(chunks: Iterator[bytes], where: str, md5: str | None = None) -> Iterator[bytes]:
    """Decompressed bytes of a (multi-member) gzip stream; at its end the MD5 of the
    compressed bytes must be ``md5`` when given, and the stream must be complete."""
    digest = hashlib.md5(usedforsecurity=False)
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    fed = False  # the current member has begun
    for chunk in chunks:
        digest.update(chunk)
        pending = chunk
        while pending:
            fed = True
            try:
                out = inflate.decompress(pending)
            except zlib.error as exc:
                raise InventoryError(f"inventory data file {where} is not gzip ({exc})") from None
            if out:
                yield out
            if not inflate.eof:
                break
            pending = inflate.unused_data  # a further gzip member follows
            inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            fed = False
    if fed or not inflate.eof and digest.hexdigest() == _EMPTY_MD5:
        raise InventoryError(
            f"inventory data file {where} ends inside its gzip stream (truncated or empty)"
        )
    if md5 is not None and digest.hexdigest().upper() != md5.upper():
        raise InventoryError(
            f"inventory data file {where} has MD5 {digest.hexdigest().upper()} but the manifest "
            f"says {md5.upper()}: the file was damaged or replaced; regenerate the inventory"
        )


_EMPTY_MD5 = hashlib.md5(b"", usedforsecurity=False).hexdigest()


def csv_lines(data: Iterator[bytes], start: int = 0, end: int | None = None) -> Iterator[CsvLine]:
    """Rows whose first byte lies in [start, end) of the decompressed CSV (end None: to the
    end), with one row of look-ahead so the last row of the file says so."""
    held: CsvLine | None = None
    buf, base = b"", 0  # buf holds decompressed bytes from offset base on
    skipping = start > 0  # until the newline that ends the row holding byte start - 1
    for piece in data:
        buf += piece
        cut = 0
        if skipping:
            cut = _skip_to(buf, base, start)
            if cut < 0:  # no row of ours begins in these bytes
                buf, base = b"", base + len(buf)
                continue
            skipping = False
        while True:
            nl = buf.find(b"\n", cut)
            if nl < 0:
                break
            line = _line(base + cut, base + nl + 1, buf[cut:nl])
            cut = nl + 1
            if held is not None:
                yield held
                held = None
            if end is not None and line.offset >= end:
                return
            if line.offset >= start:
                held = line
        buf, base = buf[cut:], base + cut
    if buf:
        line = _line(base, base + len(buf), buf)
        if held is not None:
            yield held
            held = None
        if line.offset >= start and (end is None or line.offset < end):
            held = line
    if held is not None:
        yield CsvLine(held.offset, held.next_offset, held.raw, True)


def _skip_to(buf: bytes, base: int, start: int) -> int:
    """Just after the first newline at or past byte ``start - 1`` in ``buf`` (decompressed
    bytes from ``base`` on; no newline lies between ``start - 1`` and ``base``), or -1:
    rows that begin before the start are never built."""
    at = max(0, start - 1 - base)
    nl = buf.find(b"\n", at) if at < len(buf) else -1
    return -1 if nl < 0 else nl + 1


def _line(offset: int, next_offset: int, raw: bytes) -> CsvLine:
    return CsvLine(offset, next_offset, raw[:-1] if raw.endswith(b"\r") else raw, False)


def range_lines(
    open_file: Callable[[int], Iterator[bytes]],
    file_count: int,
    file: int,
    offset: int,
    end_file: int,
    end: int | None,
) -> Iterator[tuple[int, CsvLine]]:
    """(file number, row) of the range [(file, offset), (end_file, end)) over ``file_count``
    files; ``open_file(n)`` gives file n's decompressed bytes."""
    for number in range(file, min(end_file, file_count - 1) + 1):
        start = offset if number == file else 0
        stop = end if number == end_file else None
        for line in csv_lines(open_file(number), start, stop):
            yield number, line
