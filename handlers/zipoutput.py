"""Output objects and who wrote them: ``unzip.on_existing`` (docs/decisions/unzip-output-ownership.md).

Every object unzip writes carries ``x-oss-meta-ossbatch-package`` (the package's
bucket/key, URL-quoted) and ``x-oss-meta-ossbatch-etag``. An existing object another
run of the same package wrote is always overwritten; any other existing object is
overwritten only with ``on_existing: overwrite``; with ``skip`` the entry is skipped and
with ``fail`` (the default) it fails, both as ``OutputExists``.

Small entries cost nothing extra: the PUT carries ``x-oss-forbid-overwrite`` and only a
409 FileAlreadyExists leads to a HEAD (and, for our own object, a second PUT). Multipart
entries HEAD their key once before the upload starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

import oss2

from .clients import put_verified
from .retrying import RetryPolicy

OnExisting = Literal["overwrite", "skip", "fail"]
PACKAGE_META = "x-oss-meta-ossbatch-package"
ETAG_META = "x-oss-meta-ossbatch-etag"


class OutputExists(Exception):
    """An object another writer made is where an entry would go (and may not be replaced)."""

    def __init__(self, key: str, mode: str, owner: str | None):
        by = f"package {owner}" if owner else "no unzip run"
        super().__init__(
            f"{key} already exists (written by {by}); unzip.on_existing is {mode}: "
            "remove it, or set on_existing to overwrite"
        )
        self.key, self.mode = key, mode
        self.code = "OutputExists"


@dataclass(frozen=True)
class OutputOwner:
    """The package version whose extraction writes these objects, and what to do with others."""

    package: str  # bucket/key, URL-quoted (metadata values must be plain ASCII)
    etag: str
    on_existing: OnExisting = "fail"

    @classmethod
    def of(cls, bucket: str, key: str, etag: str, on_existing: OnExisting) -> OutputOwner:
        return cls(quote(f"{bucket}/{key}", safe="/"), etag, on_existing)

    def headers(self) -> dict[str, str]:
        return {PACKAGE_META: self.package, ETAG_META: self.etag}

    def put(self, bucket, retry: RetryPolicy, key: str, data: bytes) -> None:
        """PUT an entry's bytes, refusing to replace what another writer made."""
        if self.on_existing == "overwrite":
            put_verified(bucket, retry, key, data, self.headers())
            return
        try:
            put_verified(
                bucket, retry, key, data, {**self.headers(), "x-oss-forbid-overwrite": "true"}
            )
            return
        except oss2.exceptions.OssError as exc:
            if exc.status != 409 or exc.code != "FileAlreadyExists":
                raise
        self.check_replaceable(bucket, retry, key)
        put_verified(bucket, retry, key, data, self.headers())

    def check_replaceable(self, bucket, retry: RetryPolicy, key: str) -> None:
        """Raise OutputExists unless ``key`` is absent, ours, or may be overwritten."""
        if self.on_existing == "overwrite":
            return
        try:
            head = retry.call(bucket.head_object, key)
        except oss2.exceptions.NotFound:
            return
        owner = head.headers.get(PACKAGE_META)
        if owner != self.package:
            raise OutputExists(key, self.on_existing, owner)
