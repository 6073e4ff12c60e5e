"""One extraction at a time per package key, and the newest version wins
(docs/decisions/unzip-package-lease.md).

A lease object ``<report prefix>leases/unzip/<hash of bucket/key>.json`` in the report
bucket names the package version being extracted. It is created with
``x-oss-forbid-overwrite`` (so two versions cannot both create it), renewed by every page
of the same version, released by the flow's last step, and expires (``lease_seconds``)
when its holder crashed. A run that finds another version's live lease raises
``PackageBusy`` (the flow retries it). A run whose package was replaced stops at its next
version check (before each write, at most every ``version_check_seconds``), releases its
lease and fails with ``PackageChanged``: it never writes after the newer version started
and never reports success.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import oss2

from .clients import put_verified, raise_if_systemic
from .errors import PackageRejected
from .retrying import RetryPolicy


class PackageBusy(Exception):
    """Another version of this package is being extracted; retry once it stops."""


def lease_key(report_prefix: str, bucket: str, key: str) -> str:
    digest = hashlib.sha256(f"{bucket}\0{key}".encode()).hexdigest()[:32]
    return f"{report_prefix.strip('/')}/leases/unzip/{digest}.json".lstrip("/")


@dataclass
class PackageLease:
    bucket: oss2.Bucket  # the report bucket
    key: str
    retry: RetryPolicy
    package: str  # oss://bucket/key, for messages
    etag: str  # the version this run extracts
    holder: str  # job id
    seconds: float

    def _body(self) -> bytes:
        expires = time.time() + self.seconds
        doc = {
            "package": self.package,
            "etag": self.etag,
            "holder": self.holder,
            "expires_at": expires,
        }
        return json.dumps(doc).encode()

    def _put(self, exclusive: bool) -> bool:
        headers = {"Content-Type": "application/json"}
        if exclusive:
            headers["x-oss-forbid-overwrite"] = "true"
        try:
            put_verified(
                self.bucket, self.retry, self.key, self._body(), headers, refuse_damaged=True
            )
        except oss2.exceptions.OssError as exc:
            if exc.status == 409 and exc.code == "FileAlreadyExists":
                return False
            raise_if_systemic(exc, self.bucket.bucket_name, role="report")
            raise
        return True

    def current(self) -> dict | None:
        try:
            return json.loads(self.retry.call(self.bucket.get_object, self.key).read())
        except oss2.exceptions.NotFound:
            return None
        except ValueError:
            return {}  # unreadable: treated as expired

    def acquire(self) -> None:
        """Take or renew the lease for this version; PackageBusy while another holds it."""
        if self._put(exclusive=True):
            return
        held = self.current()
        if held is not None and held.get("etag") == self.etag:
            self._put(exclusive=False)  # our own version (an earlier page): renew
            return
        if held and held.get("expires_at", 0) > time.time():
            raise PackageBusy(
                f"{self.package}: version {held.get('etag')} (job {held.get('holder')}) is "
                f"still being extracted; version {self.etag} waits for it to stop"
            )
        self._delete()  # expired: its holder crashed
        if not self._put(exclusive=True):
            raise PackageBusy(f"{self.package}: another extraction took the expired lease first")

    def release(self) -> bool:
        """Remove the lease if it is this version's; True when it was."""
        held = self.current()
        if held is None or held.get("etag") != self.etag:
            return False
        self._delete()
        return True

    def _delete(self) -> None:
        try:
            self.retry.call(self.bucket.delete_object, self.key)
        except oss2.exceptions.NotFound:
            pass


@dataclass
class VersionGuard:
    """Re-checks that the package is still the version being extracted (throttled).

    ``current`` answers the package's current ETag (handlers.packagesource.locate: through
    a symlink, the target's), raising PackageRejected when the package is gone.
    """

    current: Callable[[], str]
    package: str  # oss://bucket/key, for messages
    etag: str
    interval: float
    lease: PackageLease | None = None
    _checked_at: float = 0.0

    def __call__(self) -> None:
        now = time.monotonic()
        if self.interval and now - self._checked_at < self.interval:
            return
        self.check()
        self._checked_at = now

    def check(self) -> None:
        try:
            current = self.current()
        except PackageRejected:
            self._let_go()
            raise
        if current != self.etag:
            self._let_go()
            raise PackageRejected(
                "PackageChanged",
                f"{self.package} is now version {current}, not the extracted {self.etag}: "
                "this run stops; the newer version's run extracts it",
            )

    def _let_go(self) -> None:
        if self.lease is not None:
            self.lease.release()  # let the newer version's run start now
