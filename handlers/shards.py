"""Shards and page results: what a copy/restore flow carries per shard, and what each
page returns. One model per concept, read by the handlers, the flows and the CLI.

A shard carries only its own position; where the index or listing is lives once per job
(the request). A page result carries the shard as the function advanced it (`done`, next
position, counters, pages), so the flow never computes, it only routes on booleans.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- one counter vocabulary per kind ------------------------------------------------


class FilterSkips(Strict):
    """Of the skipped: why a filter left an object out (handlers/filters.py reasons)."""

    skipped_storage_class: int = 0
    skipped_modified: int = 0
    skipped_size: int = 0
    skipped_key: int = 0


class CopyCounters(FilterSkips):
    done: int = 0
    skipped: int = 0
    failed: int = 0
    bytes: int = 0


class RestoreCounters(FilterSkips):
    done: int = 0
    submitted: int = 0
    restored: int = 0
    skipped: int = 0
    failed: int = 0
    pending: int = 0
    not_submitted: int = 0


class UnzipCounters(Strict):
    entries: int = 0
    extracted: int = 0
    skipped: int = 0
    failed: int = 0
    duplicates: int = 0  # of the failed: later entries with an earlier entry's name
    bytes_out: int = 0
    bytes_read: int = 0


def add(previous: Strict, current: Strict) -> Strict:
    """Cumulative counters: previous + this page, field by field."""
    return type(previous)(
        **{name: getattr(previous, name) + getattr(current, name) for name in previous.model_fields}
    )


# --- shard positions ------------------------------------------------------------------


class IndexRange(Strict):
    """Lines whose first byte is in [offset, end) of the job's index object."""

    offset: int = Field(0, ge=0)
    end: int | None = Field(None, ge=0, description="exclusive; None = end of the object")


class ListingRange(Strict):
    """Keys after `marker` (exclusive) of the job's listing, up to `end_marker`."""

    marker: str = ""
    end_marker: str | None = None


class InventoryRange(Strict):
    """Rows of the job's inventory from (file, offset) up to before (end_file, end): file
    numbers index the manifest's files, offsets are bytes of a file's decompressed CSV."""

    file: int = Field(0, ge=0)
    offset: int = Field(0, ge=0)
    end_file: int = Field(0, ge=0, description="the shard's last file")
    end: int | None = Field(None, ge=0, description="exclusive offset in end_file; None = its end")


class CopyShard(Strict):
    id: int = Field(ge=0)
    index: IndexRange | None = None
    listing: ListingRange | None = None
    inventory: InventoryRange | None = None
    start: int | None = Field(None, ge=0, description="index shards: first byte (progress)")
    done: bool = False
    pages: int = Field(0, ge=0)
    totals: CopyCounters = CopyCounters()


class RestoreShard(Strict):
    """A restore shard: submit a page, wait, poll that page's range until it is readable."""

    id: int = Field(ge=0)
    index: IndexRange | None = None
    listing: ListingRange | None = None
    inventory: InventoryRange | None = None
    start: int | None = Field(None, ge=0)
    done: bool = False
    pages: int = Field(0, ge=0)
    totals: RestoreCounters = RestoreCounters()
    more: bool = Field(True, description="pages left to submit after the current one")
    phase: Literal["submit", "poll", "resubmit"] = "submit"
    poll: IndexRange | ListingRange | InventoryRange | None = Field(
        None, description="the range being polled"
    )
    waiting: bool = Field(False, description="the flow waits next_wait seconds before the step")
    next_wait: int = Field(0, ge=0)
    pending: int = Field(0, ge=0, description="objects still restoring at the last poll")
    polls: int = Field(0, ge=0)
    polls_left: int = Field(1, ge=0, description="polls before the job deadline")
    expired: bool = False


class CopyShardItem(Strict):
    """One element of a copy job's `shards` (the Map iterates over these)."""

    shard: CopyShard


class VerifyCounters(CopyCounters):
    """done = matched, failed = mismatched (one `mismatch_<what>` per difference)."""

    mismatch_source_missing: int = 0
    mismatch_missing: int = 0
    mismatch_size: int = 0
    mismatch_crc64: int = 0
    mismatch_storage_class: int = 0
    mismatch_tags: int = 0


class VerifyShard(CopyShard):
    """A verify job's shard: a copy shard counting verify's counters."""

    totals: VerifyCounters = VerifyCounters()


class VerifyShardItem(Strict):
    shard: VerifyShard


class RestoreShardItem(Strict):
    shard: RestoreShard


# --- page results -----------------------------------------------------------------------


class CopyPageResult(Strict):
    done: bool
    next_offset: int | None = None
    next_marker: str | None = None
    next_file: int | None = Field(None, description="inventory: the file next_offset is in")
    counters: CopyCounters
    totals: CopyCounters
    report_key: str | None = None
    shard: CopyShard | None = Field(None, description="the shard advanced by this page")
    pages_left: int | None = Field(None, description="pages this execution may still run")


class RestorePageResult(Strict):
    done: bool
    next_offset: int | None = None
    next_marker: str | None = None
    next_file: int | None = Field(None, description="inventory: the file next_offset is in")
    counters: RestoreCounters
    totals: RestoreCounters
    report_key: str | None = None
    all_restored: bool | None = None
    pending: dict | None = None
    not_submitted: dict | None = None


class RestoreStepResult(Strict):
    """A restore flow step: the shard as the function advanced it."""

    shard: RestoreShard
    steps_left: int
    page: RestorePageResult | None = None


class UnzipPageResult(Strict):
    done: bool
    marker: int
    entries_total: int
    counters: UnzipCounters
    totals: UnzipCounters
    report_key: str | None = None
    package: dict
    output_prefix: str
    package_prefix: str = ""
    first_page_at: float
    elapsed_seconds: float
    all_succeeded: bool
