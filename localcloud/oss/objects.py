"""Object semantics without HTTP: commit a streamed body, read, delete, copy, conditionals."""

from __future__ import annotations

import os
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

from . import errors, tagging, versioning
from .names import OBJECT_ACLS, check_object_key, storage_class
from .notifications import NotificationHub
from .restore import RestoreClock
from .storage import ObjectRecord, Storage

MAX_PUT_BYTES = 5 * 1024**3
# larger objects need multipart UploadPartCopy, as on OSS; tests lower it to reach the answer
MAX_COPY_BYTES = int(os.environ.get("LOCALCLOUD_OSS_MAX_COPY_BYTES", 1024**3))
# HTTP headers OSS stores with an object and returns on GET/HEAD
STORED_HEADERS = (
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
)


SSE_HEADER = "x-oss-server-side-encryption"


def object_meta_from_headers(headers: dict[str, str]) -> dict[str, str]:
    meta = {k: v for k, v in headers.items() if k.startswith("x-oss-meta-") or k in STORED_HEADERS}
    sse = headers.get(SSE_HEADER)
    if sse is not None:
        if sse != "AES256":
            # KMS and SM4 need Alibaba's key service, which localcloud does not emulate
            raise errors.NotImplementedOp(
                f"{SSE_HEADER}: {sse!r} is not emulated by localcloud; use AES256 or none.",
                Header=SSE_HEADER,
            )
        meta[SSE_HEADER] = sse  # returned on GET/HEAD like any stored header
    tagging_header = headers.get(tagging.TAGGING_HEADER)
    if tagging_header:
        meta = tagging.store(meta, tagging.from_header(tagging_header))
    acl = headers.get("x-oss-object-acl")
    if acl in OBJECT_ACLS:
        meta[":acl"] = acl  # internal entry (':' prefix): never sent back as a header
    return meta


class Objects:
    def __init__(
        self,
        storage: Storage,
        restore: RestoreClock,
        notifications: NotificationHub,
        clock=time.time,
        versioning_of=lambda bucket: "",
    ):
        self.storage = storage
        self.restore = restore
        self.notifications = notifications
        self.clock = clock
        self.versioning_of = versioning_of  # bucket name -> "", "Enabled" or "Suspended"
        self.version_ids = versioning.VersionIds()

    def lookup(
        self, bucket: str, key: str, version_id: str | None = None, with_data: bool = False
    ) -> ObjectRecord:
        """The current version (or the named one); a missing key or a delete marker is 404."""
        check_object_key(key)
        if version_id is None:
            rec = self.storage.get_object(bucket, key, with_data)
        else:
            rec = self.storage.get_version(
                bucket, key, versioning.check_version_id(version_id), with_data
            )
            if rec is None:
                raise errors.NoSuchVersion(Key=key, VersionId=version_id)
        if rec is None:
            raise errors.NoSuchKey(Key=key)
        if rec.delete_marker:
            err = errors.NoSuchKey(Key=key)
            err.headers.update(self.version_headers(rec, text=True))
            raise err
        return rec

    def addressed(
        self, bucket: str, key: str, query: dict, with_data: bool = False
    ) -> ObjectRecord:
        """The version a request names with ?versionId= (the current one without it)."""
        return self.lookup(
            bucket, key, query.get("versionId") if "versionId" in query else None, with_data
        )

    @staticmethod
    def version_headers(rec: ObjectRecord, text: bool = False) -> list:
        """x-oss-version-id (and x-oss-delete-marker) of a version of a versioned bucket."""
        pairs = []
        if rec.version_id:
            pairs.append(("x-oss-version-id", rec.version_id))
        if rec.delete_marker:
            pairs.append(("x-oss-delete-marker", "true"))
        return dict(pairs) if text else [(k.encode(), v.encode()) for k, v in pairs]

    def head(self, bucket: str, key: str, version_id: str | None = None) -> ObjectRecord:
        return self.lookup(bucket, key, version_id)

    def readable(self, bucket: str, key: str, version_id: str | None = None) -> ObjectRecord:
        """For GET: the record (with inline bytes loaded) of a readable object."""
        rec = self.lookup(bucket, key, version_id, with_data=True)
        self.restore.require_readable(rec)
        return rec

    def commit(
        self,
        bucket: str,
        key: str,
        temp_path: Path | None,
        size: int,
        etag: str,
        crc: int,
        content_type: str,
        meta: dict,
        sclass: str,
        request_id: str,
        event: str = "ObjectCreated:PutObject",
        object_type: str = "Normal",
        data: bytes | None = None,
    ) -> ObjectRecord:
        """Make a fully received body (temp file, or inline data) the current version of bucket/key."""
        rel = self.storage.adopt(temp_path) if data is None else ""
        return self._store(
            ObjectRecord(
                bucket,
                key,
                rel,
                size,
                etag,
                crc,
                content_type,
                self.clock(),
                sclass,
                object_type,
                meta,
            ),
            request_id,
            event,
            data,
        )

    def _store(
        self, rec: ObjectRecord, request_id: str, event: str, data: bytes | None = None
    ) -> ObjectRecord:
        status = self.versioning_of(rec.bucket)
        with self.storage.lock:
            old = self.storage.get_object(rec.bucket, rec.key) if self.notifications._subs else None
            versioning.assign(rec, status, self.version_ids)
            unused = versioning.make_room(self.storage, rec.bucket, rec.key, status)
            unused.append(self.storage.put_object(rec, data))
        for path in unused:
            self.storage.discard(path)
        delta = rec.size - (old.size if old and not old.delete_marker else 0)
        self.notifications.publish(
            event, rec.bucket, rec.key, rec.size, rec.etag, delta, request_id
        )
        return rec

    def delete(self, bucket: str, key: str, version_id: str | None = None) -> ObjectRecord | None:
        """DeleteObject: the removed version or the delete marker added (None: nothing there,
        unversioned bucket). With version_id that version goes for good."""
        check_object_key(key)
        if version_id is not None:
            version_id = versioning.check_version_id(version_id)
            with self.storage.lock:
                return versioning.delete_version(self.storage, bucket, key, version_id)
        status = self.versioning_of(bucket)
        if not status:
            self.storage.discard(self.storage.delete_object(bucket, key))
            return None
        marker = versioning.delete_marker(bucket, key, self.clock())
        with self.storage.lock:
            versioning.assign(marker, status, self.version_ids)
            unused = versioning.make_room(self.storage, bucket, key, status)
            unused.append(self.storage.put_object(marker))
        for path in unused:
            self.storage.discard(path)
        return marker

    def copy(
        self,
        src: ObjectRecord,
        bucket: str,
        key: str,
        directive: str,
        headers: dict[str, str],
        default_class: str,
        request_id: str,
    ) -> ObjectRecord:
        """CopyObject: same bytes (hard link), metadata copied or replaced, storage class set."""
        check_object_key(key)
        self.restore.require_readable(src)
        if src.size > MAX_COPY_BYTES:
            raise errors.InvalidArgument(
                f"The source object {src.key!r} is larger than 1 GB: use multipart UploadPartCopy.",
                ArgumentName="x-oss-copy-source",
            )
        directive = (directive or "COPY").upper()
        if directive not in ("COPY", "REPLACE"):
            raise errors.InvalidArgument(
                f"x-oss-metadata-directive must be COPY or REPLACE, got {directive!r}.",
                ArgumentName="x-oss-metadata-directive",
                ArgumentValue=directive,
            )
        sclass = storage_class(headers.get("x-oss-storage-class"), default_class)
        if directive == "REPLACE":
            meta = object_meta_from_headers(headers)
            ctype = headers.get("content-type") or src.content_type
        else:
            meta, ctype = dict(src.meta), src.content_type
        meta = tagging.store(meta, copied_tags(src, headers))
        # file-backed: a new hard link (no bytes move); inline: the row's bytes are copied
        rel = self.storage.link_copy(src.path) if src.path else ""
        data = None if src.path else self.storage.get_data(src)
        rec = ObjectRecord(
            bucket,
            key,
            rel,
            src.size,
            src.etag,
            src.crc64,
            ctype,
            self.clock(),
            sclass,
            src.object_type,
            meta,
        )
        return self._store(rec, request_id, "ObjectCreated:CopyObject", data)


def copied_tags(src: ObjectRecord, headers: dict[str, str]) -> tagging.Tags:
    """x-oss-tagging-directive Copy (default): the source's tags; Replace: x-oss-tagging's."""
    directive = headers.get("x-oss-tagging-directive") or "Copy"
    if directive.lower() == "replace":
        return tagging.from_header(headers.get(tagging.TAGGING_HEADER, ""))
    if directive.lower() != "copy":
        raise errors.InvalidArgument(
            f"x-oss-tagging-directive must be Copy or Replace, got {directive!r}.",
            ArgumentName="x-oss-tagging-directive",
            ArgumentValue=directive,
        )
    return tagging.of(src.meta)


def _http_time(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def check_conditions(rec: ObjectRecord, headers: dict[str, str], prefix: str = "") -> None:
    """If-Match / If-None-Match / If-(Un)Modified-Since; prefix 'x-oss-copy-source-' for copies.

    For GET/HEAD a failed If-None-Match/If-Modified-Since is 304, the rest 412; for copy-source
    conditionals every failure is 412 PreconditionFailed, as on OSS.
    """
    etag = f'"{rec.etag}"'
    lm = int(rec.last_modified)
    h = headers.get
    if_match = h(prefix + "if-match")
    if if_match is not None and if_match.strip() not in (etag, rec.etag, "*"):
        raise errors.PreconditionFailed(Condition=prefix + "If-Match")
    if_unmod = h(prefix + "if-unmodified-since")
    if if_unmod is not None and (t := _http_time(if_unmod)) is not None and lm > t:
        raise errors.PreconditionFailed(Condition=prefix + "If-Unmodified-Since")
    not_modified = errors.PreconditionFailed if prefix else errors.NotModified
    if_none = h(prefix + "if-none-match")
    if if_none is not None and if_none.strip() in (etag, rec.etag, "*"):
        raise not_modified(Condition=prefix + "If-None-Match")
    if_mod = h(prefix + "if-modified-since")
    if if_mod is not None and (t := _http_time(if_mod)) is not None and lm <= t:
        raise not_modified(Condition=prefix + "If-Modified-Since")
