"""Upload integrity by CRC-64 (docs/decisions/upload-integrity-crc64.md).

OSS answers PutObject, UploadPart and CompleteMultipartUpload with the CRC-64/XZ
(ECMA-182) of what it stored, in ``x-oss-hash-crc64ecma``, and documents comparing it with
one computed locally as the integrity check of an upload
(https://help.aliyun.com/en/oss/user-guide/check-data-transmission-integrity-by-using-crc-64).
That costs ~1/40 of Content-MD5's CPU here, and a damaged body is sent again (a retry)
instead of failing its entry with InvalidDigest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastcrc import crc64

from .errors import SystemicError

CRC_HEADER = "x-oss-hash-crc64ecma"
T = TypeVar("T")


def crc64_of(data: bytes, running: int | None = None) -> int:
    """CRC-64/XZ of ``data``, continuing ``running`` (the CRC of the bytes before it)."""
    return crc64.xz(data, running)


# what is left when a damaged upload is given up, by operation
_LEFT = {
    "UploadPart": "the upload is aborted: nothing is completed from a damaged part",
    "PutObject": "the object there holds damaged bytes until it is written again (re-run the job)",
}


class _Portable:
    """Pickled by its constructor's arguments: a page worker's error reaches the page as
    itself (handlers.processes.portable)."""

    _args: tuple = ()

    def __reduce__(self):
        return type(self), self._args


class UploadDamaged(_Portable, Exception):
    """OSS stored other bytes than were sent: its CRC-64 differs from ours (retried)."""

    code = "UploadDamaged"

    def __init__(self, what: str, sent: int, stored: str, operation: str):
        self._args = (what, sent, stored, operation)
        left = _LEFT.get(operation, _LEFT["PutObject"])
        super().__init__(
            f"{what}: OSS stored CRC-64 {stored} but the bytes sent have {sent}: they were "
            f"damaged on the way; {left}"
        )


class UploadUnverified(_Portable, SystemicError):
    """OSS gave no CRC-64 for an upload, so no upload of this page can be shown intact."""

    def __init__(self, what: str, operation: str):
        self._args = (what, operation)
        super().__init__(
            f"{what}: OSS answered {operation} without {CRC_HEADER}, so the upload cannot be "
            "verified; point the endpoint at OSS itself, not through a proxy that strips it"
        )


def checked(upload: Callable[[], T], what: str, data: bytes, operation: str) -> Callable[[], T]:
    """``upload`` (which sends ``data``) and the CRC-64 check of its answer, as one step
    for RetryPolicy.call: a damaged body is sent again by the retry."""
    sent = crc64_of(data)

    def step() -> T:
        result = upload()
        check_stored(result.headers, what, sent, operation)
        return result

    return step


def check_stored(headers, what: str, sent: int, operation: str) -> None:
    """Raise unless the server's CRC-64 of what it stored is ``sent``."""
    stored = headers.get(CRC_HEADER)
    if stored is None:
        raise UploadUnverified(what, operation)
    if stored != str(sent):
        raise UploadDamaged(what, sent, stored, operation)
