"""Symbolic links: PutSymlink makes a 0-byte object of type Symlink naming a target key in the
same bucket; GET/HEAD through it answer the target's bytes, ETag and size.

https://www.alibabacloud.com/help/en/oss/developer-reference/putsymlink: the target need not
exist when the link is made; reading a link whose target is missing is 404
SymlinkTargetNotExist, a link to a link is 400 InvalidTargetType. The link keeps its own
metadata, tags, ACL and version.
"""

from __future__ import annotations

import hashlib
from urllib.parse import unquote

from . import errors
from .names import check_object_key, storage_class
from .objects import Objects, object_meta_from_headers
from .storage import ObjectRecord, Storage

TARGET_META = ":symlink-target"  # internal meta entry: the target key
TARGET_HEADER = "x-oss-symlink-target"


class Symlinks:
    def __init__(self, storage: Storage, objects: Objects):
        self.storage = storage
        self.objects = objects

    def create(
        self, bucket: str, key: str, headers: dict[str, str], default_class: str, request_id: str
    ) -> ObjectRecord:
        check_object_key(key)
        raw_target = headers.get(TARGET_HEADER)
        if not raw_target:
            raise errors.InvalidArgument(
                f"PutSymlink needs the {TARGET_HEADER} header (the URL-encoded target key).",
                ArgumentName=TARGET_HEADER,
            )
        target = check_object_key(unquote(raw_target))
        if headers.get("x-oss-forbid-overwrite", "").lower() == "true":
            present = self.storage.get_object(bucket, key)
            if present is not None and not present.delete_marker:
                raise errors.FileAlreadyExists(Key=key)
        meta = object_meta_from_headers(headers)
        meta[TARGET_META] = target
        rec = ObjectRecord(
            bucket,
            key,
            "",
            0,
            hashlib.md5(target.encode()).hexdigest().upper(),
            0,
            headers.get("content-type") or "application/octet-stream",
            self.objects.clock(),
            storage_class(headers.get("x-oss-storage-class"), default_class),
            "Symlink",
            meta,
        )
        return self.objects._store(rec, request_id, "ObjectCreated:PutSymlink", b"")

    @staticmethod
    def target_of(link: ObjectRecord) -> str:
        return link.meta[TARGET_META]

    def follow(self, rec: ObjectRecord, with_data: bool = False) -> ObjectRecord:
        """The object a read answers with: rec itself, or the current version of its target."""
        if rec.object_type != "Symlink":
            return rec
        target_key = self.target_of(rec)
        target = self.storage.get_object(rec.bucket, target_key, with_data)
        if target is None or target.delete_marker:
            raise errors.SymlinkTargetNotExist(Key=rec.key, TargetKey=target_key)
        if target.object_type == "Symlink":
            raise errors.InvalidTargetType(
                f"The symlink {rec.key!r} points to {target_key!r}, which is a symlink too.",
                Key=rec.key,
            )
        return target
