"""The restore job document: shards + how long to wait before and between polls.

The waits come from the storage class and tier (docs: Archive ~1 min; ColdArchive
Expedited <= 1 h, Standard 2-5 h, Bulk 5-12 h; DeepColdArchive 12-48 h): the first poll
of a page comes when a restore of that class usually finishes, later polls at a quarter
of that. Locally the class times are localcloud's `restore_seconds`.
"""

from __future__ import annotations

import math
import time

from handlers.shards import RestoreShard, RestoreShardItem
from ossbatch.cloud import ConfigError, Connection
from ossbatch.eventbudget import pages_per_execution
from ossbatch.jobdocs import (
    OssUrl,
    RestoreJob,
    RestoreRequest,
    RestoreSettings,
    checked,
    dump,
    estimate_of,
    index_shards,
    inventory_estimate,
    inventory_location,
    inventory_shards,
    listing_split,
    report_location,
    resources,
    source_locations,
    tuning,
)
from ossbatch.retrying import call

# (class, tier) -> seconds a restore usually takes (first poll); tier None = any
TYPICAL_RESTORE_SECONDS = {
    ("Archive", None): 60,
    ("ColdArchive", "Expedited"): 3600,
    ("ColdArchive", "Standard"): 2 * 3600,
    ("ColdArchive", "Bulk"): 5 * 3600,
    ("DeepColdArchive", "Expedited"): 12 * 3600,  # no Expedited: OSS runs Standard
    ("DeepColdArchive", "Standard"): 12 * 3600,
    ("DeepColdArchive", "Bulk"): 24 * 3600,
}


def restore_waits(
    storage_class: str | None, tier: str, local_seconds: dict | None, fallback: int
) -> tuple[int, int]:
    """(first wait, later polls) in seconds for objects of this class restored at this tier."""
    if storage_class is None:
        return fallback, fallback
    if local_seconds and storage_class in local_seconds:
        typical = float(local_seconds[storage_class])
    else:
        typical = TYPICAL_RESTORE_SECONDS.get(
            (storage_class, tier), TYPICAL_RESTORE_SECONDS.get((storage_class, None), fallback)
        )
    first = max(1, math.ceil(typical))
    return first, max(1, math.ceil(typical / 4))


def sample_storage_class(
    conn: Connection, index: OssUrl | None, source: OssUrl | None
) -> str | None:
    """The class of the first object of the source (one small GET/LIST + one HEAD)."""
    import oss2

    from handlers.index import IndexLineError, parse_line

    try:
        if index is not None:
            index_bucket = conn.oss_bucket(index.bucket)
            head = call(lambda: index_bucket.get_object(index.key, byte_range=(0, 8191)).read())
            for raw in head.split(b"\n")[:-1] or [head]:
                try:
                    ref = parse_line(raw, default_bucket=index.bucket)
                except IndexLineError:
                    continue
                if ref is not None:
                    bucket, key = ref.bucket, ref.key
                    break
            else:
                return None
        else:
            listed = call(
                conn.oss_bucket(source.bucket).list_objects, prefix=source.key, max_keys=1
            )
            if not listed.object_list:
                return None
            bucket, key = source.bucket, listed.object_list[0].key
        meta = call(conn.oss_bucket(bucket).head_object, key)
        return meta.headers.get("x-oss-storage-class") or "Standard"
    except oss2.exceptions.OssError:
        return None


def restore_document(
    conn: Connection,
    job_id: str,
    *,
    index: str | None,
    source: str | None,
    days: int,
    tier: str,
    concurrency: int,
    page_budget_s: float,
    poll_seconds: int | None,
    default_poll_seconds: int,
    deadline_hours: float,
    notify_queue: str = "",
    tolerated_failures: int = 0,
    max_items_per_page: int | None = None,
    event_limit: int = 5000,
    local_restore_seconds: dict | None = None,
    max_qps: int | None = None,
    filters: dict | None = None,
    inventory=None,
    inventory_plus_is_space: bool = False,
) -> dict:
    """A restore job document; ``inventory`` (an inventoryplan.InventoryPlan) replaces
    --index, and then ``source`` only narrows its rows to a prefix."""
    if inventory is None and (index is None) == (source is None):
        raise ConfigError(
            "give exactly one of --index oss://bucket/key or --source oss://bucket/prefix/"
        )
    index_url = OssUrl.parse(index, "--index") if index else None
    source_url = OssUrl.parse(source, "--source") if source else None
    estimate = location = None
    if inventory is not None:
        ranges = inventory_shards(inventory)
        location = inventory_location(inventory, source_url, inventory_plus_is_space)
        estimate = inventory_estimate(conn, inventory, location)
    elif index_url:
        ranges = index_shards(conn, index_url, concurrency)
    else:
        ranges, split = listing_split(conn, source_url, concurrency)
        estimate = estimate_of(split)
    sampled = sample_storage_class(conn, index_url, source_url)
    first_wait, later = restore_waits(sampled, tier, local_restore_seconds, default_poll_seconds)
    if poll_seconds:
        first_wait = later = poll_seconds
    deadline_s = deadline_hours * 3600
    polls = max(1, math.ceil(max(0.0, deadline_s - first_wait) / later) + 1)
    shards = [
        RestoreShard(
            id=r.id,
            index=r.index,
            listing=r.listing,
            inventory=r.inventory,
            start=r.start,
            polls_left=polls,
        )
        for r in ranges
    ]
    report_bucket, report_prefix = report_location(conn)
    with checked("cannot start the restore job"):
        job = RestoreJob(
            job_id=job_id,
            started_at=time.time(),
            source_estimate=estimate,
            resources=resources(conn, "restore", notify_queue),
            settings=RestoreSettings(
                pages_per_execution=pages_per_execution("restore", len(shards), event_limit),
                event_limit=event_limit,
                tolerated_failures=tolerated_failures,
                notify=bool(notify_queue),
                deadline_hours=deadline_hours,
                sampled_storage_class=sampled,
            ),
            request=RestoreRequest(
                job_id=job_id,
                **source_locations(index_url, source_url, location),
                days=days,
                tier=tier,
                first_wait_seconds=first_wait,
                poll_seconds=later,
                report_bucket=report_bucket or None,
                report_prefix=report_prefix,
                tuning=tuning(page_budget_s, max_items_per_page, max_qps),
                filters=filters,
            ),
            shards=[RestoreShardItem(shard=shard) for shard in shards],
        )
    return dump(job)
