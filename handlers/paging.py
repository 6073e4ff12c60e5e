"""One time-budgeted page over a source (index range or prefix listing).

Items are handed to a bounded pool; the page stops taking new items when the budget
runs low, waits for in-flight work, and reports where the next page continues.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import oss2

from .budget import TimeBudget
from .clients import OssClients, raise_if_systemic
from .errors import IndexMissing, SourceBucketMissing
from .events import IndexSource, ListingSource, PendingKeys
from .index import IndexLineError, IndexPage, ObjectRef, parse_line, ranged_fetch
from .listing import iter_listing, oss_list_page
from .pool import BoundedPool


@dataclass(frozen=True)
class WorkItem:
    ref: ObjectRef | None  # None: blank line (nothing to do) or malformed line (error set)
    after: int | str  # next_offset (index) or marker (listing) once this item is done
    where: str  # for reports: "line@123" or the key
    error: str | None = None
    storage_class: str | None = None  # known from a listing
    last_modified: float | None = None  # known from a listing
    relative_key: str | None = None  # the key below a listing's prefix (filters)


def iter_index(source: IndexSource, clients: OssClients) -> Iterator[WorkItem]:
    bucket = clients.bucket(source.bucket)
    try:
        head = clients.retry.call(bucket.head_object, source.key)
    except oss2.exceptions.OssError as exc:
        raise_if_systemic(exc, source.bucket, role="source")
        if exc.status == 404:
            if not clients.bucket_exists(source.bucket):
                raise SourceBucketMissing(f"index bucket {source.bucket!r} does not exist") from exc
            raise IndexMissing(f"index oss://{source.bucket}/{source.key} does not exist") from exc
        raise
    size = head.content_length
    page = IndexPage(
        ranged_fetch(bucket, source.key, clients.retry), size, source.offset, source.end
    )
    default_bucket = source.default_bucket or source.bucket
    for line in page:
        where = f"line@{line.offset}"
        try:
            ref = parse_line(line.raw, fmt=source.format, default_bucket=default_bucket)
        except IndexLineError as exc:
            yield WorkItem(None, line.next_offset, where, error=str(exc))
            continue
        yield WorkItem(ref, line.next_offset, where)


def iter_prefix(
    source: ListingSource, clients: OssClients, exclude_prefix: str | None = None
) -> Iterator[WorkItem]:
    """Listed objects as work items; keys under exclude_prefix (a copy's own output inside
    its source) only move the marker on: a copy never reads what it wrote."""
    bucket = clients.bucket(source.bucket)
    try:
        for obj in iter_listing(
            oss_list_page(bucket, clients.retry), source.prefix, source.marker, source.end_marker
        ):
            if exclude_prefix and obj.key.startswith(exclude_prefix):
                yield WorkItem(None, obj.key, obj.key)
                continue
            ref = ObjectRef(source.bucket, obj.key, obj.size, obj.etag)
            yield WorkItem(
                ref,
                obj.key,
                obj.key,
                storage_class=obj.storage_class,
                last_modified=obj.last_modified,
                relative_key=obj.key[len(source.prefix) :],
            )
    except oss2.exceptions.OssError as exc:
        raise_if_systemic(exc, source.bucket, role="source")
        raise


def iter_keys(pending: PendingKeys) -> Iterator[WorkItem]:
    versions = pending.version_ids or {}
    for n, key in enumerate(pending.keys):
        yield WorkItem(ObjectRef(pending.bucket, key, version_id=versions.get(key)), n + 1, key)


@dataclass
class PagePosition:
    done: bool
    after: int | str | None


def run_page(
    items: Iterator[WorkItem],
    process: Callable[[WorkItem], None],
    pool: BoundedPool,
    budget: TimeBudget,
    *,
    start: int | str | None,
    max_items: int | None = None,
) -> PagePosition:
    """Submit items until the budget or max_items stops us; returns where to continue.

    ``process`` must record its own outcome (it never raises for an item failure);
    a raised exception is systemic and fails the page after in-flight work settles.
    """
    after = start
    taken = 0
    futures = []
    done = True
    for item in items:
        # every page makes progress, even when the budget was gone on arrival: no endless loop
        if taken and (budget.exhausted() or (max_items is not None and taken >= max_items)):
            done = False
            break
        if item.ref is not None or item.error is not None:
            future = pool.submit(process, item)
            if not futures or futures[-1] is not future:  # page workers: one future per batch
                futures.append(future)
            taken += 1
        after = item.after
        # surface systemic errors early instead of burning the whole page
        if len(futures) >= 4 * pool.max_in_flight:
            futures = settle_done(futures)
    pool.drain()
    settle_done(futures)
    return PagePosition(done, after)


def settle_done(futures) -> list:
    """Re-raise a worker's systemic error; return the futures still running."""
    running = []
    for f in futures:
        if f.done():
            f.result()
        else:
            running.append(f)
    return running
