"""OssService: the OSS emulator's state and semantics, built once per localcloud process."""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .auth import Authenticator, Credentials
from .buckets import Buckets
from .faults import FaultConfig, FaultInjector
from .multipart import Multipart
from .notifications import NotificationHub
from .objects import Objects
from .restore import DEFAULT_SECONDS, RestoreClock
from .storage import Storage
from .symlinks import Symlinks


@dataclass
class OssConfig:
    data_dir: Path
    credentials: Credentials
    account_id: str = "1000000000000001"
    restore_seconds: dict = field(default_factory=lambda: dict(DEFAULT_SECONDS))
    day_seconds: float = 86400.0
    faults: FaultConfig = field(default_factory=FaultConfig)


class OssService:
    """Everything behind the OSS listener; `notifications` is the hook other services use."""

    def __init__(self, config: OssConfig):
        self.config = config
        self.region = config.credentials.region
        self.account_id = config.account_id
        self.storage = Storage(config.data_dir)
        self.auth = Authenticator(config.credentials)
        self.notifications = NotificationHub(self.region, config.account_id)
        self.clock_offset = 0.0  # admin POST /clock moves the restore clock forward
        self.restore = RestoreClock(
            dict(config.restore_seconds), config.day_seconds, clock=self._restore_now
        )
        self.buckets = Buckets(self.storage, self.region)
        self.objects = Objects(
            self.storage,
            self.restore,
            self.notifications,
            versioning_of=lambda bucket: self.buckets.get(bucket).versioning,
        )
        self.multipart = Multipart(self.storage, self.objects)
        self.symlinks = Symlinks(self.storage, self.objects)
        self.faults = FaultInjector(config.faults)
        self.counters: Counter[str] = Counter()
        self._ids = itertools.count(1)
        self._id_prefix = "%08X" % (int(time.time()) & 0xFFFFFFFF)
        self._id_lock = threading.Lock()
        self.host_id = "localcloud-oss"
        self.ram = None  # localcloud's RamService when RAM runs (set by build): inventory roles

    def admin_route(self, method: str, path: str, body: bytes):
        """POST /oss/inventory/run {"bucket", "inventory_id", "rows_per_file"?}: write the
        inventory now (inventory_run.py); None for every other admin path."""
        if path != "/oss/inventory/run" or method != "POST":
            return None
        import json

        from . import inventory_run
        from .errors import OssError

        request = json.loads(body or b"{}")
        if not isinstance(request, dict) or set(request) - {
            "bucket",
            "inventory_id",
            "rows_per_file",
        }:
            raise ValueError(
                'POST /oss/inventory/run takes {"bucket", "inventory_id", "rows_per_file"?}'
            )
        try:
            return 200, inventory_run.run(
                self,
                str(request.get("bucket", "")),
                str(request.get("inventory_id", "")),
                request.get("rows_per_file"),
            )
        except inventory_run.InventoryRunError as exc:
            return exc.status, {"error": str(exc)}
        except OssError as exc:
            return exc.status, {"error": exc.message, "code": exc.code}

    def next_request_id(self) -> str:
        # 24 upper-case hex digits like OSS's x-oss-request-id; unique per process start
        return f"{self._id_prefix}{os.getpid() & 0xFFFF:04X}{next(self._ids):012X}"

    def _restore_now(self) -> float:
        return time.time() + self.clock_offset

    def advance_clock(self, seconds: float) -> float:
        """Fast-forward the restore clock (restores finish / expire sooner); returns the offset."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.clock_offset += seconds
        return self.clock_offset

    def counters_snapshot(self) -> dict[str, int]:
        return dict(self.counters)

    def reset_counters(self) -> None:
        self.counters.clear()

    def close(self) -> None:
        self.notifications.close()
        self.storage.close()
