"""Typed handler inputs and results. Validation errors name the bad field.

Fields documented in docs/handlers.md; unknown fields are rejected so a typo in a
flow definition fails loudly instead of being ignored.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import InvalidEvent
from .shards import CopyShard, RestoreShard
from .tags import check_tags

JOB_ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
ARCHIVED_CLASSES = ("Archive", "ColdArchive", "DeepColdArchive")
StorageClass = Literal["Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IndexSource(Strict):
    """An index object read by ranged GETs; lines whose first byte is in [offset, end)."""

    bucket: str = Field(min_length=3, max_length=63)
    key: str = Field(min_length=1, max_length=1023)
    offset: int = Field(0, ge=0)
    end: int | None = Field(None, ge=0, description="exclusive shard end; None = end of object")
    format: Literal["auto", "jsonl", "csv"] = "auto"
    default_bucket: str | None = Field(
        None, description="bucket for JSONL lines that name none (default: the index's bucket)"
    )


class ListingSource(Strict):
    """A prefix listing continued after ``marker`` (exclusive)."""

    bucket: str = Field(min_length=3, max_length=63)
    prefix: str = ""
    marker: str = ""
    end_marker: str | None = Field(None, description="stop before keys > end_marker (shards)")


class InventorySource(Strict):
    """An OSS bucket inventory (handlers/inventory.py): its manifest pinned by ETag, the
    source prefix rows must lie under, and the range [(file, offset), (end_file, end))."""

    bucket: str = Field(min_length=3, max_length=63, description="where the manifest lies")
    manifest_key: str = Field(min_length=1, max_length=1023)
    manifest_etag: str | None = Field(None, description="the manifest the job was planned on")
    source_bucket: str = Field(min_length=3, max_length=63)
    prefix: str = Field("", description="only rows whose key starts with it (--source)")
    plus_is_space: bool = Field(False, description="Keys use form encoding ('+' is a space)")
    file: int = Field(0, ge=0)
    offset: int = Field(0, ge=0)
    end_file: int = Field(0, ge=0)
    end: int | None = Field(None, ge=0)


class ObjectFilter(Strict):
    """Which listed/indexed objects a job touches (handlers.filters); the rest are skipped."""

    storage_classes: list[StorageClass] | None = Field(None, min_length=1)
    modified_after: float | None = Field(None, description="epoch seconds, inclusive")
    modified_before: float | None = Field(None, description="epoch seconds, exclusive")
    min_size: int | None = Field(None, ge=0)
    max_size: int | None = Field(None, ge=0)
    key_regex: str | None = Field(None, description="Python regex searched in the key")
    include: list[str] = Field(default_factory=list, description="rclone-style globs")
    exclude: list[str] = Field(default_factory=list, description="rclone-style globs")

    @model_validator(mode="after")
    def _compilable(self):
        import re

        from .filters import glob_regex

        if self.key_regex is not None:
            try:
                re.compile(self.key_regex)
            except re.error as exc:
                raise ValueError(f"key_regex {self.key_regex!r}: {exc}") from None
        for pattern in [*self.include, *self.exclude]:
            glob_regex(pattern)
        if None not in (self.min_size, self.max_size) and self.min_size > self.max_size:
            raise ValueError(f"min_size {self.min_size} is above max_size {self.max_size}")
        return self


class Tuning(Strict):
    concurrency: int = Field(32, ge=1, le=512)
    max_buffered_mb: int = Field(32, ge=1, le=16384)
    retry_attempts: int = Field(6, ge=1, le=20)
    time_budget_seconds: float | None = Field(None, gt=0)
    deadline: float | None = Field(None, description="absolute epoch seconds")
    margin_seconds: float | None = Field(None, ge=0)
    max_items: int | None = Field(
        None, ge=1, description="stop after this many items (tests, tiny pages)"
    )
    max_qps: float | None = Field(
        None,
        gt=0,
        description="the job's OSS request budget (--max-qps); a page takes its shard's share",
    )
    pace_divisor: int = Field(
        1, ge=1, le=64, description="set by a page for its worker processes: they split its share"
    )


class JobEvent(Strict):
    job_id: str = Field(pattern=JOB_ID_PATTERN)
    oss_endpoint: str | None = None
    report_bucket: str | None = None
    report_prefix: str | None = None
    tuning: Tuning = Tuning()
    totals: dict[str, int] = Field(default_factory=dict, description="previous cumulative counters")

    # unset fields are filled from the function's settings first (handlers/settings.py)
    def resolved_report_bucket(self, fallback: str) -> str:
        return self.report_bucket or fallback

    def resolved_report_prefix(self) -> str:
        return self.report_prefix or ""


class SourcedEvent(JobEvent):
    index: IndexSource | None = None
    listing: ListingSource | None = None
    inventory: InventorySource | None = None
    filters: ObjectFilter | None = None

    @model_validator(mode="after")
    def _one_source(self):
        given = [n for n in ("index", "listing", "inventory") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'index', 'listing' or 'inventory'")
        return self

    @property
    def source_bucket(self) -> str:
        if self.inventory is not None:
            return self.inventory.source_bucket
        return self.index.bucket if self.index else self.listing.bucket  # type: ignore[union-attr]


class Destination(Strict):
    bucket: str = Field(min_length=3, max_length=63)
    prefix: str = ""
    storage_class: StorageClass | None = None
    tags: dict[str, str] | None = Field(
        None, description="set these tags on every copy (tags_directive Replace)"
    )
    tags_directive: Literal["Copy", "Replace"] = Field(
        "Copy", description="Copy: keep the source's tags; Replace: only `tags` (none: no tags)"
    )

    @model_validator(mode="after")
    def _tags_within_oss_limits(self):
        if self.tags is not None:
            check_tags(self.tags)
            if self.tags_directive == "Copy" and "tags_directive" in self.model_fields_set:
                raise ValueError("tags replace the source's tags: give tags_directive Replace")
            self.tags_directive = "Replace"
        return self


class WorkerTuning(Tuning):
    """Tuning of the handlers whose long pages fan out to worker processes (copy, unzip)."""

    processes: int | None = Field(
        None,
        ge=1,
        le=64,
        description="worker processes for a long page; default: settings.processes, else usable CPUs",
    )
    fanout_after_items: int = Field(
        256, ge=0, description="items a page runs in-process before worker processes join"
    )


class CopyTuning(WorkerTuning):
    # a CopyObject holds no bytes here: 48 in flight per process keeps a worker's CPU busy
    # at ~20 ms per request, where 32 left it waiting (bench_copy: ~1,450 -> ~1,700/s)
    concurrency: int = Field(48, ge=1, le=512)


def place_shard(event):
    """A flow page names its shard: the job's index/listing location + the shard's range."""
    shard = event.shard
    if shard is None:
        return event
    if shard.index is not None:
        if event.index is None:
            raise ValueError("shard.index needs the job's index location in 'index'")
        event.index = event.index.model_copy(update=shard.index.model_dump())
    elif shard.listing is not None:
        if event.listing is None:
            raise ValueError("shard.listing needs the job's listing location in 'listing'")
        event.listing = event.listing.model_copy(update=shard.listing.model_dump())
    elif getattr(shard, "inventory", None) is not None:
        if event.inventory is None:
            raise ValueError("shard.inventory needs the job's inventory location in 'inventory'")
        event.inventory = event.inventory.model_copy(update=shard.inventory.model_dump())
    else:
        raise ValueError("a shard needs 'index', 'listing' or 'inventory'")
    event.totals = shard.totals.model_dump()
    return event


class CopyEvent(SourcedEvent):
    tuning: CopyTuning = CopyTuning()
    shard: CopyShard | None = Field(None, description="flow pages: the shard to advance")
    pages_left: int | None = Field(None, ge=1, description="flow pages: budget incl. this page")
    dest: Destination
    multipart_threshold: int = Field(
        1024**3, ge=1, description="bytes; larger objects use UploadPartCopy"
    )
    part_size: int = Field(64 * 1024**2, ge=100 * 1024, le=5 * 1024**3)
    skip_existing: bool = True

    @model_validator(mode="after")
    def _shard(self):
        return place_shard(self)


class PendingKeys(Strict):
    bucket: str = Field(min_length=3, max_length=63)
    keys: list[str] = Field(max_length=5000)
    version_ids: dict[str, str] | None = Field(
        None, description="key -> the version to poll (versioned buckets); absent: current"
    )


class RestoreEvent(JobEvent):
    mode: Literal["submit", "poll", "step"] = Field(
        "submit", description="step: the flow's next step for `shard` (submit, poll or resubmit)"
    )
    index: IndexSource | None = None
    listing: ListingSource | None = None
    inventory: InventorySource | None = None
    filters: ObjectFilter | None = None
    pending: PendingKeys | None = None
    days: int = Field(1, ge=1, le=365)
    tier: Literal["Expedited", "Standard", "Bulk"] = "Standard"
    shard: RestoreShard | None = Field(None, description="mode step: the shard to advance")
    steps_left: int | None = Field(None, ge=1, description="mode step: budget incl. this step")
    first_wait_seconds: int = Field(60, ge=1, description="mode step: wait before a first poll")
    poll_seconds: int = Field(60, ge=1, description="mode step: wait between later polls")

    @model_validator(mode="after")
    def _one_source(self):
        names = ("index", "listing", "inventory", "pending")
        given = [n for n in names if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'index', 'listing', 'inventory' or 'pending'")
        if (self.mode == "step") != (self.shard is not None):
            raise ValueError("mode 'step' takes a 'shard' (and only it does)")
        return self


class PackageRef(Strict):
    bucket: str = Field(min_length=3, max_length=63)
    key: str = Field(min_length=1, max_length=1023)
    etag: str | None = Field(None, description="pin the package (If-Match); default: HEAD at start")


class ZipLimits(Strict):
    max_entries: int = Field(1_000_000, ge=1)
    max_total_bytes: int = Field(64 * 1024**3, ge=1)
    max_entry_bytes: int = Field(48 * 1024**3, ge=1)
    max_ratio: float = Field(1000.0, gt=1)


class UnzipTuning(WorkerTuning):
    fanout_min_small_entries: int = Field(
        2000,
        ge=0,
        description="small entries left in the page that make worker processes worth starting",
    )
    version_check_seconds: float = Field(
        1.0, ge=0, description="HEAD the package before a write at most this often (0: every write)"
    )


class UnzipEvent(JobEvent):
    @model_validator(mode="before")
    @classmethod
    def _no_password(cls, data):
        # a password in the input would sit in the flow's input and execution history
        if isinstance(data, dict) and "password" in data:
            raise ValueError(
                "password is never part of the unzip input: set unzip.password in the "
                "environment (docs/decisions/unzip-passwords.md)"
            )
        return data

    tuning: UnzipTuning = UnzipTuning()
    package: PackageRef
    action: Literal["extract", "confirm", "delete_package", "release"] = Field(
        "extract",
        description="confirm: still this version and its lease (before the notification); "
        "delete_package: remove the package once the flow saw a clean run; release: the lease",
    )
    on_existing: Literal["overwrite", "skip", "fail"] | None = Field(
        None,
        description="another writer's object at an entry's key; default: the environment's unzip.on_existing, else fail",
    )
    lease_seconds: float = Field(
        1200, gt=0, description="a crashed run's package lease expires after this long"
    )
    output_bucket: str | None = Field(
        None,
        description="default: settings.output_bucket (the extraction bucket), else the package's",
    )
    output_prefix: str | None = Field(None, description="default: settings.output_prefix")
    watch_prefix: str | None = Field(
        None, description="stripped from the package directory name; default: settings.watch_prefix"
    )
    package_dir: bool = Field(True, description="put entries under <package name without .zip>/")
    strip_suffix: str = ".zip"
    marker: int = Field(0, ge=0, description="index of the next central-directory entry")
    first_page_at: float | None = Field(
        None, description="epoch seconds the extraction's first page started (passed back)"
    )
    name_encoding: str | None = Field(
        None, description="auto or a codec; default: settings.name_encoding, else auto"
    )
    directories: Literal["skip", "marker"] = "skip"
    unsafe_paths: Literal["reject", "sanitize"] = "reject"
    limits: ZipLimits | None = Field(
        None, description="tighter limits than the environment's (unzip.limits), never looser"
    )
    small_entry_bytes: int = Field(8 * 1024**2, ge=1)
    part_size: int = Field(16 * 1024**2, ge=100 * 1024, le=5 * 1024**3)
    read_chunk_bytes: int = Field(1024**2, ge=4096)


def parse_event(model: type[BaseModel], event: bytes | str | dict):
    """Decode the FC payload and validate it; errors name the field path."""
    if isinstance(event, bytes | bytearray):
        try:
            event = event.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidEvent(f"event is not UTF-8 JSON: {exc}") from exc
    if isinstance(event, str):
        try:
            event = json.loads(event or "{}")
        except json.JSONDecodeError as exc:
            raise InvalidEvent(f"event is not valid JSON: {exc}") from exc
    if not isinstance(event, dict):
        raise InvalidEvent(f"event must be a JSON object, got {type(event).__name__}")
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "(event)"
            problems.append(f"{field}: {err['msg']}")
        raise InvalidEvent(f"invalid {model.__name__}: " + "; ".join(problems)) from None
