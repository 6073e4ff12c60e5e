"""Bucket versioning semantics: version ids, which version a write keeps or replaces, delete
markers, deleting one version. No HTTP here; api_versioning.py is the wire.

https://www.alibabacloud.com/help/en/oss/user-guide/overview-78 (versioning): Enabled keeps
every write as a new version and a delete without versionId adds a delete marker; Suspended
writes (and delete markers) get the version id "null", replacing the previous null version;
a delete with versionId removes that version for good.
"""

from __future__ import annotations

import base64
import itertools
import os
import re
import threading
import time

from . import errors
from .storage import ObjectRecord, Storage

STATUSES = ("Enabled", "Suspended")
NULL = "null"
_ID_RE = re.compile(r"^CAEQ[A-Za-z0-9_-]{20,60}$")


class VersionIds:
    """Monotonic sequence numbers (newer = larger, across restarts) and opaque ids from them."""

    def __init__(self, clock_ns=time.time_ns):
        self._clock_ns = clock_ns
        self._last = 0
        self._lock = threading.Lock()
        self._salt = itertools.count(int.from_bytes(os.urandom(3), "big"))

    def next_seq(self) -> int:
        with self._lock:
            self._last = max(self._clock_ns(), self._last + 1)
            return self._last

    def new_id(self, seq: int) -> str:
        raw = seq.to_bytes(8, "big") + (next(self._salt) & 0xFFFFFFFFFFFF).to_bytes(6, "big")
        return "CAEQ" + base64.urlsafe_b64encode(raw + os.urandom(16)).decode().rstrip("=")


def check_version_id(value: str | None) -> str:
    """A versionId parameter: 'null' or an id this emulator could have made; else 400."""
    if value is None or not (value == NULL or _ID_RE.match(value)):
        raise errors.InvalidArgument(
            f"versionId {value!r} is not a valid version id.",
            ArgumentName="versionId",
            ArgumentValue=value or "",
        )
    return value


def assign(rec: ObjectRecord, status: str, ids: VersionIds) -> None:
    """Give a new write (or delete marker) its seq and version id under the bucket's status."""
    rec.seq = ids.next_seq()
    if status == "Enabled":
        rec.version_id = ids.new_id(rec.seq)
    elif status == "Suspended":
        rec.version_id = NULL


def make_room(storage: Storage, bucket: str, key: str, status: str) -> list[str]:
    """Before a new current version is written: keep or drop the present ones; returns the
    data paths no version uses any more. Call under storage.lock."""
    if not status:
        return []  # never versioned: the write replaces the row (put_object returns the path)
    current = storage.get_object(bucket, key)
    dropped = []
    if status == "Suspended":
        # the new null version replaces the old null version, wherever it is
        dropped.append(storage.delete_noncurrent(bucket, key, NULL))
        if current is not None and current.version_id in ("", NULL):
            return dropped  # put_object replaces it (and returns its path)
    if current is not None:
        storage.archive_current(bucket, key)
    return dropped


def delete_marker(bucket: str, key: str, clock: float) -> ObjectRecord:
    return ObjectRecord(
        bucket, key, "", 0, "", 0, "", clock, "Standard", "DeleteMarker", {}, delete_marker=True
    )


def delete_version(storage: Storage, bucket: str, key: str, version_id: str) -> ObjectRecord | None:
    """Remove one version for good (the newest remaining becomes current); returns it, or None
    when no such version exists. Call under storage.lock."""
    current = storage.get_object(bucket, key)
    if current is not None and (current.version_id or NULL) == version_id:
        storage.discard(storage.delete_object(bucket, key))
        storage.promote_newest(bucket, key)
        return current
    rec = storage.get_version(bucket, key, version_id)
    if rec is None:
        return None
    storage.discard(storage.delete_noncurrent(bucket, key, version_id))
    return rec
