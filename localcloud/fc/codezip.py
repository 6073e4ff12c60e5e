"""Function code packages: unpack a code zip into the function's code root."""

from __future__ import annotations

import io
import shutil
import uuid
import zipfile
from pathlib import Path

from .errors import InvalidArgument

_CRC64_POLY = 0xC96C5795D7870F42  # ECMA-182, reflected: what FC reports as codeChecksum
_CRC64_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ _CRC64_POLY if _c & 1 else _c >> 1
    _CRC64_TABLE.append(_c)


def crc64(data: bytes) -> str:
    crc = 0xFFFFFFFFFFFFFFFF
    table = _CRC64_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return str(crc ^ 0xFFFFFFFFFFFFFFFF)


def unpack(zip_bytes: bytes, code_root: Path) -> None:
    """Extract a code zip into `code_root`; a bad zip is InvalidArgument.

    The root is named by the zip's checksum, so an existing root already holds these bytes
    and is kept: re-extracting it would pull files from under running instances (a resumed
    execution invokes while `local up` updates the function with the same code). A new root
    is extracted beside it and renamed into place, so it is never seen half-written."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(zip_bytes))
        bad = archive.testzip()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise InvalidArgument(f"code.zipFile is not a valid zip file: {exc}") from None
    if bad is not None:
        raise InvalidArgument(f"code.zipFile has a corrupt member {bad!r}")
    if code_root.is_dir():
        return
    staging = code_root.parent / f".{code_root.name}.{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    try:
        with archive:
            for member in archive.infolist():
                target = (staging / member.filename).resolve()
                if not target.is_relative_to(staging.resolve()):
                    raise InvalidArgument(
                        f"code.zipFile member {member.filename!r} escapes the code root"
                    )
            archive.extractall(staging)
        try:
            staging.rename(code_root)
        except OSError:  # another create/update with the same code won the rename
            if not code_root.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
