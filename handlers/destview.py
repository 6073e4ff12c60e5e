"""What the destination already holds, learned from listings instead of one HEAD per object.

Pages walk keys mostly in order (listings always, sorted indexes usually), so one
LIST of up to 1,000 keys answers the "already copied?" question for the next ~1,000
objects: a first run costs one LIST per page instead of one HEAD per object.
"""

from __future__ import annotations

import threading

from .listing import ListedObject, ListPage, oss_list_page


class DestinationView:
    """Answers lookups from windows ``(low, high]`` of listed destination keys."""

    def __init__(self, list_page: ListPage, prefix: str, page_size: int = 1000):
        self.list_page = list_page
        self.prefix = prefix
        self.page_size = page_size
        self._lock = threading.Lock()
        self._low: str | None = None
        self._high: str | None = None  # None with a window = up to the end of the prefix
        self._objects: dict[str, ListedObject] = {}
        self.lists = 0

    @classmethod
    def of_bucket(cls, bucket, prefix: str, retry) -> DestinationView:
        return cls(oss_list_page(bucket, retry), prefix)

    def _covers(self, key: str) -> bool:
        return (
            self._low is not None and key > self._low and (self._high is None or key <= self._high)
        )

    def lookup(self, key: str) -> ListedObject | None:
        with self._lock:
            if not self._covers(key):
                self._load(key)
            return self._objects.get(key)

    def _load(self, key: str) -> None:
        marker = just_below(key)
        while True:
            page = self.list_page(self.prefix, marker, self.page_size)
            self.lists += 1
            self._objects = {o.key: o for o in page.objects}
            self._low = marker
            self._high = page.objects[-1].key if page.truncated and page.objects else None
            if self._covers(key):
                return
            marker = self._high  # keys between the marker and the key filled the page


def just_below(key: str) -> str:
    """A marker that sorts immediately before ``key`` (OSS markers are exclusive)."""
    last = ord(key[-1])
    if last == 0:
        return key[:-1]
    prev = last - 1
    if 0xD800 <= prev <= 0xDFFF:  # surrogates are not encodable: step below them
        prev = 0xD7FF
    return key[:-1] + chr(prev) + "\U0010ffff"
