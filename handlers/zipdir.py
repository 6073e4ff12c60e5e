"""The zip central directory, read with ranged GETs: EOCD, ZIP64 EOCD and entries.

Only the tail of the package and its central directory are read; entry data is
streamed later from each entry's local-header offset.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from .errors import PackageRejected

EOCD_SIG = b"PK\x05\x06"
ZIP64_LOCATOR_SIG = b"PK\x06\x07"
ZIP64_EOCD_SIG = b"PK\x06\x06"
CD_SIG = b"PK\x01\x02"
EOCD_MIN = 22
MAX_COMMENT = 0xFFFF
FLAG_ENCRYPTED = 0x0001
FLAG_DATA_DESCRIPTOR = 0x0008  # sizes and CRC follow the data, not in the local header
FLAG_UTF8 = 0x0800
UNICODE_PATH_EXTRA = 0x7075
ZIP64_EXTRA = 0x0001

_CD_ENTRY = struct.Struct("<4sHHHHHHIIIHHHHHII")

Fetch = Callable[[int, int], bytes]


@dataclass(frozen=True, slots=True)
class ZipEntry:
    index: int
    raw_name: bytes
    flags: int
    method: int
    crc32: int
    compressed_size: int
    uncompressed_size: int
    local_header_offset: int
    external_attr: int
    unicode_path: str | None  # Info-ZIP Unicode Path extra (0x7075), when its CRC matches
    made_by_host: int = 0  # high byte of "version made by": 0 MS-DOS/Windows, 3 Unix, 19 macOS

    @property
    def utf8_flag(self) -> bool:
        return bool(self.flags & FLAG_UTF8)

    @property
    def encrypted(self) -> bool:
        return bool(self.flags & FLAG_ENCRYPTED)

    @property
    def has_data_descriptor(self) -> bool:
        return bool(self.flags & FLAG_DATA_DESCRIPTOR)

    @property
    def is_dir(self) -> bool:
        return self.raw_name.endswith((b"/", b"\\")) or bool(self.external_attr & 0x10)


class EntryTable(Sequence):
    """The central directory's entries, kept as the directory's own bytes plus where each
    record starts (~66 bytes an entry): a ``ZipEntry`` is parsed again when asked for.

    A list of 100,000 ``ZipEntry`` objects held ~24 MB for the whole run, beside the page
    workers that the memory target counts too (docs/decisions/unzip-central-directory-runs.md).
    """

    __slots__ = ("_cd", "_starts")

    def __init__(self, cd: bytes, starts: array):
        self._cd, self._starts = cd, starts

    def __len__(self) -> int:
        return len(self._starts)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._entry(j) for j in range(*i.indices(len(self._starts)))]
        if i < 0:
            i += len(self._starts)
        if not 0 <= i < len(self._starts):
            raise IndexError(f"entry {i} of {len(self._starts)}")
        return self._entry(i)

    def __iter__(self) -> Iterator[ZipEntry]:
        return (self._entry(i) for i in range(len(self._starts)))

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # mutable-looking sequence: like a list

    def _entry(self, index: int) -> ZipEntry:
        return _record(self._cd, self._starts[index], index)[0]


@dataclass(frozen=True)
class CentralDirectory:
    entries: EntryTable
    cd_offset: int
    cd_size: int
    package_size: int
    bytes_read: int

    def data_end(self) -> int:
        """Where entry data stops: the first byte of the central directory."""
        return self.cd_offset


def read_central_directory(
    fetch: Fetch, size: int, *, max_entries: int | None = None, name: str = "package"
) -> CentralDirectory:
    """Locate the (ZIP64) EOCD in the tail, then parse the central directory."""
    if size < EOCD_MIN:
        raise PackageRejected("NotAZipArchive", f"{name} is {size} bytes: too small to be a zip")
    tail_start = max(0, size - (EOCD_MIN + MAX_COMMENT + 20 + 56))
    tail = fetch(tail_start, size)
    bytes_read = len(tail)
    eocd_at = _find_eocd(tail)
    if eocd_at < 0:
        head = tail[:4] if tail_start == 0 else fetch(0, 4)
        if head == b"PK\x03\x04":
            raise PackageRejected(
                "TruncatedArchive",
                f"{name} starts like a zip but has no end record: upload cut short?",
            )
        raise PackageRejected(
            "NotAZipArchive", f"{name} has no end-of-central-directory record: not a zip"
        )
    (_, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, _clen) = struct.unpack(
        "<4sHHHHIIH", tail[eocd_at : eocd_at + EOCD_MIN]
    )
    locator_at = eocd_at - 20
    if locator_at >= 0 and tail[locator_at : locator_at + 4] == ZIP64_LOCATOR_SIG:
        (_, _d, z64_offset, _disks) = struct.unpack("<4sIQI", tail[locator_at : locator_at + 20])
        if not 0 <= z64_offset <= size - 56:
            raise PackageRejected(
                "TruncatedArchive", f"{name}: ZIP64 end record points outside the file"
            )
        if z64_offset >= tail_start:
            rec = tail[z64_offset - tail_start : z64_offset - tail_start + 56]
        else:
            rec = fetch(z64_offset, z64_offset + 56)
            bytes_read += len(rec)
        if rec[:4] != ZIP64_EOCD_SIG:
            raise PackageRejected(
                "TruncatedArchive", f"{name}: bad ZIP64 end-of-central-directory record"
            )
        (_, _sz, _vm, _vn, disk, cd_disk, n_disk, n_total, cd_size, cd_offset) = struct.unpack(
            "<4sQHHIIQQQQ", rec
        )
    if disk != 0 or cd_disk != 0 or n_disk != n_total:
        raise PackageRejected("UnsupportedArchive", f"{name} is a multi-disk (split) zip")
    if max_entries is not None and n_total > max_entries:
        raise PackageRejected(
            "TooManyEntries", f"{name} declares {n_total} entries; the limit is {max_entries}"
        )
    if cd_offset + cd_size > size:
        raise PackageRejected(
            "TruncatedArchive",
            f"{name}: central directory ({cd_offset}+{cd_size}) beyond the end ({size})",
        )
    if cd_offset >= tail_start:
        cd = tail[cd_offset - tail_start : cd_offset - tail_start + cd_size]
    else:
        cd = fetch(cd_offset, cd_offset + cd_size) if cd_size else b""
        bytes_read += len(cd)
    entries = parse_entries(cd, n_total, name=name, limit=cd_offset)
    return CentralDirectory(entries, cd_offset, cd_size, size, bytes_read)


def _find_eocd(tail: bytes) -> int:
    """Last EOCD signature whose comment length matches the bytes after it."""
    pos = len(tail) - EOCD_MIN
    while pos >= 0:
        pos = tail.rfind(EOCD_SIG, 0, pos + 4)
        if pos < 0:
            return -1
        (comment_len,) = struct.unpack("<H", tail[pos + 20 : pos + 22])
        if pos + EOCD_MIN + comment_len == len(tail):
            return pos
        pos -= 1
    return -1


def parse_entries(
    cd: bytes, count: int, *, name: str = "package", limit: int | None = None
) -> EntryTable:
    """Check every record of the directory once; keep only where each starts."""
    starts = array("Q")
    pos = 0
    for index in range(count):
        if pos + _CD_ENTRY.size > len(cd) or cd[pos : pos + 4] != CD_SIG:
            raise PackageRejected(
                "TruncatedArchive", f"{name}: central directory entry {index} is missing or corrupt"
            )
        entry, end = _record(cd, pos, index)
        if end > len(cd):
            raise PackageRejected(
                "TruncatedArchive", f"{name}: central directory entry {index} is cut"
            )
        if limit is not None and entry.local_header_offset >= limit:
            raise PackageRejected(
                "TruncatedArchive",
                f"{name}: entry {index} points past the entry data ({entry.local_header_offset})",
            )
        starts.append(pos)
        pos = end
    return EntryTable(cd, starts)


def _record(cd: bytes, pos: int, index: int) -> tuple[ZipEntry, int]:
    """The entry whose record starts at ``pos``, and where the next record starts."""
    (_, made_by, _vn, flags, method, _t, _d, crc, csize, usize, nlen, elen, clen, _disk, _ia,
     ext_attr, offset) = _CD_ENTRY.unpack_from(cd, pos)  # fmt: skip
    pos += _CD_ENTRY.size
    raw_name = cd[pos : pos + nlen]
    extra = cd[pos + nlen : pos + nlen + elen] if elen else b""
    end = pos + nlen + elen + clen
    if extra:
        usize, csize, offset = _apply_zip64(extra, usize, csize, offset)
    entry = ZipEntry(
        index,
        raw_name,
        flags,
        method,
        crc,
        csize,
        usize,
        offset,
        ext_attr,
        _unicode_path(extra, raw_name) if extra else None,
        made_by >> 8,
    )
    return entry, end


def _extra_fields(extra: bytes):
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        yield tag, extra[pos + 4 : pos + 4 + size]
        pos += 4 + size


def _apply_zip64(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    for tag, data in _extra_fields(extra):
        if tag != ZIP64_EXTRA:
            continue
        values = [struct.unpack_from("<Q", data, i)[0] for i in range(0, len(data) - 7, 8)]
        # fields appear only for the 32-bit values that overflowed, in this order
        if usize == 0xFFFFFFFF and values:
            usize = values.pop(0)
        if csize == 0xFFFFFFFF and values:
            csize = values.pop(0)
        if offset == 0xFFFFFFFF and values:
            offset = values.pop(0)
    return usize, csize, offset


def _unicode_path(extra: bytes, raw_name: bytes) -> str | None:
    import zlib

    for tag, data in _extra_fields(extra):
        if tag == UNICODE_PATH_EXTRA and len(data) > 5 and data[0] == 1:
            (name_crc,) = struct.unpack_from("<I", data, 1)
            if name_crc == zlib.crc32(raw_name):
                try:
                    return data[5:].decode("utf-8")
                except UnicodeDecodeError:
                    return None
    return None
