"""Which object and version an unzip reads for a package key, on versioned buckets and through
symlinks.

A package is pinned by the ETag of the upload that triggered it. On a versioned bucket a newer
upload of the same key does not move the pin: the version holding the pinned ETag is found
(ListObjectVersions) and read, and later deleted, by its versionId, so the newer upload is
never touched and no delete marker hides it. A PutSymlink upload is read through its target:
the bytes, If-Match and the package identity use the target's ETag; the pin may name either
the link's own ETag (the PutSymlink event's) or the target's.
"""

from __future__ import annotations

from dataclasses import dataclass

import oss2

from .errors import PackageRejected
from .events import PackageRef
from .zipio import raise_package_error


@dataclass(frozen=True)
class PackageSource:
    read_key: str  # the package key, or the target of a symlink
    etag: str  # ETag of the bytes read (upper case, no quotes)
    size: int
    version_id: str | None  # version of read_key that is read; None: unversioned
    own_version_id: str | None  # version of the package key itself (the link's, for a symlink)
    target_key: str | None = None  # set when the package key is a symlink

    def read_params(self) -> dict | None:
        return {"versionId": self.version_id} if self.version_id else None


def _etag(value: str | None) -> str:
    return (value or "").strip('"').upper()


def _head(bucket: oss2.Bucket, key: str, retry, params=None):
    try:
        return retry.call(bucket.head_object, key, params=params)
    except oss2.exceptions.OssError as exc:
        raise_package_error(exc, bucket.bucket_name, key)
        raise


def _version_with_etag(bucket: oss2.Bucket, key: str, etag: str, retry):
    """The newest version of key whose ETag is etag (None: no such version is left)."""
    key_marker = vid_marker = ""
    while True:
        page = retry.call(
            bucket.list_object_versions,
            prefix=key,
            key_marker=key_marker,
            versionid_marker=vid_marker,
            max_keys=1000,
        )
        for version in page.versions:
            if version.key == key and _etag(version.etag) == etag:
                return version
        if not page.is_truncated or any(v.key > key for v in page.versions):
            return None
        key_marker, vid_marker = page.next_key_marker, page.next_versionid_marker


def locate(bucket: oss2.Bucket, pkg: PackageRef, retry) -> PackageSource:
    pinned = _etag(pkg.etag) if pkg.etag else None
    head = _head(bucket, pkg.key, retry)
    own_version = head.versionid
    if head.object_type == "Symlink":
        return _through_link(bucket, pkg, head, pinned, retry)
    etag, size, version_id = _etag(head.etag), head.content_length, own_version
    if pinned and etag != pinned:
        older = _version_with_etag(bucket, pkg.key, pinned, retry) if own_version else None
        if older is None:
            raise PackageRejected(
                "PackageChanged",
                f"oss://{pkg.bucket}/{pkg.key} is now {etag}, not the uploaded {pinned}, and no "
                "version with that ETag is left",
            )
        etag, size, version_id = pinned, older.size, older.versionid
        own_version = older.versionid
    return PackageSource(pkg.key, etag, size, version_id, own_version)


def _through_link(bucket: oss2.Bucket, pkg: PackageRef, head, pinned, retry) -> PackageSource:
    link = retry.call(bucket.get_symlink, pkg.key)
    link_etag = _etag(link.headers.get("etag"))
    target_etag = _etag(head.etag)
    if pinned and pinned not in (link_etag, target_etag):
        raise PackageRejected(
            "PackageChanged",
            f"oss://{pkg.bucket}/{pkg.key} is now another link ({link_etag}), not the uploaded {pinned}",
        )
    target = _head(bucket, link.target_key, retry)  # the target's own version id
    return PackageSource(
        link.target_key,
        _etag(target.etag),
        target.content_length,
        target.versionid,
        head.versionid,
        target_key=link.target_key,
    )
