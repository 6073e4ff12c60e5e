"""ObjectCreated event delivery to in-process subscribers (the local FC runtime's OSS triggers).

Events are queued on the request path and delivered by one background thread, so a slow or
failing subscriber never delays or breaks an OSS answer.
"""

from __future__ import annotations

import copy
import itertools
import logging
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .xmlwire import iso8601

log = logging.getLogger("localcloud.oss.notifications")

OBJECT_CREATED = (
    "ObjectCreated:PutObject",
    "ObjectCreated:PostObject",
    "ObjectCreated:CompleteMultipartUpload",
    "ObjectCreated:CopyObject",
)


@dataclass(frozen=True)
class Subscription:
    id: str
    bucket: str
    prefix: str
    suffix: str
    events: frozenset[str] | None  # None: every ObjectCreated event
    callback: Callable[[dict], None]

    def matches(self, event_name: str, bucket: str, key: str) -> bool:
        if (
            bucket != self.bucket
            or not key.startswith(self.prefix)
            or not key.endswith(self.suffix)
        ):
            return False
        if self.events is None:
            return True
        return event_name in self.events or "ObjectCreated:*" in self.events


def _normalise(events: Iterable[str] | None) -> frozenset[str] | None:
    if events is None:
        return None
    names = set()
    for e in events:
        name = (
            e[4:] if e.startswith("oss:") else e
        )  # FC trigger configs spell them oss:ObjectCreated:...
        names.add(name)
    return frozenset(names) or None


class NotificationHub:
    def __init__(self, region: str, account_id: str, clock=None):
        import time

        self.region = region
        self.account_id = account_id
        self.clock = clock or time.time
        self._subs: dict[str, Subscription] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.delivered = 0
        self.failed = 0

    def subscribe(
        self,
        bucket: str,
        prefix: str = "",
        suffix: str = "",
        events: Iterable[str] | None = None,
        callback: Callable[[dict], None] = None,
    ) -> str:
        """Call callback({"events": [...]}) for matching ObjectCreated events; returns the id."""
        if callback is None:
            raise TypeError("subscribe() needs a callback")
        with self._lock:
            sub_id = f"sub-{next(self._ids)}"
            self._subs[sub_id] = Subscription(
                sub_id, bucket, prefix or "", suffix or "", _normalise(events), callback
            )
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._deliver_forever, name="oss-notifications", daemon=True
                )
                self._thread.start()
        return sub_id

    def unsubscribe(self, sub_id: str) -> bool:
        with self._lock:
            return self._subs.pop(sub_id, None) is not None

    def publish(
        self,
        event_name: str,
        bucket: str,
        key: str,
        size: int,
        etag: str,
        delta_size: int,
        request_id: str,
        source_ip: str = "127.0.0.1",
    ) -> None:
        """Queue one event; cheap when nobody is subscribed."""
        if not self._subs:
            return
        matching = [s for s in list(self._subs.values()) if s.matches(event_name, bucket, key)]
        if not matching:
            return
        event = {
            "events": [
                {
                    "eventName": event_name,
                    "eventSource": "acs:oss",
                    "eventTime": iso8601(self.clock()),
                    "eventVersion": "1.0",
                    "oss": {
                        "bucket": {
                            "arn": f"acs:oss:{self.region}:{self.account_id}:{bucket}",
                            "name": bucket,
                            "ownerIdentity": self.account_id,
                            "virtualBucket": "",
                        },
                        "object": {"deltaSize": delta_size, "eTag": etag, "key": key, "size": size},
                        "ossSchemaVersion": "1.0",
                        "ruleId": "localcloud",
                    },
                    "region": self.region,
                    "requestParameters": {"sourceIPAddress": source_ip},
                    "responseElements": {"requestId": request_id},
                    "userIdentity": {"principalId": self.account_id},
                }
            ]
        }
        for sub in matching:
            self._queue.put((sub, event))

    def _deliver_forever(self) -> None:
        while True:
            sub, event = self._queue.get()
            if sub is None:
                return
            try:
                sub.callback(copy.deepcopy(event))  # each subscriber may keep/mutate its own
                self.delivered += 1
            except Exception:  # a subscriber's bug must not stop deliveries to the others
                self.failed += 1
                log.exception("notification subscriber %s failed", sub.id)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put((None, None))
            self._thread.join(timeout=5)
