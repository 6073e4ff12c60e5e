"""restore: submit restores of archived objects, and poll until they are readable.

submit: only Archive/ColdArchive/DeepColdArchive are submitted (Days, Tier) — straight
with POST ?restore where its answer alone tells the outcome (class known from the listing,
or the default Standard tier), else after a HEAD that gives the class for the tier; 409 RestoreAlreadyInProgress counts as submitted; an already restored object
counts as restored. poll: HEAD each key; ``x-oss-restore: ongoing-request="false"``
means readable, ``"true"`` pending, and no header means *not submitted* — never done.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass

import oss2
from oss2.models import RestoreConfiguration, RestoreJobParameters

from .clients import OssClients, error_code, error_message, raise_if_systemic
from .errors import SourceBucketMissing
from .events import ARCHIVED_CLASSES, RestoreEvent, parse_event
from .filters import item_rejection
from .invocation import add_counters, budget_for, clients_for
from .logs import JobLog, request_id_of
from .pacing import pace_config, start_pace
from .paging import (
    InventoryPosition,
    WorkItem,
    iter_index,
    iter_inventory,
    iter_keys,
    iter_prefix,
    page_position,
    run_page,
)
from .pool import BoundedPool
from .report import ReportPart, part_key
from .restorestep import advance
from .settings import ObjectSettings
from .shards import RestorePageResult

_ONGOING = re.compile(r'ongoing-request\s*=\s*"?(true|false)"?', re.IGNORECASE)
_EXPIRY = re.compile(r'expiry-date\s*=\s*"([^"]+)"', re.IGNORECASE)


@dataclass(frozen=True)
class RestoreStatus:
    """What HEAD says about one object."""

    storage_class: str | None
    state: str  # "readable" | "restored" | "ongoing" | "not_submitted"
    expiry: str | None = None


def restore_status(headers) -> RestoreStatus:
    storage_class = headers.get("x-oss-storage-class") or "Standard"
    if storage_class not in ARCHIVED_CLASSES:
        return RestoreStatus(storage_class, "readable")
    value = headers.get("x-oss-restore")
    if not value:
        return RestoreStatus(storage_class, "not_submitted")
    match = _ONGOING.search(value)
    if match is None:
        return RestoreStatus(storage_class, "not_submitted")
    if match.group(1).lower() == "true":
        return RestoreStatus(storage_class, "ongoing")
    expiry = _EXPIRY.search(value)
    return RestoreStatus(storage_class, "restored", expiry.group(1) if expiry else None)


def tier_for(storage_class: str, tier: str) -> str | None:
    """Archive takes no tier; DeepColdArchive has no Expedited (use Standard)."""
    if storage_class == "Archive":
        return None
    if storage_class == "DeepColdArchive" and tier == "Expedited":
        return "Standard"
    return tier


class Restorer:
    def __init__(self, event: RestoreEvent, clients: OssClients, report: ReportPart):
        self.event, self.clients, self.report = event, clients, report
        self.retry = clients.retry
        self._lock = threading.Lock()
        self.counters: dict[str, int] = {}
        self.pending_keys: list[str] = []
        self.not_submitted_keys: list[str] = []
        self.version_ids: dict[str, str] = {}  # key -> the version a pending key names

    def count(self, name: str, key: str | None = None) -> None:
        with self._lock:
            self.counters[name] = self.counters.get(name, 0) + 1
            if key is not None and name == "pending":
                self.pending_keys.append(key)
            if key is not None and name == "not_submitted":
                self.not_submitted_keys.append(key)

    def __call__(self, item: WorkItem) -> None:
        if item.ref is None:
            self.fail(item, "MalformedLine", item.error or "unreadable line", 0)
            return
        if item.storage_class and item.storage_class not in ARCHIVED_CLASSES:
            # the listing already says it is readable: nothing to submit, nothing to wait for
            self.count("restored" if self.event.mode == "poll" else "skipped")
            return
        if not oss2.utils.is_valid_bucket_name(item.ref.bucket):
            message = f"{item.ref.bucket!r} is not a valid bucket name"
            self.fail(item, "InvalidBucketName", message, 0)
            return
        bucket = self.clients.bucket(item.ref.bucket)
        try:
            reason = item_rejection(self.event.filters, item, self.head_for_filters)
            if reason is not None:
                self.count("skipped")
                self.count(f"skipped_{reason}")
                return
            if self.event.mode != "poll" and self.can_submit_blind(item):
                self.post_restore(item, bucket, item.storage_class)
                return
            head = self.retry.call(bucket.head_object, item.ref.key, params=_version(item.ref))
            status = restore_status(head.headers)
            if self.event.mode == "poll":
                self.poll_one(item, status)
            else:
                self.submit_one(item, bucket, status)
        except oss2.exceptions.OssError as exc:
            if exc.status == 404 and not self.clients.bucket_exists(item.ref.bucket):
                if self.event.index is not None:  # one index line's bucket: that line fails
                    message = f"source bucket {item.ref.bucket!r} does not exist"
                    self.fail(item, "NoSuchBucket", message, getattr(exc, "attempts", 1))
                    return
                raise SourceBucketMissing(f"bucket {item.ref.bucket!r} does not exist") from exc
            raise_if_systemic(exc, item.ref.bucket, role="source")
            code = error_code(exc)
            if code in ("NotFound", "NoSuchKey"):
                self.fail(
                    item,
                    "NoSuchKey",
                    f"oss://{item.ref.bucket}/{item.ref.key} does not exist",
                    getattr(exc, "attempts", 1),
                )
                return
            self.fail(item, code, error_message(exc), getattr(exc, "attempts", 1))

    def head_for_filters(self, ref):
        bucket = self.clients.bucket(ref.bucket)
        return self.retry.call(bucket.head_object, ref.key, params=_version(ref))

    def can_submit_blind(self, item: WorkItem) -> bool:
        """True when the POST alone decides the outcome, so the HEAD can be saved.

        Needs the class from the listing, or the Standard tier, which is OSS's default for
        every archived class and so needs no JobParameters (no class to know).
        """
        return item.storage_class in ARCHIVED_CLASSES or self.event.tier == "Standard"

    def post_restore(self, item: WorkItem, bucket, storage_class: str | None) -> None:
        """POST ?restore (after a HEAD or without one): 202 submitted, 200 restored, 409 in progress,
        400 OperationNotSupported = not archived (readable, skipped). Without a known class no
        tier is sent: Standard, OSS's default for every archived class."""
        tier = tier_for(storage_class, self.event.tier) if storage_class else None
        config = RestoreConfiguration(self.event.days, RestoreJobParameters(tier) if tier else None)
        try:
            result = self.retry.call(
                bucket.restore_object, item.ref.key, input=config, params=_version(item.ref)
            )
            outcome = "restored" if result.status == 200 else "submitted"
        except oss2.exceptions.RestoreAlreadyInProgress:
            outcome = "submitted"
        except oss2.exceptions.OperationNotSupported:
            self.count("skipped")
            return
        self.count(outcome)
        self.count("done")

    def submit_one(self, item: WorkItem, bucket, status: RestoreStatus) -> None:
        if status.state == "readable":
            self.count("skipped")
            return
        if status.state == "restored":
            self.count("restored")
            self.count("done")
            return
        if status.state == "ongoing":
            self.count("submitted")
            self.count("done")
            return
        self.post_restore(item, bucket, status.storage_class)

    def poll_one(self, item: WorkItem, status: RestoreStatus) -> None:
        if status.state in ("readable", "restored"):
            self.count("restored")
            return
        name = "pending" if status.state == "ongoing" else "not_submitted"
        self.count(name, item.ref.key)
        if item.ref.version_id:
            with self._lock:
                self.version_ids[item.ref.key] = item.ref.version_id

    def fail(self, item: WorkItem, code: str, message: str, attempts: int) -> None:
        self.count("failed")
        ref = item.ref
        self.report.add(
            where=item.where,
            bucket=ref.bucket if ref else None,
            key=ref.key if ref else None,
            code=code,
            message=message,
            attempts=attempts,
        )


def _version(ref) -> dict | None:
    """A named version of a versioned bucket (index CSV third field / JSONL version_id)."""
    return {"versionId": ref.version_id} if ref.version_id else None


def _carry_versions(result: dict, pending, found: dict[str, str]) -> None:
    """Keys still to poll keep the versions they name."""
    known = {**(pending.version_ids or {}), **found}
    for name in ("pending", "not_submitted"):
        versions = {k: known[k] for k in result[name]["keys"] if k in known}
        if versions:
            result[name]["version_ids"] = versions


def source_bucket(event: RestoreEvent) -> str:
    if event.inventory is not None:
        return event.inventory.source_bucket
    return event.pending.bucket if event.pending else (event.index or event.listing).bucket


def restore_pace(event: RestoreEvent, report_bucket: str):
    """A lease per shard and mode: submit pages and poll pages pace separately."""
    if event.index is not None:
        bound = event.index.end
    elif event.listing is not None:
        bound = event.listing.end_marker
    elif event.inventory is not None:
        bound = f"{event.inventory.end_file}:{event.inventory.end}"
    else:
        bound = event.pending.keys[-1] if event.pending.keys else ""
    return pace_config(event, report_bucket, bound, f"restore-{event.mode}")


def page_counters(counted: dict[str, int]) -> dict[str, int]:
    """Every counter the flow reads (0 when none), plus the filters' skip reasons."""
    names = ("done", "submitted", "restored", "skipped", "failed", "pending", "not_submitted")
    counters = {k: counted.get(k, 0) for k in names}
    counters.update({k: v for k, v in counted.items() if k.startswith("skipped_")})
    return counters


def restore_items(event: RestoreEvent, clients: OssClients):
    """The page's items, where they start, and the position that names its report part."""
    if event.index is not None:
        items, start = iter_index(event.index, clients), event.index.offset
        position = f"index-{event.index.offset:015d}"
    elif event.listing is not None:
        items, start = iter_prefix(event.listing, clients), event.listing.marker
        position = f"listing-{event.listing.marker}"
    elif event.inventory is not None:
        inventory = event.inventory
        items = iter_inventory(inventory, clients)
        start = InventoryPosition(inventory.file, inventory.offset)
        position = f"inventory-{inventory.file:06d}-{inventory.offset:015d}"
    else:
        items, start = iter_keys(event.pending), 0
        position = f"keys-{event.pending.bucket}-{len(event.pending.keys)}-" + (
            event.pending.keys[0] if event.pending.keys else ""
        )
    return items, start, position


def restore_page(event: RestoreEvent, clients: OssClients, budget, log: JobLog) -> dict:
    items, start, position = restore_items(event, clients)
    report = ReportPart(
        part_key(event.resolved_report_prefix(), event.job_id, f"restore-{event.mode}", position)
    )
    report_bucket_name = event.resolved_report_bucket(source_bucket(event))
    pace = start_pace(clients, restore_pace(event, report_bucket_name))
    restorer = Restorer(event, clients, report)
    tuning = event.tuning
    max_items = tuning.max_items
    with BoundedPool(tuning.concurrency, tuning.max_buffered_mb * 1024 * 1024) as pool:
        page = run_page(items, restorer, pool, budget, start=start, max_items=max_items)
    if pace is not None:
        pace.finish(page.done)
    report_bucket = clients.bucket(report_bucket_name)
    report_key = report.write(report_bucket, clients.retry)
    counters = page_counters(restorer.counters)
    result = {
        "done": page.done,
        "next_offset": None,
        "next_marker": None,
        **(page_position(event, page.after) if event.pending is None else {}),
        "counters": counters,
        "totals": add_counters(event.totals, counters),
        "report_key": report_key,
    }
    if event.mode == "poll":
        result["all_restored"] = (
            page.done and counters["pending"] == 0 and counters["not_submitted"] == 0
        )
        if event.pending is not None:
            result["pending"] = {
                "bucket": event.pending.bucket,
                "keys": sorted(restorer.pending_keys),
            }
            result["not_submitted"] = {
                "bucket": event.pending.bucket,
                "keys": sorted(restorer.not_submitted_keys),
            }
            if not page.done:  # keys not checked yet stay pending
                unchecked = event.pending.keys[int(page.after or 0) :]
                result["pending"]["keys"] += unchecked
                result["all_restored"] = False
            _carry_versions(result, event.pending, restorer.version_ids)
    log.info(
        "restore_page", mode=event.mode, done=page.done, counters=counters, report_key=report_key
    )
    return RestorePageResult.model_validate(result).model_dump(mode="json")


def run(
    event: RestoreEvent,
    context,
    *,
    started_at: float | None = None,
    settings: ObjectSettings | None = None,
) -> dict:
    settings = settings or ObjectSettings.from_environ()
    event = settings.fill(event)
    log = JobLog("restore", event.job_id, request_id_of(context), level=settings.log_level)
    clients, budget = clients_for(event, context), budget_for(event, context, started_at)
    if event.mode == "step":

        def page(sub: RestoreEvent) -> RestorePageResult:
            return RestorePageResult.model_validate(restore_page(sub, clients, budget, log))

        return advance(event, page).model_dump(mode="json")
    return restore_page(event, clients, budget, log)


def handler(event: bytes, context):
    started = time.monotonic()
    return json.dumps(run(parse_event(RestoreEvent, event), context, started_at=started))
