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
from .events import IndexSource, InventorySource, ListingSource, PendingKeys
from .index import IndexLineError, IndexPage, ObjectRef, parse_line, ranged_fetch
from .inventory import (
    InventoryError,
    InventoryManifest,
    InventoryRowError,
    gunzip,
    inventory_root,
    parse_manifest,
    parse_row,
    range_lines,
)
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
        listed = iter_listing(
            oss_list_page(bucket, clients.retry),
            source.prefix,
            source.marker,
            source.end_marker,
            prefetch=True,  # the next page is listed while this one's objects are worked on
        )
        for obj in listed:
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


@dataclass(frozen=True, order=True)
class InventoryPosition:
    """Where an inventory page continues: a file of the manifest and an offset in its CSV."""

    file: int
    offset: int


class InventoryChanged(InventoryError):
    """The manifest is not the one the job was planned on."""


def load_manifest(source: InventorySource, clients: OssClients) -> InventoryManifest:
    """The job's manifest, which must still be the version the job was planned on."""
    bucket = clients.bucket(source.bucket)
    where = f"oss://{source.bucket}/{source.manifest_key}"
    try:
        result = clients.retry.call(bucket.get_object, source.manifest_key)
        raw, etag = result.read(), result.etag
    except oss2.exceptions.OssError as exc:
        raise_if_systemic(exc, source.bucket, role="source")
        if exc.status == 404:
            raise InventoryError(f"inventory manifest {where} does not exist") from exc
        raise
    if source.manifest_etag and (etag or "").strip('"').upper() != source.manifest_etag.upper():
        raise InventoryChanged(
            f"inventory manifest {where} changed since the job started (ETag {etag}); start "
            "a new job on the new inventory"
        )
    return parse_manifest(raw, where)


def iter_inventory(
    source: InventorySource, clients: OssClients, exclude_prefix: str | None = None
) -> Iterator[WorkItem]:
    """The current objects of the inventory range as work items; old versions, delete markers,
    keys outside the source prefix and the copy's own output only move the position on."""
    manifest = load_manifest(source, clients)
    bucket = clients.bucket(source.bucket)

    def open_file(number: int) -> Iterator[bytes]:
        data_file = manifest.files[number]
        where = f"oss://{source.bucket}/{data_file.key}"
        chunks = _file_chunks(bucket, data_file.key, data_file.size, clients)
        return gunzip(chunks, where, data_file.md5)

    rows = range_lines(
        open_file, len(manifest.files), source.file, source.offset, source.end_file, source.end
    )
    reader = InventoryRows(source, manifest, exclude_prefix)
    for number, line in rows:
        after = InventoryPosition(number + 1, 0)
        if not line.last:
            after = InventoryPosition(number, line.next_offset)
        yield reader.item(line, after, f"{manifest.files[number].key}@{line.offset}")


class InventoryRows:
    """Inventory rows -> work items of the job: which rows are its objects."""

    def __init__(self, source: InventorySource, manifest, exclude_prefix: str | None):
        self.source, self.manifest, self.exclude_prefix = source, manifest, exclude_prefix
        self.fields = manifest.fields
        # an inventory stored in its source bucket lists its earlier runs: not the job's data
        self.own_root = inventory_root(source.manifest_key)

    def item(self, line, after: InventoryPosition, where: str) -> WorkItem:
        source = self.source
        if not line.raw.strip():
            return WorkItem(None, after, where)
        try:
            row = parse_row(
                line.raw, self.fields, self.manifest.source_bucket, source.plus_is_space
            )
        except InventoryRowError as exc:
            return WorkItem(None, after, where, error=str(exc))
        if not self.takes(row):
            return WorkItem(None, after, where)
        return WorkItem(
            ObjectRef(row.bucket, row.key, row.size, row.etag),
            after,
            where,
            storage_class=row.storage_class,
            last_modified=row.last_modified,
            relative_key=row.key[len(source.prefix) :],
        )

    def takes(self, row) -> bool:
        key = row.key
        own_files = (
            bool(self.own_root)
            and row.bucket == self.source.bucket
            and key.startswith(self.own_root)
        )
        own_output = bool(self.exclude_prefix) and key.startswith(self.exclude_prefix)
        return (
            row.current and key.startswith(self.source.prefix) and not own_files and not own_output
        )


def _file_chunks(bucket, key: str, size: int, clients, chunk: int = 8 * 1024**2) -> Iterator[bytes]:
    """A data file in ranged GETs of ``chunk`` bytes (each retried on its own)."""
    fetch = ranged_fetch(bucket, key, clients.retry)
    for first in range(0, size, chunk):
        try:
            yield fetch(first, min(size, first + chunk))
        except oss2.exceptions.OssError as exc:
            raise_if_systemic(exc, bucket.bucket_name, role="source")
            if exc.status == 404:
                raise InventoryError(
                    f"inventory data file oss://{bucket.bucket_name}/{key} named in the manifest "
                    "does not exist; regenerate the inventory"
                ) from exc
            raise


def page_position(event, after) -> dict:
    """The page result's next position fields for the event's kind of source."""
    if event.index is not None:
        return {"next_offset": after}
    if event.inventory is not None:
        return {"next_file": after.file, "next_offset": after.offset}
    return {"next_marker": after}


def advanced_shard(shard, done: bool, after, totals):
    """The shard after a page: next position, done, one more page, cumulative totals."""
    update: dict = {"done": done, "pages": shard.pages + 1, "totals": totals}
    update.update(advanced_range(shard, after))
    return shard.model_copy(update=update)


def advanced_range(shard, after) -> dict:
    """The shard's source range moved on to ``after`` (the page's next position)."""
    if shard.index is not None:
        return {"index": shard.index.model_copy(update={"offset": after})}
    if shard.inventory is not None:
        return {
            "inventory": shard.inventory.model_copy(
                update={"file": after.file, "offset": after.offset}
            )
        }
    return {"listing": shard.listing.model_copy(update={"marker": after})}


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
