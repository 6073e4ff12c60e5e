"""verify: compare a finished copy job's destination with its source, page by page.

The event is the copy job's own page request (CopyEvent) under the verify job's id,
so a verify page walks exactly the index range or listing the copy page walked, with
the same filters. Per object: HEAD the source and the destination, compare existence,
size, CRC-64 (x-oss-hash-crc64ecma), storage class (when the job set one) and tags
(when either side has any, or the job replaced them). Each mismatch is one JSON line in
the report part; matches are only counted. Nothing is written outside the report prefix.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import oss2

from .budget import TimeBudget
from .clients import OssClients, error_code, raise_if_systemic
from .copy import copy_pace, page_items, page_position
from .events import CopyEvent, parse_event
from .filters import item_rejection
from .invocation import add_counters, budget_for, clients_for
from .logs import JobLog, request_id_of
from .pacing import start_pace
from .paging import WorkItem, advanced_shard, run_page
from .pool import BoundedPool
from .report import ReportPart, part_key
from .settings import ObjectSettings
from .shards import VerifyCounters, VerifyShard
from .tally import Tally

DIFFERENCES = ("source_missing", "missing", "size", "crc64", "storage_class", "tags")


class VerifyEvent(CopyEvent):
    """A copy page's event under the verify job's id; its shard counts verify's counters."""

    shard: VerifyShard | None = None


@dataclass
class Side:
    """What one HEAD (and, when needed, one GetObjectTagging) tells about an object."""

    exists: bool
    size: int | None = None
    crc64: str | None = None
    storage_class: str | None = None
    tag_count: int = 0
    tags: dict[str, str] | None = field(default=None)

    def brief(self) -> dict:
        if not self.exists:
            return {"exists": False}
        out = {"size": self.size, "crc64": self.crc64, "storage_class": self.storage_class}
        if self.tags is not None:
            out["tags"] = self.tags
        return out


class ObjectVerifier:
    def __init__(self, event: CopyEvent, clients: OssClients, report: ReportPart, tally: Tally):
        self.event, self.clients, self.report, self.tally = event, clients, report, tally
        self.dest = clients.bucket(event.dest.bucket)

    def __call__(self, item: WorkItem) -> None:
        if item.ref is None:
            # the copy reported this line (MalformedLine); there is nothing to compare
            self.tally.add(skipped=1)
            return
        reason = item_rejection(self.event.filters, item, self._head_for_filters)
        if reason is not None:
            self.tally.add(**{"skipped": 1, f"skipped_{reason}": 1})
            return
        ref = item.ref
        source = self._side(self.clients.bucket(ref.bucket), ref.key, ref.version_id, "source")
        dest_key = self.event.dest.prefix + ref.key
        dest = self._side(self.dest, dest_key, None, "destination")
        differs = self.differences(source, dest)
        if "tags" in self._tag_checks(source, dest) and not differs:
            source.tags = self._tags(self.clients.bucket(ref.bucket), ref.key, ref.version_id)
            dest.tags = self._tags(self.dest, dest_key, None)
            if self._expected_tags(source) != (dest.tags or {}):
                differs.append("tags")
        if not differs:
            self.tally.add(done=1, bytes=source.size or 0)
            return
        self.tally.add(**{"failed": 1, **{f"mismatch_{what}": 1 for what in differs}})
        self.report.add(
            code="Mismatch",
            differs=differs,
            bucket=ref.bucket,
            key=ref.key,
            dest_bucket=self.event.dest.bucket,
            dest_key=dest_key,
            source=source.brief(),
            dest=dest.brief(),
            where=item.where,
        )

    def differences(self, source: Side, dest: Side) -> list[str]:
        if not source.exists:
            return ["source_missing"]
        if not dest.exists:
            return ["missing"]
        differs = []
        if source.size != dest.size:
            differs.append("size")
        if source.crc64 and dest.crc64 and source.crc64 != dest.crc64:
            differs.append("crc64")
        expected_class = self.event.dest.storage_class
        if expected_class and dest.storage_class != expected_class:
            differs.append("storage_class")
        return differs

    def _tag_checks(self, source: Side, dest: Side) -> tuple[str, ...]:
        """Tags are compared only when some are expected or present: no GET otherwise."""
        wanted = self.event.dest.tags if self.event.dest.tags_directive == "Replace" else None
        if source.tag_count or dest.tag_count or wanted:
            return ("tags",)
        return ()

    def _expected_tags(self, source: Side) -> dict[str, str]:
        if self.event.dest.tags_directive == "Replace":
            return dict(self.event.dest.tags or {})
        return dict(source.tags or {})

    def _side(self, bucket, key: str, version_id: str | None, role: str) -> Side:
        params = {"versionId": version_id} if version_id else None
        try:
            head = self.clients.retry.call(bucket.head_object, key, params=params)
        except oss2.exceptions.OssError as exc:
            if exc.status == 404 and error_code(exc) != "NoSuchBucket":
                return Side(exists=False)
            raise_if_systemic(exc, bucket.bucket_name, role=role)
            raise
        headers = head.headers
        return Side(
            exists=True,
            size=head.content_length,
            crc64=headers.get("x-oss-hash-crc64ecma"),
            storage_class=headers.get("x-oss-storage-class", "Standard"),
            tag_count=int(headers.get("x-oss-tagging-count", "0") or 0),
        )

    def _tags(self, bucket, key: str, version_id: str | None) -> dict[str, str]:
        params = {"versionId": version_id} if version_id else None
        result = self.clients.retry.call(bucket.get_object_tagging, key, params=params)
        return dict(result.tag_set.tagging_rule)

    def _head_for_filters(self, ref):
        params = {"versionId": ref.version_id} if ref.version_id else None
        return self.clients.retry.call(
            self.clients.bucket(ref.bucket).head_object, ref.key, params=params
        )


def verify_page(event: VerifyEvent, clients: OssClients, budget: TimeBudget, log: JobLog) -> dict:
    items, start, position = page_items(event, clients)
    report = ReportPart(part_key(event.resolved_report_prefix(), event.job_id, "verify", position))
    tally = Tally()
    pace = start_pace(clients, copy_pace(event))
    verifier = ObjectVerifier(event, clients, report, tally)
    tuning = event.tuning
    with BoundedPool(tuning.concurrency, tuning.max_buffered_mb * 1024 * 1024) as pool:
        page = run_page(items, verifier, pool, budget, start=start, max_items=tuning.max_items)
    if pace is not None:
        pace.finish(page.done)
    report_bucket = clients.bucket(event.resolved_report_bucket(event.dest.bucket))
    report_key = report.write(report_bucket, clients.retry)
    counters = VerifyCounters(**tally.values)
    totals = VerifyCounters(**add_counters(event.totals, counters.model_dump()))
    result = {
        "done": page.done,
        "next_offset": None,
        "next_marker": None,
        **page_position(event, page.after),
        "counters": counters.model_dump(),
        "totals": totals.model_dump(),
        "report_key": report_key,
    }
    if event.shard is not None:
        # the flow only routes: the page returns its shard advanced and the pages left
        result["shard"] = advanced_shard(event.shard, page.done, page.after, totals).model_dump()
        result["pages_left"] = (event.pages_left or 1) - 1
    log.info("verify_page", done=page.done, counters=result["counters"], report_key=report_key)
    return result


def run(
    event: VerifyEvent,
    context,
    *,
    started_at: float | None = None,
    settings: ObjectSettings | None = None,
) -> dict:
    settings = settings or ObjectSettings.from_environ()
    event = settings.fill(event)
    log = JobLog("verify", event.job_id, request_id_of(context), level=settings.log_level)
    return verify_page(
        event, clients_for(event, context), budget_for(event, context, started_at), log
    )


def handler(event: bytes, context):
    started = time.monotonic()
    return json.dumps(run(parse_event(VerifyEvent, event), context, started_at=started))
