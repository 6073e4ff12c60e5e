"""Archive restore lifecycle on a scaled clock: durations per class/tier, expiry after Days.

State lives in the object row (restore_started / restore_ready / restore_days); it is computed
from timestamps on each request, so no background job is needed and restarts keep it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from . import errors
from .names import ARCHIVED_CLASSES
from .storage import ObjectRecord, Storage
from .xmlwire import http_date

TIERS = {
    "Archive": ("Standard",),
    "ColdArchive": ("Expedited", "Standard", "Bulk"),
    "DeepColdArchive": ("Expedited", "Standard", "Bulk"),
}
DEFAULT_TIER = {"Archive": "Standard", "ColdArchive": "Standard", "DeepColdArchive": "Standard"}
MAX_DAYS = {"Archive": 7, "ColdArchive": 365, "DeepColdArchive": 365}
# local defaults: same order as OSS (Archive ~1 min, Cold hours, DeepCold 12-48 h), scaled to seconds
DEFAULT_SECONDS = {
    ("Archive", "Standard"): 2.0,
    ("ColdArchive", "Expedited"): 2.0,
    ("ColdArchive", "Standard"): 5.0,
    ("ColdArchive", "Bulk"): 10.0,
    ("DeepColdArchive", "Expedited"): 10.0,
    ("DeepColdArchive", "Standard"): 10.0,
    ("DeepColdArchive", "Bulk"): 20.0,
}


def parse_restore_seconds(spec: str) -> dict[tuple[str, str], float]:
    """`Archive=1,ColdArchive=2,ColdArchive.Bulk=5`: a bare class sets all its tiers."""
    table = dict(DEFAULT_SECONDS)
    for item in filter(None, (s.strip() for s in (spec or "").split(","))):
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(
                f"--restore-seconds item {item!r} is not CLASS=SECONDS or CLASS.TIER=SECONDS"
            )
        cls, _, tier = name.strip().partition(".")
        if cls not in TIERS or (tier and tier not in TIERS[cls]):
            raise ValueError(
                f"--restore-seconds: unknown class/tier {name!r}; classes: {', '.join(TIERS)}"
            )
        try:
            seconds = float(value)
        except ValueError:
            raise ValueError(f"--restore-seconds: {value!r} is not a number of seconds") from None
        if seconds < 0:
            raise ValueError(f"--restore-seconds: {name} must be >= 0")
        for t in [tier] if tier else TIERS[cls]:
            table[(cls, t)] = seconds
    return table


@dataclass
class RestoreClock:
    seconds: dict[tuple[str, str], float] = field(default_factory=lambda: dict(DEFAULT_SECONDS))
    day_seconds: float = 86400.0  # length of one restore "Day" (scaled down for tests)
    clock: object = time.time

    def state(self, rec: ObjectRecord, now: float | None = None) -> str:
        """'none' (never or expired), 'ongoing', or 'done'."""
        if rec.restore_ready is None:
            return "none"
        now = self.clock() if now is None else now
        if now < rec.restore_ready:
            return "ongoing"
        if now >= self.expiry(rec):
            return "none"
        return "done"

    def expiry(self, rec: ObjectRecord) -> float:
        return rec.restore_ready + (rec.restore_days or 1) * self.day_seconds

    def readable(self, rec: ObjectRecord) -> bool:
        return rec.storage_class not in ARCHIVED_CLASSES or self.state(rec) == "done"

    def header(self, rec: ObjectRecord) -> str | None:
        """x-oss-restore exactly as OSS writes it, or None when no restore is in effect."""
        state = self.state(rec)
        if state == "ongoing":
            return 'ongoing-request="true"'
        if state == "done":
            return f'ongoing-request="false", expiry-date="{http_date(self.expiry(rec))}"'
        return None

    def require_readable(self, rec: ObjectRecord) -> None:
        if not self.readable(rec):
            raise errors.InvalidObjectState(
                f"The object {rec.key!r} is {rec.storage_class} and not restored: "
                'call RestoreObject and wait until x-oss-restore shows ongoing-request="false".',
                Key=rec.key,
            )

    def request(
        self, storage: Storage, rec: ObjectRecord, days: int | None, tier: str | None
    ) -> int:
        """Start (202), refuse while running (409), or extend a finished restore (200)."""
        cls = rec.storage_class
        if cls not in ARCHIVED_CLASSES:
            raise errors.OperationNotSupported(
                f"The object {rec.key!r} is {cls}: only Archive, ColdArchive and DeepColdArchive "
                "objects can be restored.",
                Key=rec.key,
            )
        days = 1 if days is None else days
        if not 1 <= days <= MAX_DAYS[cls]:
            raise errors.InvalidArgument(
                f"Days must be 1..{MAX_DAYS[cls]} for {cls}, got {days}.",
                ArgumentName="Days",
                ArgumentValue=str(days),
            )
        tier = tier or DEFAULT_TIER[cls]
        if cls != "Archive" and tier not in TIERS[cls]:
            raise errors.InvalidArgument(
                f"Tier {tier!r} is not valid for {cls}; use one of {', '.join(TIERS[cls])}.",
                ArgumentName="Tier",
                ArgumentValue=tier,
            )
        now = self.clock()
        state = self.state(rec, now)
        if state == "ongoing":
            raise errors.RestoreAlreadyInProgress(Key=rec.key)
        if state == "done":
            # a restored copy's lifetime is extended to Days from now
            new_days = math.ceil((now - rec.restore_ready) / self.day_seconds) + days
            storage.update_restore(
                rec.bucket,
                rec.key,
                rec.restore_started,
                rec.restore_ready,
                new_days,
                rec.version_id,
            )
            return 200
        duration = self.seconds.get((cls, tier if cls != "Archive" else "Standard"), 0.0)
        storage.update_restore(rec.bucket, rec.key, now, now + duration, days, rec.version_id)
        return 202
