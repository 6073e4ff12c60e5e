"""Multipart upload semantics: initiate, parts (uploaded or copied by range), complete, abort, list.

Large byte work (UploadPartCopy of a range, concatenating parts on Complete) runs in a worker
thread with copy_file_range, so the event loop keeps serving other requests.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path

from . import errors
from .checksums import BodyDigest, crc64_combine, multipart_etag
from .names import check_object_key, is_uint
from .objects import Objects
from .storage import ObjectRecord, PartRecord, Storage, UploadRecord

MAX_PARTS = 10000
MIN_PART_BYTES = 100 * 1024  # every part but the last
MAX_PART_BYTES = 5 * 1024**3
_CHUNK = 1 << 20


class Multipart:
    def __init__(self, storage: Storage, objects: Objects, clock=time.time):
        self.storage = storage
        self.objects = objects
        self.clock = clock

    def initiate(
        self, bucket: str, key: str, content_type: str, meta: dict, sclass: str
    ) -> UploadRecord:
        check_object_key(key)
        rec = UploadRecord(
            uuid.uuid4().hex.upper(), bucket, key, self.clock(), content_type, sclass, meta
        )
        self.storage.insert_upload(rec)
        return rec

    def upload(self, bucket: str, key: str, upload_id: str) -> UploadRecord:
        rec = self.storage.get_upload(upload_id)
        if rec is None or rec.bucket != bucket or rec.key != key:
            raise errors.NoSuchUpload(UploadId=upload_id)
        return rec

    @staticmethod
    def part_number(value: str | None) -> int:
        if value is None or not is_uint(value) or not 1 <= int(value) <= MAX_PARTS:
            raise errors.InvalidArgument(
                f"Part number must be an integer between 1 and {MAX_PARTS}, got {value!r}.",
                ArgumentName="partNumber",
                ArgumentValue=str(value),
            )
        return int(value)

    def add_part(
        self, upload: UploadRecord, number: int, temp: Path, digest: BodyDigest
    ) -> PartRecord:
        rel = self.storage.adopt(temp)
        part = PartRecord(
            upload.upload_id, number, rel, digest.size, digest.etag, digest.crc, self.clock()
        )
        if self.storage.get_upload(upload.upload_id) is None:  # aborted while the body streamed in
            self.storage.discard(rel)
            raise errors.NoSuchUpload(UploadId=upload.upload_id)
        self.storage.discard(self.storage.put_part(part))
        return part

    async def copy_part(
        self, upload: UploadRecord, number: int, src: ObjectRecord, start: int, length: int
    ) -> PartRecord:
        """UploadPartCopy: bytes [start, start+length) of src become part `number`."""
        self.objects.restore.require_readable(src)
        if length > MAX_PART_BYTES:
            raise errors.EntityTooLarge("A part can be at most 5 GB.")
        if not src.path:  # small inline source: its bytes are at hand
            digest = BodyDigest()
            chunk = self.storage.get_data(src)[start : start + length]
            digest.update(chunk)
            temp = self.storage.new_temp_path()
            temp.write_bytes(chunk)
            rel = self.storage.adopt(temp)
            part = PartRecord(
                upload.upload_id, number, rel, length, digest.etag, digest.crc, self.clock()
            )
        elif start == 0 and length == src.size:
            rel = self.storage.link_copy(src.path)
            etag = src.etag  # a Normal object's ETag is the MD5 of its bytes: no re-read needed
            if src.object_type != "Normal":
                etag = await asyncio.to_thread(
                    _digest_file, self.storage.file_path(rel), 0, src.size
                )
            part = PartRecord(
                upload.upload_id, number, rel, src.size, etag, src.crc64, self.clock()
            )
        else:
            temp = self.storage.new_temp_path()
            digest = await asyncio.to_thread(
                _copy_range, self.storage.file_path(src.path), temp, start, length
            )
            rel = self.storage.adopt(temp)
            part = PartRecord(
                upload.upload_id, number, rel, length, digest.etag, digest.crc, self.clock()
            )
        self.storage.discard(self.storage.put_part(part))
        return part

    async def complete(
        self, upload: UploadRecord, wanted: list[tuple[int, str]] | None, request_id: str
    ) -> ObjectRecord:
        """Join the named parts (or all, for x-oss-complete-all) into the object."""
        stored = {p.part_number: p for p in self.storage.list_parts(upload.upload_id)}
        if wanted is None:
            chosen = [stored[n] for n in sorted(stored)]
        else:
            chosen = []
            previous = 0
            for number, etag in wanted:
                if number <= previous:
                    raise errors.InvalidPartOrder(UploadId=upload.upload_id)
                previous = number
                part = stored.get(number)
                if part is None or etag.strip().strip('"').upper() != part.etag:
                    raise errors.InvalidPart(
                        UploadId=upload.upload_id, PartNumber=str(number), ETag=etag
                    )
                chosen.append(part)
        if not chosen:
            raise errors.InvalidPart(
                "A multipart upload needs at least one part.", UploadId=upload.upload_id
            )
        for part in chosen[:-1]:
            if part.size < MIN_PART_BYTES:
                raise errors.EntityTooSmall(
                    f"Part {part.part_number} is {part.size} bytes; every part but the last must be "
                    f">= {MIN_PART_BYTES} bytes.",
                    PartNumber=str(part.part_number),
                )
        crc, size = 0, 0
        for part in chosen:
            crc = crc64_combine(crc, part.crc64, part.size)
            size += part.size
        if len(chosen) == 1:
            rel = self.storage.link_copy(chosen[0].path)
        else:
            temp = self.storage.new_temp_path()
            await asyncio.to_thread(
                _concatenate, [self.storage.file_path(p.path) for p in chosen], temp
            )
            rel = self.storage.adopt(temp)
        rec = ObjectRecord(
            upload.bucket,
            upload.key,
            rel,
            size,
            multipart_etag([p.etag for p in chosen]),
            crc,
            upload.content_type,
            self.clock(),
            upload.storage_class,
            "Multipart",
            upload.meta,
        )
        if self.storage.get_upload(upload.upload_id) is None:  # completed/aborted concurrently
            self.storage.discard(rel)
            raise errors.NoSuchUpload(UploadId=upload.upload_id)
        for path in self.storage.delete_upload(upload.upload_id):
            self.storage.discard(path)
        return self.objects._store(rec, request_id, "ObjectCreated:CompleteMultipartUpload")

    def abort(self, upload: UploadRecord) -> None:
        for path in self.storage.delete_upload(upload.upload_id):
            self.storage.discard(path)


def _digest_file(path: Path, start: int, length: int) -> str:
    digest = BodyDigest()
    with open(path, "rb") as f:
        f.seek(start)
        left = length
        while left:
            chunk = f.read(min(_CHUNK, left))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
    return digest.etag


def _copy_range(src: Path, dst: Path, start: int, length: int) -> BodyDigest:
    digest = BodyDigest()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        fin.seek(start)
        left = length
        while left:
            chunk = fin.read(min(_CHUNK, left))
            if not chunk:
                raise errors.InternalError("Source data file is shorter than the object size.")
            digest.update(chunk)
            fout.write(chunk)
            left -= len(chunk)
    return digest


def _concatenate(paths: list[Path], dst: Path) -> None:
    out_fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        for path in paths:
            in_fd = os.open(path, os.O_RDONLY)
            try:
                left = os.fstat(in_fd).st_size
                while left:
                    try:
                        n = os.copy_file_range(in_fd, out_fd, left)
                    except OSError:
                        n = 0
                    if n == 0:  # no copy_file_range on this filesystem: copy a chunk by hand
                        chunk = os.read(in_fd, min(_CHUNK, left))
                        if not chunk:
                            raise errors.InternalError(
                                "A part's data file is shorter than its size."
                            )
                        view = memoryview(chunk)
                        while view:
                            view = view[os.write(out_fd, view) :]
                        n = len(chunk)
                    left -= n
            finally:
                os.close(in_fd)
    finally:
        os.close(out_fd)
