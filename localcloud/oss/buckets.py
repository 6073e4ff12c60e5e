"""Bucket semantics: create (with storage class and ACL), delete, list, info, ACL, stat."""

from __future__ import annotations

import time

from . import errors
from .names import ACLS, check_bucket_name, storage_class
from .storage import BucketRecord, Storage


class Buckets:
    def __init__(self, storage: Storage, region: str, clock=time.time):
        self.storage = storage
        self.location = f"oss-{region}"
        self.clock = clock
        self._cache: dict[
            str, BucketRecord
        ] = {}  # hot path: every object request looks up its bucket

    def get(self, name: str) -> BucketRecord:
        rec = self._cache.get(name)
        if rec is None:
            rec = self.storage.get_bucket(name)
            if rec is None:
                raise errors.NoSuchBucket(BucketName=name)
            self._cache[name] = rec
        return rec

    def create(self, name: str, acl: str | None, storage_class_value: str | None) -> BucketRecord:
        check_bucket_name(name)
        acl = acl or "private"
        if acl not in ACLS:
            raise errors.InvalidArgument(
                f"Unsupported ACL {acl!r}.", ArgumentName="x-oss-acl", ArgumentValue=acl
            )
        rec = BucketRecord(
            name, self.clock(), storage_class(storage_class_value, "Standard"), acl, self.location
        )
        if not self.storage.insert_bucket(rec):
            # OSS answers 200 when the caller already owns the bucket (single-account emulator)
            return self.get(name)
        self._cache[name] = rec
        return rec

    def delete(self, name: str) -> None:
        self.get(name)
        if self.storage.bucket_has_objects(name):
            raise errors.BucketNotEmpty(
                f"The bucket {name!r} is not empty: delete its objects and multipart uploads first.",
                BucketName=name,
            )
        self.storage.delete_bucket(name)
        self._cache.pop(name, None)

    def set_acl(self, name: str, acl: str) -> None:
        self.get(name)
        if acl not in ACLS:
            raise errors.InvalidArgument(
                f"Unsupported ACL {acl!r}.", ArgumentName="x-oss-acl", ArgumentValue=acl
            )
        self.storage.set_bucket_acl(name, acl)
        self._cache.pop(name, None)

    def set_versioning(self, name: str, status: str) -> None:
        self.get(name)
        if status not in ("Enabled", "Suspended"):
            raise errors.MalformedXML(
                f"VersioningConfiguration Status must be Enabled or Suspended, got {status!r}."
            )
        self.storage.set_bucket_versioning(name, status)
        self._cache.pop(name, None)

    def list(self, prefix: str, marker: str, max_keys: int) -> tuple[list[BucketRecord], bool]:
        rows = self.storage.list_buckets(prefix, marker, max_keys + 1)
        return rows[:max_keys], len(rows) > max_keys
