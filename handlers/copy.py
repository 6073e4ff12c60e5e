"""copy: copy (or convert the storage class of) every object of an index range or listing.

Versioned sources: an index line may name a version (CSV third field, JSONL version_id);
that version is read, compared and copied, else the current one. User metadata is kept;
tags are kept (dest.tags_directive Copy, OSS's default) or replaced by dest.tags (Replace).

Per object: HEAD the destination (skip when it already holds the same bytes in the
target class), CopyObject up to the multipart threshold, UploadPartCopy with parallel
parts above it. A failed object is reported and never fails the page.
"""

from __future__ import annotations

import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import oss2

from .budget import TimeBudget
from .clients import (
    OssClients,
    denied_bucket,
    drained,
    error_code,
    error_message,
    raise_if_systemic,
)
from .destview import DestinationView
from .errors import DestinationBucketMissing, SourceBucketMissing
from .events import CopyEvent, parse_event
from .filters import item_rejection
from .index import normalise_etag
from .inventory import inventory_root
from .invocation import add_counters, budget_for, clients_for
from .logs import JobLog, request_id_of
from .pacing import pace_config, start_pace
from .paging import (
    InventoryPosition,
    WorkItem,
    advanced_shard,
    iter_index,
    iter_inventory,
    iter_prefix,
    page_position,
    run_page,
)
from .pool import BoundedPool
from .processes import PageWorkers, make_spec, usable_cpus
from .report import ReportPart, part_key
from .retrying import attempts_of
from .settings import WorkerSettings
from .shards import CopyCounters, CopyPageResult
from .tags import tagging_header
from .tally import Tally

# headers that carry an object's metadata through a multipart copy
PRESERVED_HEADERS = (
    "Content-Type",
    "Content-Encoding",
    "Content-Disposition",
    "Content-Language",
    "Cache-Control",
    "Expires",
)
MAX_PARTS = 10_000
PART_PARALLELISM = 8


@dataclass(frozen=True)
class SourceFacts:
    size: int | None
    etag: str | None
    crc64: str | None = None
    headers: dict | None = None


class ObjectCopier:
    def __init__(self, event: CopyEvent, clients: OssClients, report: ReportPart, tally: Tally):
        self.event, self.clients, self.report, self.tally = event, clients, report, tally
        self.retry = clients.retry
        self.dest = clients.bucket(event.dest.bucket)
        self.view = DestinationView.of_bucket(self.dest, event.dest.prefix, self.retry)

    def dest_key(self, key: str) -> str:
        return self.event.dest.prefix + key

    def __call__(self, item: WorkItem) -> None:
        if item.ref is None:
            self._fail(item, "MalformedLine", item.error or "unreadable line", 0)
            return
        refusal = self._refusal(item.ref)
        if refusal:
            self._fail(item, *refusal, 0)
            return
        try:
            reason = item_rejection(self.event.filters, item, self.head_for_filters)
            if reason is not None:
                self.tally.add(**{"skipped": 1, f"skipped_{reason}": 1})
                return
            outcome, nbytes = self.copy(item)
        except oss2.exceptions.OssError as exc:
            if self._classify_systemic(exc, item):
                message = f"source bucket {item.ref.bucket!r} does not exist"
                self._fail(item, "NoSuchBucket", message, attempts_of(exc))
                return
            self._fail(item, error_code(exc), _hint(exc, item), attempts_of(exc))
            return
        self.tally.add(**{outcome: 1, "bytes": nbytes})

    def _refusal(self, ref) -> tuple[str, str] | None:
        """(code, message) of an item that must not be copied at all, else None."""
        if not oss2.utils.is_valid_bucket_name(ref.bucket):
            return "InvalidBucketName", f"{ref.bucket!r} is not a valid bucket name"
        index = self.event.index
        if index is not None and (self.event.dest.bucket, self.dest_key(ref.key)) == (
            index.bucket,
            index.key,
        ):
            return "WouldOverwriteIndex", f"oss://{index.bucket}/{index.key} is this job's index"
        inventory = self.event.inventory
        root = inventory_root(inventory.manifest_key) if inventory is not None else None
        dest_key = self.dest_key(ref.key)
        if (
            inventory is not None
            and self.event.dest.bucket == inventory.bucket
            and (dest_key == inventory.manifest_key or (root and dest_key.startswith(root)))
        ):
            return (
                "WouldOverwriteInventory",
                f"oss://{inventory.bucket}/{dest_key} lies among this job's inventory files",
            )
        return None

    def copy(self, item: WorkItem) -> tuple[str, int]:
        """One object at the fewest requests: a CopyObject, unless the destination may hold it."""
        ref = item.ref
        facts = SourceFacts(ref.size, ref.etag)
        target_class = self.event.dest.storage_class
        dest_key = self.dest_key(ref.key)
        same_object = ref.bucket == self.event.dest.bucket and dest_key == ref.key
        if self.event.skip_existing:
            listed = self.view.lookup(dest_key)
            if listed is not None:
                if not same_object and (facts.size is None or facts.etag is None):
                    # decide on the source's ETag, never rewrite an identical object blindly
                    facts = self.head_source(ref)
                if self.already_there(listed, ref, dest_key, facts, target_class, same_object):
                    return "skipped", 0
        if facts.size is not None and facts.size > self.event.multipart_threshold:
            self.multipart_copy(ref, dest_key, facts, target_class)
            return "done", facts.size
        try:
            self.simple_copy(ref, dest_key, target_class)
        except oss2.exceptions.OssError as exc:
            if facts.size is not None or error_code(exc) != "InvalidArgument":
                raise
            # size unknown and OSS says "too large for CopyObject": learn it, go multipart
            facts = self.head_source(ref)
            if facts.size <= self.event.multipart_threshold:
                raise
            self.multipart_copy(ref, dest_key, facts, target_class)
        return "done", facts.size or 0

    def simple_copy(self, ref, dest_key: str, target_class: str | None) -> None:
        headers = {"x-oss-metadata-directive": "COPY", **self.tag_headers()}
        if target_class:
            headers["x-oss-storage-class"] = target_class
        self.retry.call(
            drained(self.dest.copy_object),
            ref.bucket,
            ref.key,
            dest_key,
            headers=headers,
            params=_version_params(ref),
        )

    def tag_headers(self) -> dict[str, str]:
        """CopyObject's tagging headers; none keeps the source's tags (OSS's default, Copy)."""
        dest = self.event.dest
        if dest.tags_directive != "Replace":
            return {}
        headers = {"x-oss-tagging-directive": "Replace"}
        if dest.tags:
            headers["x-oss-tagging"] = tagging_header(dest.tags)
        return headers

    def multipart_tags(self, ref, facts: SourceFacts) -> dict[str, str]:
        """InitiateMultipartUpload has no tagging directive: the tags to set, as x-oss-tagging."""
        dest = self.event.dest
        if dest.tags_directive == "Replace":
            tags = dest.tags or {}
        elif (facts.headers or {}).get("x-oss-tagging-count", "0") != "0":
            result = self.retry.call(
                self.clients.bucket(ref.bucket).get_object_tagging,
                ref.key,
                params=_version_params(ref),
            )
            tags = dict(result.tag_set.tagging_rule)
        else:
            tags = {}
        return {"x-oss-tagging": tagging_header(tags)} if tags else {}

    def head_for_filters(self, ref):
        bucket = self.clients.bucket(ref.bucket)
        return self.retry.call(bucket.head_object, ref.key, params=_version_params(ref))

    def head_source(self, ref) -> SourceFacts:
        head = self.retry.call(
            self.clients.bucket(ref.bucket).head_object, ref.key, params=_version_params(ref)
        )
        return SourceFacts(
            head.content_length,
            normalise_etag(head.etag),
            head.headers.get("x-oss-hash-crc64ecma"),
            dict(head.headers),
        )

    def already_there(self, listed, ref, dest_key, facts, target_class, same_object) -> bool:
        if same_object:
            # an in-place conversion is done once the class is right
            return bool(target_class) and listed.storage_class == target_class
        if listed.size != facts.size:
            return False
        if target_class and listed.storage_class != target_class:
            return False
        if facts.etag and listed.etag == facts.etag:
            return True
        if not listed.etag or "-" not in listed.etag:
            return False
        # a multipart copy has a different ETag: compare the content CRC-64 instead
        try:
            head = self.retry.call(self.dest.head_object, dest_key)
        except oss2.exceptions.NotFound:
            return False
        dest_crc = head.headers.get("x-oss-hash-crc64ecma")
        if dest_crc and facts.crc64 is None:
            facts = self.head_source(ref)
        return bool(dest_crc) and dest_crc == facts.crc64

    def multipart_copy(
        self, ref, dest_key: str, facts: SourceFacts, target_class: str | None
    ) -> None:
        if facts.headers is None:
            facts = self.head_source(ref)
        headers = {
            k: v
            for k, v in facts.headers.items()
            if k.lower().startswith("x-oss-meta-")
            or k.lower() in {h.lower() for h in PRESERVED_HEADERS}
        }
        headers.update(self.multipart_tags(ref, facts))
        if target_class:
            headers["x-oss-storage-class"] = target_class
        part_size = max(self.event.part_size, math.ceil(facts.size / MAX_PARTS))
        upload_id = self.retry.call(
            self.dest.init_multipart_upload, dest_key, headers=headers
        ).upload_id
        ranges = [
            (n + 1, start, min(start + part_size, facts.size) - 1)
            for n, start in enumerate(range(0, facts.size, part_size))
        ]

        def copy_part(part):
            number, first, last = part
            result = self.retry.call(
                drained(self.dest.upload_part_copy),
                ref.bucket,
                ref.key,
                (first, last),
                dest_key,
                upload_id,
                number,
                params=_version_params(ref),
            )
            return oss2.models.PartInfo(number, result.etag, size=last - first + 1)

        try:
            with ThreadPoolExecutor(min(PART_PARALLELISM, len(ranges)) or 1) as parts_pool:
                parts = list(parts_pool.map(copy_part, ranges))
            self.retry.call(
                drained(self.dest.complete_multipart_upload), dest_key, upload_id, parts
            )
        except Exception:
            try:
                self.retry.call(self.dest.abort_multipart_upload, dest_key, upload_id)
            except oss2.exceptions.OssError:
                pass
            raise

    def _classify_systemic(self, exc: oss2.exceptions.OssError, item: WorkItem) -> bool:
        """Raise what fails the page; True when only this index line's bucket is missing."""
        code = error_code(exc)
        if code == "NoSuchBucket" or (exc.status == 404 and code in ("NotFound", "")):
            if not self.clients.bucket_exists(item.ref.bucket):
                if self.event.index is not None:
                    return True  # an index line naming a missing bucket fails alone
                raise SourceBucketMissing(
                    f"source bucket {item.ref.bucket!r} does not exist (line {item.where})"
                ) from exc
            if not self.clients.bucket_exists(self.event.dest.bucket):
                raise DestinationBucketMissing(
                    f"destination bucket {self.event.dest.bucket!r} does not exist"
                ) from exc
        # a CopyObject needs a read of the source and a write of the destination: a RAM
        # denial names which of the two was refused (AuthResource), so blame that bucket
        if denied_bucket(exc) == self.event.dest.bucket != item.ref.bucket:
            raise_if_systemic(exc, self.event.dest.bucket, role="destination")
        raise_if_systemic(exc, item.ref.bucket, role="source")
        return False

    def _fail(self, item: WorkItem, code: str, message: str, attempts: int) -> None:
        self.tally.add(failed=1)
        ref = item.ref
        self.report.add(
            where=item.where,
            bucket=ref.bucket if ref else None,
            key=ref.key if ref else None,
            dest_key=self.dest_key(ref.key) if ref else None,
            code=code,
            message=message,
            attempts=attempts,
        )


def worker_copier(event_json: str, clients: OssClients, report: ReportPart, tally: Tally):
    """The item processor of a page worker process (handlers.processes)."""
    event = parse_event(CopyEvent, event_json)
    start_pace(clients, copy_pace(event), divisor=event.tuning.pace_divisor)
    return ObjectCopier(event, clients, report, tally)


def copy_pace(event: CopyEvent):
    bound, kind = source_bound(event)
    return pace_config(event, event.resolved_report_bucket(event.dest.bucket), bound, kind)


def _version_params(ref) -> dict | None:
    """How oss2 names a source version (HEAD ?versionId=, x-oss-copy-source ...?versionId=)."""
    return {"versionId": ref.version_id} if ref.version_id else None


def _hint(exc: oss2.exceptions.OssError, item: WorkItem) -> str:
    code = error_code(exc)
    if code in ("NoSuchKey", "NotFound"):
        return f"source object oss://{item.ref.bucket}/{item.ref.key} does not exist"
    if code == "InvalidObjectState":
        return f"source oss://{item.ref.bucket}/{item.ref.key} is archived: restore it first"
    return error_message(exc)


def source_bound(event) -> tuple[int | str | None, str]:
    """The shard's end bound (names its pace lease) and the kind of source."""
    if event.index is not None:
        return event.index.end, "index"
    if event.inventory is not None:
        inventory = event.inventory
        return f"{inventory.end_file}:{inventory.end}", "inventory"
    return event.listing.end_marker, "listing"


def own_output_inside(event) -> str | None:
    """The destination prefix when it lies inside the listed source (left out of the listing)."""
    source = event.listing or event.inventory
    dest = event.dest
    bucket = getattr(source, "source_bucket", None) or getattr(source, "bucket", None)
    if source is None or dest.bucket != bucket or not dest.prefix:
        return None  # an empty prefix is an in-place conversion: no new keys appear
    return dest.prefix if dest.prefix.startswith(source.prefix) else None


def page_items(event, clients: OssClients):
    """The page's items, where they start, and the position that names its report part."""
    if event.index is not None:
        position = f"index-{event.index.offset:015d}"
        if event.index.end is not None:
            position += f"-{event.index.end:015d}"
        return iter_index(event.index, clients), event.index.offset, position
    if event.inventory is not None:
        inventory = event.inventory
        start = InventoryPosition(inventory.file, inventory.offset)
        position = f"inventory-{inventory.file:06d}-{inventory.offset:015d}"
        return iter_inventory(inventory, clients, own_output_inside(event)), start, position
    items = iter_prefix(event.listing, clients, own_output_inside(event))
    return items, event.listing.marker, f"listing-{event.listing.marker}"


def copy_page(event: CopyEvent, clients: OssClients, budget: TimeBudget, log: JobLog) -> dict:
    items, start, position = page_items(event, clients)
    report = ReportPart(part_key(event.resolved_report_prefix(), event.job_id, "copy", position))
    tally = Tally()
    pace = start_pace(clients, copy_pace(event))
    copier = ObjectCopier(event, clients, report, tally)
    tuning = event.tuning
    processes = tuning.processes or usable_cpus()
    worker_event = event.model_copy(
        update={"tuning": tuning.model_copy(update={"pace_divisor": processes})}
    )

    def merge(deltas: dict, lines: list[bytes]) -> None:
        tally.add(**deltas)
        report.add_lines(lines)

    with BoundedPool(tuning.concurrency, tuning.max_buffered_mb * 1024 * 1024) as local:
        workers = PageWorkers(
            local,
            make_spec("handlers.copy:worker_copier", worker_event, clients)
            if processes > 1
            else None,
            processes=processes,
            fanout_after=tuning.fanout_after_items,
            on_result=merge,
            log=log,
        )
        workers.on_fanout = pace.set_divisor if pace is not None else None
        try:
            page = run_page(items, copier, workers, budget, start=start, max_items=tuning.max_items)
        finally:
            workers.close()
    if pace is not None:
        pace.finish(page.done)
    report_bucket = clients.bucket(event.resolved_report_bucket(event.dest.bucket))
    report_key = report.write(report_bucket, clients.retry)
    counters = CopyCounters(**tally.values)
    result = CopyPageResult(
        done=page.done,
        **page_position(event, page.after),
        counters=counters,
        totals=CopyCounters(**add_counters(event.totals, counters.model_dump())),
        report_key=report_key,
    )
    if event.shard is not None:
        result.shard = advanced_shard(event.shard, page.done, page.after, result.totals)
        result.pages_left = (event.pages_left or 1) - 1
    log.info("copy_page", done=page.done, counters=counters.model_dump(), report_key=report_key)
    return result.model_dump(mode="json")


def run(
    event: CopyEvent,
    context,
    *,
    started_at: float | None = None,
    settings: WorkerSettings | None = None,
) -> dict:
    settings = settings or WorkerSettings.from_environ()
    event = settings.fill(event)
    log = JobLog("copy", event.job_id, request_id_of(context), level=settings.log_level)
    return copy_page(
        event, clients_for(event, context), budget_for(event, context, started_at), log
    )


def handler(event: bytes, context):
    started = time.monotonic()
    return json.dumps(run(parse_event(CopyEvent, event), context, started_at=started))
