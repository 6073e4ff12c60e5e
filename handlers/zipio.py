"""Package reads (ranged, pinned by If-Match) and entry writes (PUT or multipart) on OSS."""

from __future__ import annotations

from dataclasses import dataclass

import oss2
import stream_unzip

from .clients import drained, error_code, raise_if_systemic
from .errors import PackageRejected
from .integrity import CRC_HEADER, check_stored, checked, crc64_of
from .pool import BoundedPool
from .retrying import RetryPolicy, attempts_of
from .zipoutput import PACKAGE_META, OutputOwner

STREAM_ERRORS = [
    (stream_unzip.CRC32IntegrityError, "CrcMismatch"),
    (stream_unzip.SizeIntegrityError, "SizeMismatch"),
    (stream_unzip.MissingPasswordError, "EncryptedEntry"),
    (stream_unzip.IncorrectPasswordError, "WrongPassword"),
    (stream_unzip.UnsupportedCompressionTypeError, "UnsupportedMethod"),
    (stream_unzip.UnsupportedFeatureError, "UnsupportedFeature"),
    (stream_unzip.TruncatedDataError, "TruncatedEntry"),
    (stream_unzip.UncompressError, "CorruptData"),
    (stream_unzip.UnzipError, "CorruptEntry"),
]


def stream_error_code(exc: BaseException) -> str:
    for cls, code in STREAM_ERRORS:
        if isinstance(exc, cls):
            return code
    return type(exc).__name__


class PackageReader:
    """Ranged GETs on one pinned package version, counting every byte read."""

    def __init__(self, bucket: oss2.Bucket, key: str, etag: str, retry: RetryPolicy, params=None):
        self.bucket, self.key, self.etag, self.retry = bucket, key, etag, retry
        self.params = params  # {"versionId": ...}: the pinned version of a versioned bucket
        self.bytes_read = 0

    def _headers(self) -> dict:
        return {"If-Match": f'"{self.etag}"'}

    def _get(self, start: int, end: int):
        try:
            return self.retry.call(
                self.bucket.get_object,
                self.key,
                byte_range=(start, end - 1),
                headers=self._headers(),
                params=self.params,
            )
        except oss2.exceptions.OssError as exc:
            raise_package_error(exc, self.bucket.bucket_name, self.key)
            raise

    def fetch(self, start: int, end: int) -> bytes:
        data = self._get(start, end).read()
        self.bytes_read += len(data)
        if len(data) != end - start:
            raise PackageRejected(
                "PackageChanged", f"{self.key}: ranged read returned {len(data)} bytes"
            )
        return data

    def stream(self, start: int, end: int, chunk: int):
        result = self._get(start, end)
        while True:
            data = result.read(chunk)
            if not data:
                return
            self.bytes_read += len(data)
            yield data


def raise_package_error(exc: oss2.exceptions.OssError, bucket: str, key: str) -> None:
    code = error_code(exc)
    if exc.status == 412 or code == "PreconditionFailed":
        raise PackageRejected(
            "PackageChanged", f"oss://{bucket}/{key} was replaced during extraction (ETag changed)"
        ) from exc
    if code in ("NoSuchKey", "NotFound") or (exc.status == 404 and code != "NoSuchBucket"):
        raise PackageRejected("PackageMissing", f"oss://{bucket}/{key} does not exist") from exc
    raise_if_systemic(exc, bucket, role="source")


@dataclass(frozen=True)
class EntrySizes:
    """How entries are written: one PUT up to ``small_entry_bytes``, else parts of ``part_size``."""

    small_entry_bytes: int
    part_size: int
    read_chunk_bytes: int


@dataclass(frozen=True)
class OutputTarget:
    """Where entries are written, by whom (metadata, on_existing) and in what sizes."""

    bucket: oss2.Bucket
    retry: RetryPolicy
    sizes: EntrySizes
    owner: OutputOwner


class EntryWriter:
    """Uploads one entry: a single PUT when small, a multipart upload when large."""

    def __init__(self, target: OutputTarget, key: str, declared: int, pool: BoundedPool):
        self.target = target
        self.bucket, self.key, self.pool, self.retry = target.bucket, key, pool, target.retry
        self.small = declared <= target.sizes.small_entry_bytes
        self.part_size = target.sizes.part_size
        self.chunks: list[bytes] = []  # joined once per part/object: no growing buffer copies
        self.buffered = 0
        self.upload_id: str | None = None
        self.part_futures: list = []
        self.part_number = 0
        self.written = 0
        self.crc: int | None = None  # CRC-64 of the parts so far: the whole object's at the end

    def write(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        self.written += len(data)
        if not self.small and self.buffered >= self.part_size:
            joined = b"".join(self.chunks)
            start = 0
            while len(joined) - start >= self.part_size:
                self._flush_part(joined[start : start + self.part_size])
                start += self.part_size
            rest = joined[start:]
            self.chunks, self.buffered = ([rest] if rest else []), len(rest)

    def _flush_part(self, data: bytes) -> None:
        if self.upload_id is None:
            owner = self.target.owner
            owner.check_replaceable(self.bucket, self.retry, self.key)
            self.upload_id = self.retry.call(
                self.bucket.init_multipart_upload, self.key, headers=owner.headers()
            ).upload_id
        self.part_number += 1
        number = self.part_number
        self.crc = crc64_of(data, self.crc)
        self.part_futures.append(
            self.pool.submit(self._upload_part, number, data, nbytes=len(data))
        )

    def _upload_part(self, number: int, data: bytes):
        upload = checked(
            lambda: self.bucket.upload_part(self.key, self.upload_id, number, data),
            f"{self.key} part {number}",
            data,
            "UploadPart",
        )
        # a damaged part is sent again under its number; only checked parts are completed
        result = self.retry.call(upload)
        return oss2.models.PartInfo(number, result.etag, size=len(data))

    def small_data(self, limit: int) -> bytes | None:
        """The whole entry when it is one PUT of at most ``limit`` bytes (for a page worker)."""
        if self.upload_id is not None or self.buffered > limit:
            return None
        return b"".join(self.chunks)

    def finish(self):
        """Returns a future (small entries) or completes the multipart upload synchronously."""
        data = b"".join(self.chunks)
        self.chunks, self.buffered = [], 0
        if self.upload_id is None:
            return self.pool.submit(self._put, data, nbytes=len(data))
        if data:
            self._flush_part(data)
        parts = [f.result() for f in self.part_futures]
        try:
            done = self.retry.call(
                drained(self.bucket.complete_multipart_upload), self.key, self.upload_id, parts
            )
            check_stored(done.headers, self.key, self.crc, "CompleteMultipartUpload")
        except oss2.exceptions.NoSuchUpload as exc:
            # a retried complete whose first attempt landed (its answer was lost) finds the
            # upload gone: the object, with our metadata, size and CRC-64, is the proof
            if attempts_of(exc) < 2 or not self._completed():
                raise
        return None

    def _completed(self) -> bool:
        head = self.retry.call(self.bucket.head_object, self.key)
        owner = head.headers.get(PACKAGE_META)
        crc = head.headers.get(CRC_HEADER)
        mine = owner == self.target.owner.package and crc == str(self.crc)
        return mine and head.content_length == self.written

    def _put(self, data: bytes) -> None:
        self.target.owner.put(self.bucket, self.retry, self.key, data)

    def abort(self) -> None:
        for f in self.part_futures:
            try:
                f.result()
            except Exception:  # the entry already failed; only cleanup matters now
                pass
        if self.upload_id is not None:
            try:
                self.retry.call(self.bucket.abort_multipart_upload, self.key, self.upload_id)
            except oss2.exceptions.OssError:
                pass
