"""Job documents: the typed execution input of the copy and restore flows (the unzip
flow's input is handlers.jobinput.UnzipJob, built by the trigger).

A job document carries everything an execution needs, so a continuation or a resume is
just "the same document with new shard positions and seq + 1". The models are the
contract from the CLI through flow input, continuation, status and resume; their JSON
Schema is checked in at docs/schemas/ (tests/unit/test_job_schema.py keeps it current).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from handlers.events import JOB_ID_PATTERN, Destination, ObjectFilter
from handlers.jobinput import JOB_ID_MAX, Resources, UnzipJob
from handlers.shards import (
    CopyShard,
    CopyShardItem,
    IndexRange,
    ListingRange,
    RestoreShardItem,
    VerifyShardItem,
)
from ossbatch.cloud import ConfigError, Connection
from ossbatch.eventbudget import pages_per_execution
from ossbatch.retrying import call

MAX_SHARDS = 40  # the flows' Map MaxConcurrency (CloudFlow inline Map: at most 40)


@dataclass(frozen=True)
class OssUrl:
    bucket: str
    key: str

    @classmethod
    def parse(cls, text: str, what: str) -> OssUrl:
        if not text.startswith("oss://"):
            raise ConfigError(f"{what} {text!r} must look like oss://bucket/key")
        bucket, _, key = text[len("oss://") :].partition("/")
        if not bucket:
            raise ConfigError(f"{what} {text!r} has no bucket name")
        return cls(bucket, key)


def function_arn(conn: Connection, role: str) -> str:
    return (
        f"acs:fc:{conn.region}:{conn.account_id}:functions/{conn.functions.get(role, role)}/LATEST"
    )


def flow_arn(conn: Connection, kind: str) -> str:
    return f"acs:fnf:{conn.region}:{conn.account_id}:flow/{conn.flow_name(kind)}"


def queue_arn(conn: Connection, queue: str) -> str:
    return f"acs:mns:{conn.region}:{conn.account_id}:/queues/{queue}/messages" if queue else ""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IndexLocation(Strict):
    """The job's index object: once per job; shards carry only their byte ranges."""

    bucket: str = Field(min_length=3, max_length=63)
    key: str = Field(min_length=1, max_length=1023)


class ListingLocation(Strict):
    bucket: str = Field(min_length=3, max_length=63)
    prefix: str = ""


class InventoryLocation(Strict):
    """The job's OSS inventory (ossbatch/inventoryplan.py): once per job; shards carry
    only their (file, offset) ranges."""

    bucket: str = Field(min_length=3, max_length=63, description="the bucket of manifest.json")
    manifest_key: str = Field(min_length=1, max_length=1023)
    manifest_etag: str | None = Field(None, description="pages refuse a replaced manifest")
    source_bucket: str = Field(
        min_length=3, max_length=63, description="the manifest's sourceBucket"
    )
    prefix: str = Field("", description="only rows under this prefix (--source)")
    plus_is_space: bool = Field(False, description="Keys in form encoding ('+' is a space)")


class PageTuning(Strict):
    time_budget_seconds: float = Field(gt=0)
    max_items: int | None = Field(None, ge=1)
    max_qps: float | None = Field(None, gt=0, description="the job's OSS request budget")


class JobSettings(Strict):
    """How the flow runs the job: page budget per execution, notification, tolerance."""

    pages_per_execution: int = Field(ge=1)
    event_limit: int = Field(5000, ge=100)
    tolerated_failures: int = Field(0, ge=0)
    notify: bool = Field(False, description="send the result to resources.queue")


class RestoreSettings(JobSettings):
    deadline_hours: float = Field(gt=0)
    sampled_storage_class: str | None = None


class SourcedRequest(Strict):
    """What every page of the job passes to its function (with the shard added)."""

    # which listed/indexed objects the job touches (handlers.events.ObjectFilter)
    filters: ObjectFilter | None = None
    job_id: str = Field(pattern=JOB_ID_PATTERN, max_length=JOB_ID_MAX)
    index: IndexLocation | None = None
    listing: ListingLocation | None = None
    inventory: InventoryLocation | None = None
    report_bucket: str | None = None
    report_prefix: str = "reports/"
    tuning: PageTuning

    @model_validator(mode="after")
    def _one_source(self):
        given = [n for n in ("index", "listing", "inventory") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'index', 'listing' or 'inventory'")
        return self


class CopyRequest(SourcedRequest):
    dest: Destination


class RestoreRequest(SourcedRequest):
    mode: Literal["step"] = "step"
    days: int = Field(ge=1, le=365)
    tier: Literal["Expedited", "Standard", "Bulk"]
    first_wait_seconds: int = Field(ge=1)
    poll_seconds: int = Field(ge=1)


class SourceEstimate(Strict):
    """How many objects (and bytes) the source holds, as the split before the job saw it:
    `jobs status` shows done/total and an ETA from it (docs/decisions/listing-shards.md)."""

    objects: int = Field(ge=0, description="estimated objects under the prefix")
    at_least: int = Field(ge=0, description="objects the split's probes listed: a hard floor")
    exact: bool = Field(description="every object was listed: objects is the count")
    method: Literal["counted", "sampled", "first page"]
    made_by: Literal["listing split", "inventory sample"] = Field(
        "listing split", description="what saw the objects: the split's probes, or inventory rows"
    )
    bytes: int | None = Field(None, ge=0, description="objects x mean size of the listed ones")
    requests: int = Field(ge=0, description="LIST requests the split made")


class JobDocument(Strict):
    """The execution input of the copy/restore flows; a continuation or resume is the same
    document with advanced shards and the next seq."""

    job_id: str = Field(pattern=JOB_ID_PATTERN, max_length=JOB_ID_MAX)
    seq: int = Field(0, ge=0)
    started_at: float
    resources: Resources
    source_estimate: SourceEstimate | None = None  # listing sources; None: no total known


class CopyJob(JobDocument):
    kind: Literal["copy"] = "copy"
    settings: JobSettings
    request: CopyRequest
    shards: list[CopyShardItem] = Field(min_length=1, max_length=MAX_SHARDS)


class RestoreJob(JobDocument):
    kind: Literal["restore"] = "restore"
    settings: RestoreSettings
    request: RestoreRequest
    shards: list[RestoreShardItem] = Field(min_length=1, max_length=MAX_SHARDS)


class VerifyJob(CopyJob):
    """`jobs verify`: the verified copy job's request and shards under a verify-... id."""

    kind: Literal["verify"] = "verify"  # type: ignore[assignment]
    verifies: str = Field(pattern=JOB_ID_PATTERN, max_length=JOB_ID_MAX)
    shards: list[VerifyShardItem] = Field(min_length=1, max_length=MAX_SHARDS)


JOB_MODELS = {"copy": CopyJob, "restore": RestoreJob, "unzip": UnzipJob, "verify": VerifyJob}


def parse_job(doc: dict, kind: str) -> CopyJob | RestoreJob | UnzipJob:
    """A job document read back (status, resume); a clear error names the bad field."""
    try:
        return JOB_MODELS[kind].model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(document)"
        raise ConfigError(
            f"{kind} job document {doc.get('job_id', '?')!r} is not valid at {where}: "
            f"{first['msg']} (started by another ossbatch version? start the job again)"
        ) from None


@contextmanager
def checked(what: str):
    """A document the CLI cannot build (e.g. a bucket name OSS refuses) is a usage error."""
    try:
        yield
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{what}: {where}: {first['msg']}") from None


def dump(job: Strict) -> dict:
    """The JSON the flow gets: no null fields (the flows never test for null)."""
    return job.model_dump(mode="json", exclude_none=True)


def index_shards(conn: Connection, index: OssUrl, count: int) -> list[CopyShard]:
    """Split the index object into `count` byte ranges; a line belongs to the range of its first byte."""
    import oss2

    try:
        size = call(conn.oss_bucket(index.bucket).head_object, index.key).content_length
    except oss2.exceptions.NotFound as exc:
        raise ConfigError(f"index oss://{index.bucket}/{index.key} does not exist") from exc
    bounds = split_bounds(size, count)
    return [
        CopyShard(id=i, index=IndexRange(offset=bounds[i], end=bounds[i + 1]), start=bounds[i])
        for i in range(len(bounds) - 1)
    ]


def split_bounds(size: int, count: int, min_shard_bytes: int = 1024) -> list[int]:
    """Byte offsets 0 = b0 < b1 < ... < bn = size cutting an index into n <= count ranges."""
    count = max(1, min(count, MAX_SHARDS, size // min_shard_bytes or 1))
    if size == 0:
        return [0, 0]
    return [size * i // count for i in range(count + 1)]


def listing_shards(conn: Connection, source: OssUrl, count: int) -> list[CopyShard]:
    """Up to ``count`` key ranges of the prefix (ossbatch.keysplit), each listed by one shard."""
    return listing_split(conn, source, count)[0]


def estimate_of(split) -> SourceEstimate:
    """The job document's record of what a KeySplit knows about the source's size."""
    if split.exact:
        method = "counted"
    else:
        method = "first page" if split.requests <= 1 else "sampled"
    return SourceEstimate(
        objects=split.estimated_keys,
        at_least=split.seen_keys,
        exact=split.exact,
        method=method,
        bytes=split.estimated_bytes,
        requests=split.requests,
    )


def listing_split(conn: Connection, source: OssUrl, count: int):
    """(shards, KeySplit): the split also says how many keys it saw or estimates."""
    import oss2

    from handlers.listing import oss_list_page
    from ossbatch.keysplit import split_key_space

    class _Retry:
        call = staticmethod(call)

    list_page = oss_list_page(conn.oss_bucket(source.bucket), _Retry())
    try:
        split = split_key_space(list_page, source.key, min(count, MAX_SHARDS))
    except oss2.exceptions.NoSuchBucket as exc:
        raise ConfigError(f"source bucket {source.bucket!r} does not exist") from exc
    shards = [
        CopyShard(id=i, listing=ListingRange(marker=r.start_after, end_marker=r.end))
        for i, r in enumerate(split.ranges)
    ]
    return shards, split


def inventory_shards(plan) -> list[CopyShard]:
    """One shard per planned inventory range (ossbatch.inventoryplan.plan)."""
    return [CopyShard(id=i, inventory=r) for i, r in enumerate(plan.ranges)]


def inventory_estimate(conn: Connection, plan, location: InventoryLocation) -> SourceEstimate:
    """The objects an inventory job covers, from a sample of its first data file's rows."""
    from ossbatch.inventoryplan import sample_rows

    sample = sample_rows(conn, plan, location.prefix, location.plus_is_space)
    exact = sample.whole
    stored = sum(f.size for f in plan.manifest.files)  # exact, unlike gzip trailers' sizes
    objects = sample.rows if exact else round(stored * sample.per_compressed_byte)
    return SourceEstimate(
        objects=objects,
        at_least=sample.rows,
        exact=exact,
        method="counted" if exact else "sampled",
        made_by="inventory sample",
        bytes=round(objects * sample.mean_size) if sample.rows else None,
        requests=1 if plan.manifest.files else 0,
    )


def inventory_location(plan, source: OssUrl | None, plus_is_space: bool) -> InventoryLocation:
    return InventoryLocation(
        bucket=plan.bucket,
        manifest_key=plan.manifest_key,
        manifest_etag=plan.manifest_etag or None,
        source_bucket=plan.manifest.source_bucket,
        prefix=source.key if source is not None else "",
        plus_is_space=plus_is_space,
    )


def source_locations(index: OssUrl | None, source: OssUrl | None, inventory=None) -> dict:
    if inventory is not None:
        return {"inventory": inventory}
    if index is not None:
        return {"index": IndexLocation(bucket=index.bucket, key=index.key)}
    return {"listing": ListingLocation(bucket=source.bucket, prefix=source.key)}


def resources(conn: Connection, kind: str, notify_queue: str) -> Resources:
    return Resources(
        function=function_arn(conn, kind),
        flow=flow_arn(conn, kind),
        queue=queue_arn(conn, notify_queue),
    )


def report_location(conn: Connection) -> tuple[str, str]:
    return conn.buckets.get("reports", ""), conn.settings.get("report_prefix", "reports/")


def tuning(page_budget_s: float, max_items: int | None, max_qps: float | None) -> PageTuning:
    """The handlers' tuning every page of the job gets (max_qps: the job's whole budget)."""
    return PageTuning(
        time_budget_seconds=page_budget_s, max_items=max_items or None, max_qps=max_qps or None
    )


def copy_document(
    conn: Connection,
    job_id: str,
    *,
    index: str | None,
    source: str | None,
    dest: str,
    storage_class: str | None,
    concurrency: int,
    page_budget_s: float,
    tags: dict[str, str] | None = None,
    tags_directive: str = "Copy",
    notify_queue: str = "",
    tolerated_failures: int = 0,
    max_items_per_page: int | None = None,
    event_limit: int = 5000,
    max_qps: int | None = None,
    filters: dict | None = None,
    inventory=None,
    inventory_plus_is_space: bool = False,
) -> dict:
    """A copy job document; ``inventory`` (an inventoryplan.InventoryPlan) replaces --index,
    and then ``source`` only narrows its rows to a prefix."""
    if inventory is None and (index is None) == (source is None):
        raise ConfigError(
            "give exactly one of --index oss://bucket/key or --source oss://bucket/prefix/"
        )
    target = OssUrl.parse(dest, "--dest")
    index_url = OssUrl.parse(index, "--index") if index else None
    source_url = OssUrl.parse(source, "--source") if source else None
    estimate = None
    location = None
    if inventory is not None:
        shards = inventory_shards(inventory)
        location = inventory_location(inventory, source_url, inventory_plus_is_space)
        estimate = inventory_estimate(conn, inventory, location)
    elif index_url:
        shards = index_shards(conn, index_url, concurrency)
    else:
        shards, split = listing_split(conn, source_url, concurrency)
        estimate = estimate_of(split)
    report_bucket, report_prefix = report_location(conn)
    with checked("cannot start the copy job"):
        job = CopyJob(
            job_id=job_id,
            started_at=time.time(),
            source_estimate=estimate,
            resources=resources(conn, "copy", notify_queue),
            settings=JobSettings(
                pages_per_execution=pages_per_execution("copy", len(shards), event_limit),
                event_limit=event_limit,
                tolerated_failures=tolerated_failures,
                notify=bool(notify_queue),
            ),
            request=CopyRequest(
                job_id=job_id,
                **source_locations(index_url, source_url, location),
                dest=Destination(
                    bucket=target.bucket,
                    prefix=target.key,
                    storage_class=storage_class,
                    tags=tags,
                    tags_directive=tags_directive,
                ),
                report_bucket=report_bucket or None,
                report_prefix=report_prefix,
                tuning=tuning(page_budget_s, max_items_per_page, max_qps),
                filters=filters,
            ),
            shards=[CopyShardItem(shard=shard) for shard in shards],
        )
    return dump(job)
