"""Where one unzip page's entries go: the output bucket, the upload pools, counters and report.

Every read path (a stream run, a stored block, a Deflate64 entry, a directory marker, a
skip) hands its entries to one ``PageSink``; failures are classified in one place
(``entry_failure``) whichever path raised them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import oss2
import requests
import stream_unzip

from .budget import TimeBudget
from .clients import error_code, error_message, raise_if_systemic
from .integrity import UploadDamaged
from .paging import settle_done
from .pool import BoundedPool
from .processes import PageWorkers
from .report import ReportPart
from .retrying import attempts_of
from .unzipworker import RemoteEntry, record_exists, record_fail, record_ok, record_upload
from .zipio import EntrySizes, EntryWriter, OutputTarget, stream_error_code
from .zipoutput import OutputExists
from .zipplan import PlannedEntry
from .zipsafety import InflationGuard, Limits, UnsafeEntry

REMOTE_ENTRY_BYTES = 64 * 1024  # larger entries are bandwidth-bound: they stay in-process


@dataclass
class UnzipTally:
    entries: int = 0
    extracted: int = 0
    skipped: int = 0
    failed: int = 0
    duplicates: int = 0  # of the failed: later entries with an earlier entry's name
    bytes_out: int = 0
    bytes_read: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    def add(self, **deltas: int) -> None:
        for name, value in deltas.items():
            setattr(self, name, getattr(self, name) + value)


@dataclass
class PageStop:
    """When a page stops taking entries: its time budget, or ``max_items`` (tests, tiny pages)."""

    budget: TimeBudget
    marker: int
    max_items: int | None

    def reached(self, i: int, entries: int) -> bool:
        # at least one entry per invocation, so a tiny budget still makes progress
        if i <= self.marker:
            return False
        return self.budget.exhausted() or (self.max_items is not None and entries >= self.max_items)

    def room(self, entries: int) -> int | None:
        return None if self.max_items is None else max(1, self.max_items - entries)


@dataclass
class PageSink:
    target: OutputTarget  # output bucket, retry, entry sizes, owner metadata and on_existing
    pool: BoundedPool
    limits: Limits
    report: ReportPart
    remote: PageWorkers
    before_write: Callable[[], None] = lambda: None  # the package-version check
    tally: UnzipTally = field(default_factory=UnzipTally)
    pending: list = field(default_factory=list)  # (planned, upload future, bytes written)
    remote_futures: list = field(default_factory=list)
    remote_results: list = field(default_factory=list)  # counter deltas, added once drained

    @property
    def bucket_name(self) -> str:
        return self.target.bucket.bucket_name

    @property
    def sizes(self) -> EntrySizes:
        return self.target.sizes

    def writer(self, p: PlannedEntry) -> EntryWriter:
        """An entry's uploader, once the memory budget has room for its first part."""
        size = p.entry.uncompressed_size
        self.pool.reserve_wait(min(size, self.sizes.small_entry_bytes))
        self.before_write()
        return EntryWriter(self.target, p.key, size, self.pool)

    def guard(self, p: PlannedEntry) -> InflationGuard:
        return InflationGuard(
            p.name, p.entry.compressed_size, p.entry.uncompressed_size, self.limits
        )

    def finish(self, p: PlannedEntry, writer: EntryWriter, *, remote_ok: bool = False) -> None:
        """The entry's bytes are all written: upload (here or in a page worker) and record it."""
        # tiny entries cost a request's CPU each: page workers upload them once ready
        data = (
            writer.small_data(REMOTE_ENTRY_BYTES)
            if remote_ok and self.remote.processes > 1
            else None
        )
        batch = (
            self.remote.try_submit(RemoteEntry(p.index, p.name, p.key, data))
            if data is not None
            else None
        )
        future = writer.finish() if batch is None else None
        self.tally.entries += 1
        if batch is not None:
            self._track_remote(batch)
        elif future is None:
            self.record_ok(p, writer.written)
        else:
            self.pending.append((p, future, writer.written))
            if len(self.pending) >= 2 * self.pool.max_in_flight:
                self.pending[:] = self._settle_finished()

    def directory_marker(self, p: PlannedEntry) -> None:
        self.before_write()
        t = self.target
        future = self.pool.submit(t.owner.put, t.bucket, t.retry, p.key, b"")
        self.pending.append((p, future, 0))
        self.tally.entries += 1

    def _track_remote(self, batch) -> None:
        if not self.remote_futures or self.remote_futures[-1] is not batch:
            self.remote_futures.append(batch)
            if len(self.remote_futures) >= 64:  # surface a worker's systemic error early
                self.remote_futures[:] = settle_done(self.remote_futures)

    def entry_failure(self, p: PlannedEntry, exc: BaseException, writer=None) -> None:
        """Record why an entry failed; errors that doom the whole page are raised instead."""
        if writer is not None:
            writer.abort()
        if isinstance(exc, OutputExists):
            self.tally.entries += 1
            record_exists(self.report, self.tally, p, exc)
            return
        if isinstance(exc, oss2.exceptions.OssError):
            raise_if_systemic(exc, self.bucket_name, role="output")
            code, message = error_code(exc), error_message(exc)
        elif isinstance(exc, UnsafeEntry | UploadDamaged):
            code, message = exc.code, str(exc)
        elif isinstance(exc, stream_unzip.UnzipError):
            code, message = stream_error_code(exc), f"{type(exc).__name__}: {exc}".rstrip(": ")
        elif isinstance(exc, ValueError | OSError) and not _transport_error(exc):
            # inflate64 on corrupt data; a broken connection instead fails the page (retried)
            code, message = "CorruptData", f"entry {p.name!r}: {exc}"
        else:
            raise exc
        self.record_fail(p, code, message, attempts_of(exc))

    def drain(self) -> None:
        """Wait for every upload, merge the workers' counters and record what is still pending."""
        self.pool.drain()
        self.remote.drain()
        for deltas in self.remote_results:  # their report lines are in the report already
            self.tally.add(**deltas)
        self.remote_results.clear()
        for p, future, written in self.pending:
            self.record_upload(p, future.result, written)
        self.pending.clear()
        settle_done(self.remote_futures)  # a worker's systemic error fails the page

    def _settle_finished(self) -> list:
        """Record uploads that completed; keep the rest (memory stays flat over 100k entries)."""
        still = []
        for p, future, written in self.pending:
            if future.done():
                self.record_upload(p, future.result, written)
            else:
                still.append((p, future, written))
        return still

    def record_upload(self, p: PlannedEntry, upload, written: int) -> None:
        record_upload(self.report, self.tally, self.bucket_name, p, upload, written)

    def record_ok(self, p: PlannedEntry, written: int) -> None:
        record_ok(self.report, self.tally, p, written)

    def record_fail(self, p, code: str, message: str, attempts: int = 1) -> None:
        record_fail(self.report, self.tally, p, code, message, attempts)

    def record_skip(self, p: PlannedEntry) -> None:
        self.tally.entries += 1
        if not p.counts_as_failure:
            self.tally.skipped += 1
            self.report.add(
                entry=p.entry.index, name=p.name, key=p.key, status="skipped", code=p.skip_code
            )
            return
        self.tally.failed += 1
        self.tally.duplicates += p.skip_code == "DuplicateName"
        self.report.add(
            entry=p.entry.index,
            name=p.name,
            raw_name=p.entry.raw_name.hex() if p.name is None else None,
            key=p.key,
            status="failed",
            code=p.skip_code,
            message=p.skip_message,
            attempts=0,
        )


def _transport_error(exc: BaseException) -> bool:
    return isinstance(exc, ConnectionError | TimeoutError | requests.RequestException)
