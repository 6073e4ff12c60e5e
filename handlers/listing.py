"""Prefix listings paged from a marker: the continuation is the last key handed out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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
) -> Iterator[ListedObject]:
    """Every object with ``prefix`` whose key is > marker (and <= end_marker), in key order."""
    while True:
        page = list_page(prefix, marker, page_size)
        for obj in page.objects:
            if end_marker is not None and obj.key > end_marker:
                return
            yield obj
        if not page.truncated or not page.objects:
            return
        marker = page.next_marker or page.objects[-1].key


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
