"""ETag and CRC-64/ECMA exactly as OSS computes them (oss2 verifies both)."""

from __future__ import annotations

import base64
import binascii
import hashlib

from fastcrc import crc64 as _fastcrc64
from oss2.crc64_combine import mkCombineFun

_POLY = 0x142F0E1EBA9EA3693
_XOROUT = 0xFFFFFFFFFFFFFFFF
_combine = mkCombineFun(_POLY, initCrc=0, rev=True, xorOut=_XOROUT)
# OSS's CRC-64/ECMA (reflected ECMA-182, init and xorout all ones) is the catalogue's
# CRC-64/XZ; fastcrc's SIMD kernel does ~20 GB/s where crcmod's table does ~270 MB/s,
# which made the CRC the largest cost of every PUT/UploadPart body (bench_unzip)
_crc64_fn = _fastcrc64.xz


def crc64(data: bytes, crc: int = 0) -> int:
    """CRC-64/ECMA (x-oss-hash-crc64ecma) of data, continuing from crc."""
    return _crc64_fn(data, crc)


def crc64_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC of A+B from CRC(A), CRC(B) and len(B): multipart and ranged copies need no re-read."""
    if len2 == 0:
        return crc1
    return _combine(crc1, crc2, len2)


class BodyDigest:
    """Running MD5 + CRC-64 + length of a streamed body."""

    __slots__ = ("_md5", "crc", "size")

    def __init__(self) -> None:
        self._md5 = hashlib.md5()
        self.crc = 0
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self._md5.update(chunk)
        self.crc = _crc64_fn(chunk, self.crc)
        self.size += len(chunk)

    @property
    def md5_digest(self) -> bytes:
        return self._md5.digest()

    @property
    def etag(self) -> str:
        return self._md5.hexdigest().upper()


def multipart_etag(part_etags: list[str]) -> str:
    """OSS multipart ETag: MD5 of the concatenated binary part MD5s, upper hex, '-' part count."""
    joined = b"".join(binascii.unhexlify(e) for e in part_etags)
    return f"{hashlib.md5(joined).hexdigest().upper()}-{len(part_etags)}"


def decode_content_md5(value: str) -> bytes | None:
    """The 16 raw bytes of a Content-MD5 header, or None when it is not base64 of 16 bytes."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 16 else None
