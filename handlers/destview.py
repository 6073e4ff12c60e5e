"""What the destination already holds, learned from listings instead of one HEAD per object.

Pages walk keys mostly in order (listings always, sorted indexes usually), so one
LIST of up to 1,000 keys answers the "already copied?" question for the next ~1,000
objects: a first run costs one LIST per page instead of one HEAD per object.
"""

from __future__ import annotations

import threading

from .listing import ListedObject, ListPage, oss_list_page


class DestinationView:
    """Answers lookups from windows ``(low, high]`` of listed destination keys.

    Workers ask in roughly ascending order (a page's items run concurrently), so the
    last few windows are kept: a straggler just below the newest window is still answered.
    """

    KEEP_WINDOWS = 4

    def __init__(self, list_page: ListPage, prefix: str, page_size: int = 1000):
        self.list_page = list_page
        self.prefix = prefix
        self.page_size = page_size
        self._lock = threading.Lock()  # the windows; held only to read or swap them
        self._listing = threading.Lock()  # one LIST at a time; lookups that hit never wait
        # (low exclusive, high inclusive or None = end of prefix, objects)
        self._windows: list[tuple[str, str | None, dict[str, ListedObject]]] = []
        self.lists = 0

    @classmethod
    def of_bucket(cls, bucket, prefix: str, retry) -> DestinationView:
        return cls(oss_list_page(bucket, retry), prefix)

    def _window_for(self, key: str):
        for low, high, objects in self._windows:
            if key > low and (high is None or key <= high):
                return objects
        return None

    def lookup(self, key: str) -> ListedObject | None:
        with self._lock:
            objects = self._window_for(key)
        if objects is None:
            with self._listing:
                with self._lock:  # another worker's LIST may have brought it meanwhile
                    objects = self._window_for(key)
                if objects is None:
                    objects = self._load(key)
        return objects.get(key)

    def _load(self, key: str) -> dict[str, ListedObject]:
        marker = just_below(key)
        while True:
            page = self.list_page(self.prefix, marker, self.page_size)
            high = page.objects[-1].key if page.truncated and page.objects else None
            objects = {o.key: o for o in page.objects}
            with self._lock:
                self.lists += 1
                kept = self._windows[-(self.KEEP_WINDOWS - 1) :]
                self._windows = [*kept, (marker, high, objects)]
            if high is None or key <= high:
                return objects
            marker = high  # keys between the marker and the key filled the page


def just_below(key: str) -> str:
    """A marker that sorts immediately before ``key`` (OSS markers are exclusive)."""
    last = ord(key[-1])
    if last == 0:
        return key[:-1]
    prev = last - 1
    if 0xD800 <= prev <= 0xDFFF:  # surrogates are not encodable: step below them
        prev = 0xD7FF
    return key[:-1] + chr(prev) + "\U0010ffff"
