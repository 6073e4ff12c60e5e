"""Extract a zip package from OSS into an output prefix, resumable at an entry marker.

1. HEAD the package (pin its ETag; every later GET sends If-Match).
2. Read the EOCD / ZIP64 EOCD and the central directory with ranged GETs.
3. Plan every entry (name decoding, path safety, limits, duplicates) — deterministic,
   so every invocation of the same package agrees on keys and failures.
4. From the marker, stream runs of extractable entries with stream-unzip starting at
   the run's first local header: a resumed invocation reads only the remaining bytes.
5. Small entries are PUT concurrently within a memory budget, large ones are streamed
   as multipart uploads; every entry gets a report line.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import struct
import time
import zlib
from dataclasses import dataclass, field

import inflate64
import oss2
import stream_unzip

from .budget import TimeBudget
from .clients import OssClients, error_code, error_message, put_verified, raise_if_systemic
from .errors import InvalidEvent, PackageRejected
from .events import UnzipEvent, parse_event
from .invocation import add_counters, budget_for, clients_for
from .logs import JobLog, request_id_of
from .paging import settle_done
from .pool import BoundedPool
from .processes import PageWorkers, default_processes, make_spec
from .report import ReportPart, part_key
from .retrying import attempts_of
from .zipdir import CentralDirectory, read_central_directory
from .zipio import EntryWriter, PackageReader, raise_package_error, stream_error_code
from .zipnames import check_encoding
from .zipplan import DEFLATE64, STORED, PlannedEntry, plan_entries
from .zipsafety import InflationGuard, Limits, UnsafeEntry, output_key, package_dir_name

DESCRIPTOR_LOOKAHEAD = 16
BLOCK_BYTES = 8 * 1024 * 1024  # one GET for a run of small stored entries
INFLATE64_IN_RUN_BYTES = 16 * 1024


@dataclass
class UnzipTally:
    entries: int = 0
    extracted: int = 0
    skipped: int = 0
    failed: int = 0
    bytes_out: int = 0
    bytes_read: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    def add(self, **deltas: int) -> None:
        for name, value in deltas.items():
            setattr(self, name, getattr(self, name) + value)


REMOTE_ENTRY_BYTES = 64 * 1024  # larger entries are bandwidth-bound: they stay in-process


@dataclass(frozen=True)
class RemoteEntry:
    """A small entry's bytes on their way to a page worker process, which uploads and records it."""

    planned: PlannedEntry
    data: bytes


@dataclass
class UnzipResult:
    done: bool
    marker: int
    entries_total: int
    counters: UnzipTally
    totals: dict
    report_key: str | None
    package: dict
    output_prefix: str
    package_prefix: str = ""
    first_page_at: float = 0.0
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "done": self.done,
            "marker": self.marker,
            "entries_total": self.entries_total,
            "counters": self.counters.as_dict(),
            "totals": self.totals,
            "report_key": self.report_key,
            "package": self.package,
            "output_prefix": self.output_prefix,
            "package_prefix": self.package_prefix,
            "first_page_at": self.first_page_at,
            # wall time since the first page: the flow's notification reports it as duration
            "elapsed_seconds": round(time.time() - self.first_page_at, 3),
            "all_succeeded": self.done and self.totals.get("failed", 0) == 0,
        }


@dataclass
class PackagePlan:
    """One package version's central directory turned into output keys."""

    etag: str
    size: int
    reader: PackageReader
    directory: CentralDirectory
    limits: Limits
    plan: list
    prefix: str
    package_dir: str
    out_bucket_name: str

    @property
    def package_prefix(self) -> str:
        return output_key(self.prefix, self.package_dir, "")


def plan_package(event: UnzipEvent, clients: OssClients) -> PackagePlan:
    """HEAD (pinned to the ETag when known), read the central directory, plan every entry."""
    retry = clients.retry
    pkg = event.package
    package_bucket = clients.bucket(pkg.bucket)
    try:
        head = retry.call(
            package_bucket.head_object,
            pkg.key,
            headers={"If-Match": f'"{pkg.etag}"'} if pkg.etag else None,
        )
    except oss2.exceptions.OssError as exc:
        if exc.status == 404 and not clients.bucket_exists(pkg.bucket):
            raise_if_systemic(
                oss2.exceptions.NoSuchBucket(404, {}, b"", {"Code": "NoSuchBucket"}),
                pkg.bucket,
                role="source",
            )
        raise_package_error(exc, pkg.bucket, pkg.key)
        raise
    etag = (head.etag or "").strip('"').upper()
    size = head.content_length
    reader = PackageReader(package_bucket, pkg.key, etag, retry)

    limits = Limits(**event.limits.model_dump())
    directory: CentralDirectory = read_central_directory(
        reader.fetch, size, max_entries=limits.max_entries, name=f"oss://{pkg.bucket}/{pkg.key}"
    )
    encoding = event.name_encoding or os.environ.get("OSSBATCH_NAME_ENCODING") or None
    prefix = (
        event.output_prefix
        if event.output_prefix is not None
        else os.environ.get("OSSBATCH_OUTPUT_PREFIX", "")
    )
    pdir = (
        package_dir_name(
            pkg.key,
            watch_prefix=os.environ.get("OSSBATCH_WATCH_PREFIX", ""),
            strip_suffix=event.strip_suffix,
        )
        if event.package_dir
        else ""
    )
    plan = plan_entries(
        directory.entries,
        output_prefix=prefix,
        package_dir=pdir,
        name_encoding=encoding,
        unsafe_paths=event.unsafe_paths,
        limits=limits,
        directories=event.directories,
        has_password=event.password is not None,
    )
    return PackagePlan(
        etag, size, reader, directory, limits, plan, prefix, pdir, event.output_bucket or pkg.bucket
    )


def extract(event: UnzipEvent, clients: OssClients, budget: TimeBudget, log: JobLog) -> UnzipResult:
    first_page_at = event.first_page_at or time.time()
    retry = clients.retry
    pkg = event.package
    planned = plan_package(event, clients)
    etag, size, reader, plan = planned.etag, planned.size, planned.reader, planned.plan
    directory, limits = planned.directory, planned.limits
    prefix, out_bucket_name = planned.prefix, planned.out_bucket_name
    out_bucket = clients.bucket(out_bucket_name)
    package_id = hashlib.sha256(f"{pkg.bucket}\0{pkg.key}\0{etag}".encode()).hexdigest()[:16]
    report = ReportPart(
        part_key(
            event.resolved_report_prefix(),
            event.job_id,
            "unzip",
            f"{package_id}-{event.marker:08d}",
        )
    )
    tally = UnzipTally()
    password = event.password.encode() if event.password is not None else None
    max_items = event.tuning.max_items

    pool = BoundedPool(event.tuning.concurrency, event.tuning.max_buffered_mb * 1024 * 1024)
    processes = event.tuning.processes or default_processes()
    small_left = sum(
        1
        for p in plan[event.marker :]
        if p.extractable and not p.entry.is_dir and p.entry.uncompressed_size <= REMOTE_ENTRY_BYTES
    )
    if small_left < event.tuning.fanout_min_small_entries:
        processes = 1  # a few hundred requests do not repay ~0.5 s and ~60 MB per worker
    remote_results: list[tuple[dict, list[bytes]]] = []  # merged once the workers are drained
    remote = PageWorkers(
        pool,
        make_spec("handlers.unzip:worker_uploader", event, clients) if processes > 1 else None,
        processes=processes,
        fanout_after=event.tuning.fanout_after_items,
        on_result=lambda deltas, lines: remote_results.append((deltas, lines)),
        log=log,
    )
    remote_futures: list = []
    pending: list[tuple[PlannedEntry, object, int]] = []
    i = event.marker
    try:
        while i < len(plan):
            # at least one entry per invocation, so a tiny budget still makes progress
            if i > event.marker and (
                budget.exhausted() or (max_items is not None and tally.entries >= max_items)
            ):
                break
            p = plan[i]
            if not p.extractable:
                _record_skip(p, report, tally)
                i += 1
                continue
            if _inflate64_path(p):
                _extract_by_directory(
                    p, reader, out_bucket, event, pool, retry, limits, tally, report, pending
                )
                i += 1
                continue
            if _stored_with_descriptor(p):
                i = _extract_stored_block(
                    plan,
                    i,
                    reader,
                    directory,
                    size,
                    out_bucket,
                    event,
                    pool,
                    retry,
                    limits,
                    tally,
                    report,
                    pending,
                )
                continue
            if p.entry.is_dir:  # directories == "marker"
                pending.append((p, pool.submit(put_verified, out_bucket, retry, p.key, b""), 0))
                tally.entries += 1
                i += 1
                continue
            # the run: consecutive extractable file entries, streamed from one ranged GET
            run_end = i
            while (
                run_end < len(plan)
                and plan[run_end].extractable
                and not plan[run_end].entry.is_dir
                and not _stored_with_descriptor(plan[run_end])
                and not _inflate64_alone(plan[run_end])
            ):
                run_end += 1
            stop = (
                plan[run_end].entry.local_header_offset
                if run_end < len(plan)
                else directory.cd_offset
            )
            # stream-unzip reads 28 bytes after an entry's data to tell which of the four data
            # descriptor forms follows: 16 past the next header covers the shortest (12 bytes)
            stop = min(stop + DESCRIPTOR_LOOKAHEAD, size)
            i = _stream_run(
                plan,
                i,
                run_end,
                reader,
                reader.stream(p.entry.local_header_offset, stop, event.read_chunk_bytes),
                password,
                out_bucket,
                event,
                pool,
                retry,
                limits,
                budget,
                tally,
                report,
                pending,
                max_items,
                remote,
                remote_futures,
            )
        pool.drain()
        remote.drain()
        for deltas, lines in remote_results:
            tally.add(**deltas)
            report.add_lines(lines)
        for p, future, written in pending:
            _settle(p, future, written, report, tally, out_bucket_name)
        settle_done(remote_futures)  # a worker's systemic error fails the page
    finally:
        remote.close()
        pool.close()
    tally.bytes_read = reader.bytes_read
    done = i >= len(plan)
    report_bucket = clients.bucket(event.resolved_report_bucket(out_bucket_name))
    report_key = report.write(report_bucket, retry)
    totals = add_counters(event.totals, tally.as_dict())
    log.info(
        "unzip_page",
        package=pkg.key,
        marker_in=event.marker,
        marker_out=i,
        done=done,
        **tally.as_dict(),
    )
    return UnzipResult(
        done,
        i,
        len(plan),
        tally,
        totals,
        report_key,
        {"bucket": pkg.bucket, "key": pkg.key, "etag": etag, "size": size},
        prefix,
        package_prefix=planned.package_prefix,
        first_page_at=first_page_at,
    )


def _stream_run(
    plan,
    first,
    run_end,
    reader,
    chunks,
    password,
    out_bucket,
    event,
    pool,
    retry,
    limits,
    budget,
    tally,
    report,
    pending,
    max_items,
    remote,
    remote_futures,
) -> int:
    """Extract plan[first:run_end] from one stream; returns the next marker."""
    i = first
    files = stream_unzip.stream_unzip(chunks, password=password, chunk_size=event.read_chunk_bytes)
    while i < run_end:
        if i > first and (
            budget.exhausted() or (max_items is not None and tally.entries >= max_items)
        ):
            return i
        p = plan[i]
        writer = None
        try:
            raw_name, _size, entry_chunks = next(files)
            if raw_name != p.entry.raw_name:
                raise UnsafeEntry(
                    "HeaderMismatch",
                    f"local header name {raw_name!r} differs from the central directory",
                )
            pool.reserve_wait(min(p.entry.uncompressed_size, event.small_entry_bytes))
            writer = EntryWriter(
                out_bucket,
                p.key,
                p.entry.uncompressed_size,
                event.small_entry_bytes,
                event.part_size,
                pool,
                retry,
            )
            guard = InflationGuard(
                p.name, p.entry.compressed_size, p.entry.uncompressed_size, limits
            )
            for chunk in entry_chunks:
                guard.feed(len(chunk))
                writer.write(chunk)
            # tiny entries cost a request's CPU each: page workers upload them once ready
            data = writer.small_data(REMOTE_ENTRY_BYTES) if remote.processes > 1 else None
            batch = remote.try_submit(RemoteEntry(p, data)) if data is not None else None
            future = writer.finish() if batch is None else None
        except StopIteration:
            _record_fail(
                p, report, tally, "TruncatedArchive", "entry data missing before the directory"
            )
            return i + 1
        except Exception as exc:
            if writer is not None:
                writer.abort()
            if isinstance(exc, oss2.exceptions.OssError):
                raise_if_systemic(exc, out_bucket.bucket_name, role="output")
                code, message = error_code(exc), error_message(exc)
            elif isinstance(exc, UnsafeEntry):
                code, message = exc.code, str(exc)
            elif isinstance(exc, stream_unzip.UnzipError):
                code, message = stream_error_code(exc), f"{type(exc).__name__}: {exc}".rstrip(": ")
            else:
                raise
            _record_fail(p, report, tally, code, message, attempts_of(exc))
            return i + 1  # the stream is unusable after an error: restart at the next entry
        tally.entries += 1
        if batch is not None:
            if not remote_futures or remote_futures[-1] is not batch:
                remote_futures.append(batch)
                if len(remote_futures) >= 64:  # surface a worker's systemic error early
                    remote_futures[:] = settle_done(remote_futures)
        elif future is None:
            _record_ok(p, report, tally, writer.written)
        else:
            pending.append((p, future, writer.written))
            if len(pending) >= 2 * pool.max_in_flight:
                pending[:] = _settle_finished(pending, report, tally, out_bucket.bucket_name)
        i += 1
    return i


def _inflate64_path(p: PlannedEntry) -> bool:
    # stream-unzip inflates Deflate64 in pure Python (~0.3 MB/s); inflate64 does ~75 MB/s
    return p.entry.method == DEFLATE64 and not p.entry.encrypted


def _inflate64_alone(p: PlannedEntry) -> bool:
    """A Deflate64 entry inside a run that is worth its own GETs: past ~16 KiB, stream-unzip's
    pure-Python inflate costs more time than the round trip that lets inflate64 take it."""
    return _inflate64_path(p) and p.entry.uncompressed_size > INFLATE64_IN_RUN_BYTES


def _stored_with_descriptor(p: PlannedEntry) -> bool:
    """A stored entry whose local header leaves its size to a data descriptor (zips written
    front to back): stream-unzip cannot tell where it ends; the central directory can."""
    e = p.entry
    return e.method == STORED and e.has_data_descriptor and not e.encrypted and not e.is_dir


class BlockReader:
    """``PackageReader``'s fetch/stream over bytes already read: one GET for many small entries."""

    def __init__(self, data: bytes, start: int):
        self.data, self.start = data, start

    def fetch(self, start: int, end: int) -> bytes:
        data = self.data[start - self.start : end - self.start]
        if len(data) != end - start:
            raise UnsafeEntry("TruncatedEntry", f"bytes {start}-{end - 1} lie outside the entry")
        return data

    def stream(self, start: int, end: int, chunk: int):
        yield self.fetch(start, end)


def _stored_block(
    plan: list[PlannedEntry], i: int, event: UnzipEvent, cd_offset: int, room: int | None
) -> int:
    """End (exclusive) of the run of small stored-with-descriptor entries from ``i`` that one
    ranged GET of at most BLOCK_BYTES covers (and at most ``room`` entries); ``i + 1`` when
    ``plan[i]`` stands alone."""
    j = i + 1
    while j < len(plan) and (room is None or j - i < room):
        p = plan[j]
        if not (p.extractable and _stored_with_descriptor(p)):
            break
        if p.entry.local_header_offset <= plan[j - 1].entry.local_header_offset:
            break  # headers out of directory order: not one contiguous range
        if p.entry.uncompressed_size > event.small_entry_bytes:
            break
        end = plan[j + 1].entry.local_header_offset if j + 1 < len(plan) else cd_offset
        if end - plan[i].entry.local_header_offset > BLOCK_BYTES:
            break
        j += 1
    return j


def _extract_stored_block(
    plan, i, reader, directory, size, out_bucket, event, pool, retry, limits, tally, report, pending
) -> int:
    """Small stored-with-descriptor entries ``plan[i:j]`` from one ranged GET; returns ``j``."""
    max_items = event.tuning.max_items
    room = None if max_items is None else max(1, max_items - tally.entries)
    j = _stored_block(plan, i, event, directory.cd_offset, room)
    start = plan[i].entry.local_header_offset
    end = plan[j].entry.local_header_offset if j < len(plan) else directory.cd_offset
    if j == i + 1 or end <= plan[j - 1].entry.local_header_offset:  # alone, or out of order
        _extract_by_directory(
            plan[i], reader, out_bucket, event, pool, retry, limits, tally, report, pending
        )
        return i + 1
    pool.reserve_wait(end - start)
    block = BlockReader(reader.fetch(start, min(end, size)), start)
    for p in plan[i:j]:
        _extract_by_directory(
            p, block, out_bucket, event, pool, retry, limits, tally, report, pending
        )
    return j


def _extract_by_directory(
    p, reader, out_bucket, event, pool, retry, limits, tally, report, pending
):
    """One entry whose sizes and CRC come from the central directory (Deflate64, or stored
    with a data descriptor), read from its local header on."""
    entry = p.entry
    writer = None
    try:
        at = entry.local_header_offset
        header = reader.fetch(at, at + 30 + len(entry.raw_name))
        if header[:4] != b"PK\x03\x04":
            raise UnsafeEntry("HeaderMismatch", f"no local header at {at}")
        name_len, extra_len = struct.unpack_from("<HH", header, 26)
        if header[30 : 30 + name_len] != entry.raw_name:
            raise UnsafeEntry(
                "HeaderMismatch", f"local header name at {at} differs from the central directory"
            )
        start = entry.local_header_offset + 30 + name_len + extra_len
        inflater = inflate64.Inflater() if entry.method == DEFLATE64 else None
        guard = InflationGuard(p.name, entry.compressed_size, entry.uncompressed_size, limits)
        pool.reserve_wait(min(entry.uncompressed_size, event.small_entry_bytes))
        writer = EntryWriter(
            out_bucket,
            p.key,
            entry.uncompressed_size,
            event.small_entry_bytes,
            event.part_size,
            pool,
            retry,
        )
        crc = 0
        if entry.compressed_size:
            # small reads bound what one inflate() call can produce (~1,000x its input)
            for chunk in reader.stream(start, start + entry.compressed_size, 16 * 1024):
                out = inflater.inflate(chunk) if inflater is not None else chunk
                guard.feed(len(out))
                crc = zlib.crc32(out, crc)
                writer.write(out)
        if inflater is not None and entry.uncompressed_size and not inflater.eof:
            raise UnsafeEntry("TruncatedEntry", f"entry {p.name!r}: Deflate64 stream ends early")
        if writer.written != entry.uncompressed_size:
            raise UnsafeEntry(
                "SizeMismatch",
                f"entry {p.name!r}: {writer.written} bytes, "
                f"directory says {entry.uncompressed_size}",
            )
        if crc != entry.crc32:
            raise UnsafeEntry("CrcMismatch", f"entry {p.name!r}: CRC-32 mismatch")
        future = writer.finish()
    except (UnsafeEntry, oss2.exceptions.OssError, ValueError, OSError) as exc:
        if writer is not None:
            writer.abort()
        if isinstance(exc, oss2.exceptions.OssError):
            raise_if_systemic(exc, out_bucket.bucket_name, role="output")
            code, message = error_code(exc), error_message(exc)
        elif isinstance(exc, UnsafeEntry):
            code, message = exc.code, str(exc)
        else:
            code, message = "CorruptData", f"entry {p.name!r}: {exc}"
        _record_fail(p, report, tally, code, message, attempts_of(exc))
        return
    tally.entries += 1
    if future is None:
        _record_ok(p, report, tally, writer.written)
    else:
        pending.append((p, future, writer.written))


def _settle_finished(pending, report, tally, out_bucket_name) -> list:
    """Record uploads that completed; keep the rest (memory stays flat over 100k entries)."""
    still = []
    for p, future, written in pending:
        if future.done():
            _settle(p, future, written, report, tally, out_bucket_name)
        else:
            still.append((p, future, written))
    return still


def _settle(p, future, written, report, tally, out_bucket_name):
    _record_upload(p, future.result, written, report, tally, out_bucket_name)


def _record_upload(p, upload, written, report, tally, out_bucket_name):
    """Run (or wait for) an entry's upload and record it; systemic errors fail the page."""
    try:
        upload()
    except oss2.exceptions.OssError as exc:
        raise_if_systemic(exc, out_bucket_name, role="output")
        _record_fail(
            p, report, tally, error_code(exc), error_message(exc), attempts_of(exc), counted=True
        )
        return
    _record_ok(p, report, tally, written)


def worker_uploader(event_json: str, clients: OssClients, report: ReportPart, tally):
    """The item processor of a page worker process (handlers.processes): one small entry's PUT."""
    event = parse_event(UnzipEvent, event_json)
    name = event.output_bucket or event.package.bucket
    bucket = clients.bucket(name)

    def upload(item: RemoteEntry) -> None:
        put = functools.partial(put_verified, bucket, clients.retry, item.planned.key, item.data)
        _record_upload(item.planned, put, len(item.data), report, tally, name)

    return upload


def _record_ok(p, report, tally, written):
    tally.add(extracted=1, bytes_out=written)
    report.add(entry=p.entry.index, name=p.name, key=p.key, status="extracted", size=written)


def _record_skip(p, report, tally):
    tally.entries += 1
    if p.counts_as_failure:
        tally.failed += 1
        report.add(
            entry=p.entry.index,
            name=p.name,
            raw_name=p.entry.raw_name.hex() if p.name is None else None,
            key=p.key,
            status="failed",
            code=p.skip_code,
            message=p.skip_message,
            attempts=0,
        )
    else:
        tally.skipped += 1
        report.add(entry=p.entry.index, name=p.name, key=p.key, status="skipped", code=p.skip_code)


def _record_fail(p, report, tally, code, message, attempts=1, counted=False):
    tally.add(failed=1, **({} if counted else {"entries": 1}))
    report.add(
        entry=p.entry.index,
        name=p.name,
        key=p.key,
        status="failed",
        code=code,
        message=message,
        attempts=attempts,
    )


def missing_output(planned: PackagePlan, clients: OssClients) -> list[str]:
    """Output keys of extractable file entries that are absent or of another size.

    One LIST per 1,000 objects under the package prefix: the delete depends on the
    extraction having verifiably landed, not on what the caller says about it.
    """
    expected = {
        p.key: p.entry.uncompressed_size
        for p in planned.plan
        if p.extractable and p.key and not p.entry.is_dir
    }
    if not expected:
        return []
    bucket = clients.bucket(planned.out_bucket_name)
    for obj in oss2.ObjectIteratorV2(bucket, prefix=planned.package_prefix):
        if expected.get(obj.key) == obj.size:
            del expected[obj.key]
    return sorted(expected)


def delete_package(event: UnzipEvent, clients: OssClients, log: JobLog) -> dict:
    """Delete the package, but only the version that was extracted (its ETag, when known)
    and only when every extractable entry is in the output with its size.

    OSS DeleteObject has no If-Match, so the ETag is compared with a HEAD first: a package
    re-uploaded after the extraction is kept (PackageRejected: PackageChanged); so is one
    whose output is incomplete (PackageRejected: ExtractionIncomplete).
    """
    pkg = event.package
    bucket = clients.bucket(pkg.bucket)
    try:
        head = clients.retry.call(bucket.head_object, pkg.key)
    except oss2.exceptions.NotFound:
        log.info("package_already_gone", package=pkg.key)
        return {"deleted": True, "package": pkg.model_dump(), "already_gone": True}
    except oss2.exceptions.OssError as exc:
        raise_package_error(exc, pkg.bucket, pkg.key)
        raise
    etag = (head.etag or "").strip('"').upper()
    if pkg.etag and etag != pkg.etag.strip('"').upper():
        raise PackageRejected(
            "PackageChanged",
            f"oss://{pkg.bucket}/{pkg.key} is now version {etag}, not the extracted {pkg.etag}: kept",
        )
    missing = missing_output(plan_package(event, clients), clients)
    if missing:
        raise PackageRejected(
            "ExtractionIncomplete",
            f"oss://{pkg.bucket}/{pkg.key}: {len(missing)} extracted entries are missing or "
            f"differ in size (first: {missing[0]!r}): package kept; extract it again",
        )
    try:
        clients.retry.call(bucket.delete_object, pkg.key)
    except oss2.exceptions.OssError as exc:
        raise_if_systemic(exc, pkg.bucket, role="source")
        raise
    log.info("package_deleted", package=pkg.key, etag=etag)
    return {"deleted": True, "package": {**pkg.model_dump(), "etag": etag}, "already_gone": False}


def run(event: UnzipEvent, context, *, started_at: float | None = None) -> dict:
    if event.name_encoding:
        try:
            check_encoding(event.name_encoding)
        except ValueError as exc:
            raise InvalidEvent(f"name_encoding: {exc}") from None
    log = JobLog("unzip", event.job_id, request_id_of(context))
    budget = budget_for(event, context, started_at)
    clients = clients_for(event, context)
    if event.action == "delete_package":
        return delete_package(event, clients, log)
    return extract(event, clients, budget, log).as_dict()


def handler(event: bytes, context):
    started = time.monotonic()
    parsed = parse_event(UnzipEvent, event)
    return json.dumps(run(parsed, context, started_at=started))
