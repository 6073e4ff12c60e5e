"""Index objects read by ranged GETs: line paging with exactly-once ownership.

A line belongs to the page (shard) in which its first byte lies. Pages may start or
end anywhere; a page starting mid-line skips to the next line start, and the last
line of a page is read past the page end until its newline (or the object's end).
JSON Lines (``{"key": ..., "bucket"?, "size"?, "etag"?, "version_id"?}``) and the CSV
``bucket,key[,versionId]`` manifest form (URL-encoded keys, as in S3 Batch Operations'
manifests) are accepted.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import unquote

BOM = b"\xef\xbb\xbf"

# fetch(start, end_exclusive) -> bytes of the object in that range
Fetch = Callable[[int, int], bytes]


@dataclass(frozen=True)
class IndexLine:
    offset: int  # first byte of the line in the index object
    next_offset: int  # first byte of the next line (or the object size)
    raw: bytes  # the line without its terminator, CR or a leading BOM


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str
    size: int | None = None
    etag: str | None = None
    version_id: str | None = None  # a named version of a versioned bucket; None = current


class IndexChanged(RuntimeError):
    """The index object no longer has the size the page was planned with."""


class IndexLineError(ValueError):
    """A line that is neither valid JSONL nor a `bucket,key` CSV row."""


class IndexPage:
    """Lines of ``[start, end)`` of an index object of ``size`` bytes, fetched in chunks."""

    def __init__(
        self,
        fetch: Fetch,
        size: int,
        start: int = 0,
        end: int | None = None,
        *,
        chunk_size: int = 1024 * 1024,
    ):
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        self.fetch = fetch
        self.size = size
        self.start = start
        self.end = size if end is None else min(end, size)
        self.chunk_size = chunk_size
        self.bytes_read = 0
        self._buf = b""
        self._buf_start = 0

    def _ensure(self, upto: int) -> bool:
        """Make the buffer cover [.., upto); False if the object ends first."""
        while self._buf_start + len(self._buf) < upto:
            have = self._buf_start + len(self._buf)
            if have >= self.size:
                return False
            data = self.fetch(have, min(self.size, have + self.chunk_size))
            if not data:
                return False
            self.bytes_read += len(data)
            self._buf += data
        return True

    def _find_newline(self, pos: int) -> int:
        """Offset of the first b'\\n' at or after ``pos``; -1 if none before the object's end."""
        while True:
            idx = self._buf.find(b"\n", pos - self._buf_start)
            if idx >= 0:
                return self._buf_start + idx
            if not self._ensure(self._buf_start + len(self._buf) + 1):
                return -1

    def _drop_before(self, pos: int) -> None:
        cut = pos - self._buf_start
        # only once half the buffer is consumed: cutting per line would copy the rest of a
        # 1 MiB chunk for every ~50-byte line (~25 µs a line, quadratic in the chunk size)
        if cut > 0 and 2 * cut >= len(self._buf):
            self._buf = self._buf[cut:]
            self._buf_start = pos

    def _first_line_start(self) -> int | None:
        if self.start == 0:
            return 0
        # the byte before the page tells whether the page starts on a line boundary
        self._buf_start = self.start - 1
        if not self._ensure(self.start):
            return None
        if self._buf[0:1] == b"\n":
            return self.start
        nl = self._find_newline(self.start)
        return None if nl < 0 else nl + 1

    def __iter__(self) -> Iterator[IndexLine]:
        if self.start >= self.end:
            return
        line_start = self._first_line_start()
        if line_start is None:
            return
        if self._buf_start + len(self._buf) <= line_start:
            self._buf, self._buf_start = b"", line_start
        while line_start < self.end:
            self._drop_before(line_start)
            if not self._ensure(line_start + 1):
                return
            nl = self._find_newline(line_start)
            stop = self.size if nl < 0 else nl
            next_offset = self.size if nl < 0 else nl + 1
            raw = self._buf[line_start - self._buf_start : stop - self._buf_start]
            if line_start == 0 and raw.startswith(BOM):
                raw = raw[len(BOM) :]
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            yield IndexLine(line_start, next_offset, raw)
            line_start = next_offset


def parse_line(raw: bytes, *, fmt: str = "auto", default_bucket: str) -> ObjectRef | None:
    """One index line -> ObjectRef; None for a blank line; IndexLineError when malformed."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IndexLineError(f"line is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    text = text.strip()
    if not text:
        return None
    if fmt == "jsonl" or (fmt == "auto" and text.startswith("{")):
        return _parse_jsonl(text, default_bucket)
    return _parse_csv(text)


def _parse_jsonl(text: str, default_bucket: str) -> ObjectRef:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IndexLineError(f"invalid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(doc, dict):
        raise IndexLineError("a JSONL index line must be an object with a 'key'")
    key = doc.get("key")
    if not isinstance(key, str) or not key:
        raise IndexLineError("JSONL line has no string 'key'")
    bucket = doc.get("bucket") or default_bucket
    if not isinstance(bucket, str):
        raise IndexLineError("JSONL 'bucket' must be a string")
    size = doc.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise IndexLineError("JSONL 'size' must be a non-negative integer")
    etag = doc.get("etag")
    if etag is not None and not isinstance(etag, str):
        raise IndexLineError("JSONL 'etag' must be a string")
    version_id = doc.get("version_id")
    if version_id is not None:
        version_id = _version_id(version_id if isinstance(version_id, str) else None)
    return ObjectRef(bucket, key, size, normalise_etag(etag), version_id)


# OSS version ids start with CAEQ (or are "null", a suspended bucket's version); anything else
# in the third CSV field is more likely a key cut at an unquoted comma
_VERSION_ID = re.compile(r"^(null|CAEQ[A-Za-z0-9+/=._-]{1,252})$")


def _version_id(value: str | None) -> str:
    if value is None or not _VERSION_ID.match(value):
        raise IndexLineError(
            f"the version id {value!r} is not an OSS version id (they start with CAEQ, or are "
            "'null'); the format is 'bucket,key[,versionId]' and a comma inside a key is %2C"
        )
    return value


def _parse_csv(text: str) -> ObjectRef:
    try:
        row = next(csv.reader([text]))
    except csv.Error as exc:
        raise IndexLineError(f"invalid CSV: {exc}") from None
    if len(row) > 3:
        # an unquoted comma in a key must not silently name another object (`a,b.txt` -> `a`)
        raise IndexLineError(
            f"CSV line has {len(row)} fields; the format is 'bucket,key[,versionId]' with the "
            "key URL-encoded (a comma is %2C)"
        )
    if len(row) < 2 or not row[0] or not row[1]:
        raise IndexLineError("CSV line must be 'bucket,key[,versionId]' (key URL-encoded)")
    version_id = None
    if len(row) == 3 and row[2].strip():
        try:
            version_id = _version_id(unquote(row[2].strip()))
        except IndexLineError as exc:
            raise IndexLineError(f"CSV line has 3 fields but {exc}") from None
    return ObjectRef(row[0].strip(), unquote(row[1]), version_id=version_id)


def normalise_etag(etag: str | None) -> str | None:
    return etag.strip('"').upper() if etag else None


def ranged_fetch(bucket, key: str, retry) -> Fetch:
    """fetch(start, end) over oss2 ranged GETs (byte_range is inclusive in oss2)."""

    def fetch(start: int, end: int) -> bytes:
        def get() -> bytes:
            return bucket.get_object(key, byte_range=(start, end - 1)).read()

        data = retry.call(get)
        if len(data) != end - start:
            # OSS answers an out-of-range request with the whole object: the index shrank
            raise IndexChanged(
                f"index {key!r}: asked bytes {start}-{end - 1}, got {len(data)} bytes; "
                "was the index replaced while the job runs?"
            )
        return data

    return fetch
