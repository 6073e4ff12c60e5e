"""The key split's probe listings: each listed once, concurrently where independent, and
reused for every listing they already answer.

A page listed under prefix P after marker M holds every key of P in (M, last] (in
(M, end) when not truncated). A listing under a longer prefix Q after m is implied by it
when no key of Q that the listing wants sorts at or before M (m >= M, or M < Q): its keys
are the page's keys of Q after m. It is complete when the page also holds a key past Q's
run or is not truncated, else it is the start of the real answer (truncated). So the
first page of a child, and the "anything past this run?" probes, usually cost nothing.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from handlers.listing import ListingPage

# list_page(prefix, marker, max_keys) -> ListingPage (handlers.listing)
ListPage = Callable[[str, str, int], ListingPage]

# candidate pages checked per ancestor prefix, nearest marker first
CANDIDATES = 3
# percent of the request budget that guessed pages (listed ahead, maybe never used) may take
GUESS_SHARE = 25
# a skip past a child at least a page long lists this fraction of a page: the same answer
# (where the next child starts) for a tenth of the keys to serialise and parse
SHORT_PAGE_FRACTION = 10


@dataclass(frozen=True)
class Listed:
    marker: str
    page: ListingPage
    keys: list[str]


class ProbePages:
    """Probe listings within a request budget; ``parallel`` bounds the requests in flight."""

    def __init__(self, list_page: ListPage, page_size: int, budget: int, parallel: int = 8):
        self.list_page, self.page_size, self.budget = list_page, page_size, budget
        self.parallel = max(1, parallel)
        self.requests = 0
        self.guessed, self.guess_budget = 0, budget * GUESS_SHARE // 100
        # listings that only need to find where the next child starts: a short page will do
        self.short: set[tuple[str, str]] = set()
        self.skip_size = max(1, page_size // SHORT_PAGE_FRACTION)
        self.listed = [0, 0]  # [objects, bytes] over every page actually listed
        self._pages: dict[str, dict[str, Listed]] = {}  # prefix -> marker -> page
        self._markers: dict[str, list[str]] = {}  # prefix -> its pages' markers, sorted
        self._lock = threading.Lock()
        self.width = 4 * self.parallel  # requests in flight at once, nested walks included
        self._slots = threading.BoundedSemaphore(self.width)

    @property
    def spent(self) -> bool:
        return self.requests >= self.budget

    def get(self, prefix: str, marker: str) -> ListingPage:
        """The page a listing under ``prefix`` after ``marker`` returns: known, else listed."""
        page = self.known(prefix, marker)
        return page if page is not None else self._list(prefix, marker)

    def prefetch(self, prefix: str, markers: list[str]) -> None:
        """List, concurrently, the page the walk needs next (``markers[0]``) and the pages
        it will probably need after it (guesses)."""
        self.prefetch_pages([(prefix, m) for m in markers])

    def prefetch_pages(self, wanted: list[tuple[str, str]]) -> None:
        """``prefetch`` over (prefix, marker) pairs; the first is listed even when a page
        implies part of it, the guesses only when nothing implies them yet."""
        if self.parallel < 2 or not wanted:
            return
        with self._lock:
            needed, *guesses = wanted
            guesses = [g for g in dict.fromkeys(guesses) if g != needed]
            guesses = [g for g in guesses if self.known(*g) is None]
            # guesses get a share of the budget: a wrong one leaves the walk a request short
            room = min(self.budget - self.requests - 1, self.guess_budget - self.guessed)
            guesses = guesses[: max(0, room)]
            self.guessed += len(guesses)
        if not guesses:
            return  # the walk lists the one it needs itself
        pairs = [needed, *guesses]
        with ThreadPoolExecutor(min(len(pairs), self.width)) as pool:
            list(pool.map(lambda g: self._list(*g, optional=True), pairs))

    def listed_page(self, prefix: str, marker: str) -> ListingPage | None:
        """The page when it was listed itself (not only implied by another)."""
        found = self._pages.get(prefix, {}).get(marker)
        return found.page if found is not None else None

    def alias(self, prefix: str, marker: str, page: ListingPage) -> None:
        """Record what the walk knows this listing returns (e.g. a shared run's first page)."""
        with self._lock:
            self._store(prefix, marker, page)

    def known(self, prefix: str, marker: str) -> ListingPage | None:
        """The page, when a listed page (under this prefix or an ancestor) already implies it."""
        exact = self._pages.get(prefix, {}).get(marker)
        if exact is not None:
            return exact.page
        partial = None
        for n in range(len(prefix), -1, -1):
            markers = self._markers.get(prefix[:n])
            if not markers:
                continue
            pages = self._pages[prefix[:n]]
            # pages whose marker leaves no wanted key of ``prefix`` before their window
            end = max(bisect.bisect_right(markers, marker), bisect.bisect_left(markers, prefix))
            for m in reversed(markers[max(0, end - CANDIDATES) : end]):
                page = implied(pages[m], prefix, marker)
                if page is not None and not page.truncated:
                    return page
                if page is not None and (
                    partial is None or len(page.objects) > len(partial.objects)
                ):
                    partial = page
        # a short start of the answer samples a node too thinly: list it for real
        if partial is not None and 2 * len(partial.objects) >= self.page_size:
            return partial
        return None

    def _list(self, prefix: str, marker: str, optional: bool = False) -> ListingPage | None:
        with self._lock:
            if optional and (self.spent or marker in self._pages.get(prefix, {})):
                return None  # a guess never spends past the budget or lists a page twice
            self.requests += 1
        with self._slots:
            size = self.skip_size if (prefix, marker) in self.short else self.page_size
            page = self.list_page(prefix, marker, size)
        with self._lock:
            # a size average over every probe page, not only the first: pages spread over the trie
            self.listed[0] += len(page.objects)
            self.listed[1] += sum(o.size or 0 for o in page.objects)
            self._store(prefix, marker, page)
        return page

    def _store(self, prefix: str, marker: str, page: ListingPage) -> None:
        if marker not in self._pages.setdefault(prefix, {}):
            bisect.insort(self._markers.setdefault(prefix, []), marker)
        self._pages[prefix][marker] = Listed(marker, page, [o.key for o in page.objects])


def implied(listed: Listed, prefix: str, marker: str) -> ListingPage | None:
    """What listing ``prefix`` after ``marker`` returns, as far as ``listed`` (an ancestor
    prefix's page whose window starts early enough) shows it; None when it shows nothing."""
    keys = listed.keys
    if not (marker >= listed.marker or listed.marker < prefix):
        return None
    i = max(bisect.bisect_right(keys, marker), bisect.bisect_left(keys, prefix))
    j = i
    while j < len(keys) and keys[j].startswith(prefix):
        j += 1
    objects = listed.page.objects[i:j]
    # keys[j] >= prefix without starting with it sorts after every key of the prefix
    if j < len(keys) or not listed.page.truncated:
        return ListingPage(objects, False, objects[-1].key if objects else "")
    if not objects:
        return None
    return ListingPage(objects, True, objects[-1].key)
