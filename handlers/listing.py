"""Prefix listings paged from a marker: the continuation is the last key handed out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass


@dataclass(frozen=True)
class ListedObject:
    key: str
    size: int
    etag: str | None
    storage_class: str | None
    last_modified: float | None = None  # epoch seconds


@dataclass(frozen=True)
class ListingPage:
    objects: list[ListedObject]
    truncated: bool
    next_marker: str


# list_page(prefix, marker, max_keys) -> ListingPage
ListPage = Callable[[str, str, int], ListingPage]


def iter_listing(
    list_page: ListPage,
    prefix: str = "",
    marker: str = "",
    end_marker: str | None = None,
    page_size: int = 1000,
    *,
    prefetch: bool = False,
) -> Iterator[ListedObject]:
    """Every object with ``prefix`` whose key is > marker (and <= end_marker), in key order.

    ``prefetch`` lists the next page while the caller works through the current one, so a
    page's work never waits a LIST round trip; at most one page is listed ahead, and none
    past ``end_marker``.
    """
    ahead = ThreadPoolExecutor(1, thread_name_prefix="listing-ahead") if prefetch else None
    try:
        page = list_page(prefix, marker, page_size)
        while True:
            following = _next_marker(page, end_marker)
            upcoming = None
            if following is not None and ahead is not None:
                upcoming = ahead.submit(list_page, prefix, following, page_size)
            for obj in page.objects:
                if end_marker is not None and obj.key > end_marker:
                    return
                yield obj
            if following is None:
                return
            page = upcoming.result() if upcoming else list_page(prefix, following, page_size)
    finally:
        if ahead is not None:
            # an abandoned listing (the page's time budget ran out) drops its page ahead
            ahead.shutdown(wait=False, cancel_futures=True)


def _next_marker(page: ListingPage, end_marker: str | None) -> str | None:
    """Where the next page starts, or None when no key of the range can follow this page."""
    if not page.truncated or not page.objects:
        return None
    last = page.objects[-1].key
    if end_marker is not None and last >= end_marker:
        return None  # keys are unique and ascending: nothing after ``last`` is <= end_marker
    return page.next_marker or last


def oss_list_page(bucket, retry) -> ListPage:
    def list_page(prefix: str, marker: str, max_keys: int) -> ListingPage:
        result = retry.call(bucket.list_objects, prefix=prefix, marker=marker, max_keys=max_keys)
        objects = [
            ListedObject(
                o.key,
                o.size,
                (o.etag or "").strip('"').upper() or None,
                o.storage_class,
                o.last_modified,
            )
            for o in result.object_list
        ]
        return ListingPage(objects, bool(result.is_truncated), result.next_marker or "")

    return list_page
