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

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field

import oss2

from .budget import TimeBudget
from .clients import OssClients, raise_if_systemic
from .errors import InvalidEvent, PackageRejected
from .events import UnzipEvent, parse_event
from .invocation import add_counters, budget_for, clients_for
from .logs import JobLog, request_id_of
from .packagelease import PackageLease, VersionGuard, lease_key
from .packagesource import PackageSource, locate
from .passwords import PackagePassword
from .pool import BoundedPool
from .processes import PageWorkers, make_spec, usable_cpus
from .report import ReportPart, part_key
from .settings import UnzipSettings
from .shards import UnzipPageResult
from .unzipsink import REMOTE_ENTRY_BYTES, PageSink, PageStop, UnzipTally
from .unzipworker import worker_payload
from .zipdir import CentralDirectory, read_central_directory
from .zipextract import PageExtraction
from .zipio import EntrySizes, OutputTarget, PackageReader
from .zipnames import check_encoding
from .zipoutput import OutputOwner
from .zipplan import Plan, PlannedEntry, PlanRules, plan_entries
from .zipreads import ReadLayout
from .zipsafety import Limits, output_key, package_dir_name


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
    source: PackageSource
    directory: CentralDirectory
    limits: Limits
    plan: Plan
    prefix: str
    package_dir: str
    out_bucket_name: str

    @property
    def package_prefix(self) -> str:
        return output_key(self.prefix, self.package_dir, "")

    @property
    def package_id(self) -> str:
        # the uploaded key (a symlink's own name) with the ETag of the bytes extracted
        pkg = self.reader
        return hashlib.sha256(
            f"{pkg.bucket.bucket_name}\0{self.package_key}\0{self.etag}".encode()
        ).hexdigest()[:16]

    package_key: str = ""


def plan_package(event: UnzipEvent, clients: OssClients, has_password: bool = False) -> PackagePlan:
    """HEAD (pinned to the ETag when known), read the central directory, plan every entry
    (encrypted ones as extractable when a password is configured, without reading it)."""
    retry = clients.retry
    pkg = event.package
    package_bucket = clients.bucket(pkg.bucket)
    try:
        source = locate(package_bucket, pkg, retry)
    except PackageRejected as exc:
        if exc.reason == "PackageMissing" and not clients.bucket_exists(pkg.bucket):
            raise_if_systemic(
                oss2.exceptions.NoSuchBucket(404, {}, b"", {"Code": "NoSuchBucket"}),
                pkg.bucket,
                role="source",
            )
        raise
    etag, size = source.etag, source.size
    reader = PackageReader(package_bucket, source.read_key, etag, retry, source.read_params())

    limits = Limits(**event.limits.model_dump())
    directory: CentralDirectory = read_central_directory(
        reader.fetch, size, max_entries=limits.max_entries, name=f"oss://{pkg.bucket}/{pkg.key}"
    )
    # output prefix, watch prefix, encoding and limits: filled from UnzipSettings in run()
    encoding = event.name_encoding or None
    prefix = event.output_prefix or ""
    pdir = (
        package_dir_name(
            pkg.key,
            watch_prefix=event.watch_prefix or "",
            strip_suffix=event.strip_suffix,
        )
        if event.package_dir
        else ""
    )
    rules = PlanRules(
        prefix,
        pdir,
        limits,
        name_encoding=encoding,
        unsafe_paths=event.unsafe_paths,
        directories=event.directories,
        has_password=has_password,
    )
    plan = plan_entries(directory.entries, rules)
    return PackagePlan(
        etag,
        size,
        reader,
        source,
        directory,
        limits,
        plan,
        prefix,
        pdir,
        event.output_bucket or pkg.bucket,
        package_key=pkg.key,
    )


def extract(
    event: UnzipEvent,
    clients: OssClients,
    budget: TimeBudget,
    log: JobLog,
    password: PackagePassword | None = None,  # env or KMS, never in the event
) -> UnzipResult:
    # the flow passes 0 until a page has set it (flows/unzip.yaml), a direct call None
    if not event.first_page_at:  # the extraction's first page starts now
        event = event.model_copy(update={"first_page_at": time.time()})
    pinned = (event.package.etag or "").strip('"').upper()
    lease = package_lease(event, clients, pinned, event.output_bucket or event.package.bucket)
    try:
        planned = plan_package(event, clients, password is not None and password.configured)
        value = page_password(planned, event.marker, password)  # before the lease and any write
        lease.etag = planned.etag
        lease.acquire()
        guard = version_guard(event, clients, planned.etag, lease)
        return _extract_page(event, clients, ExtractionInput(planned, guard, value), budget, log)
    except PackageRejected:
        if lease.etag:
            lease.release()  # a newer version (or nothing) follows: let it start now
        raise


def page_password(planned: PackagePlan, marker: int, password: PackagePassword | None):
    """The password's value when an entry from the marker on is encrypted and to be
    extracted, else None: an unencrypted package never reads it (no KMS request)."""
    if password is None or planned.plan.last_encrypted < marker:
        return None
    return password.read()


@dataclass(frozen=True)
class ExtractionInput:
    planned: PackagePlan
    guard: VersionGuard
    password: bytes | None


def _extract_page(event, clients, given: ExtractionInput, budget, log):
    planned, guard = given.planned, given.guard
    first_page_at = event.first_page_at
    sink = _page_sink(event, clients, planned, log)
    sink.before_write = guard
    page = PageExtraction(
        planned.plan,
        planned.reader,
        ReadLayout(planned.directory.cd_offset, planned.size, event.small_entry_bytes),
        sink,
        PageStop(budget, event.marker, event.tuning.max_items),
        given.password,
    )
    try:
        marker = page.run()
        sink.drain()
    finally:
        sink.remote.close()
        sink.pool.close()
    guard.check()  # every write of this page landed while the package was this version
    sink.tally.bytes_read = planned.reader.bytes_read
    result = _page_result(event, clients, planned, sink, marker, first_page_at)
    log.info(
        "unzip_page",
        package=event.package.key,
        marker_in=event.marker,
        marker_out=marker,
        done=result.done,
        **sink.tally.as_dict(),
    )
    return result


def _page_sink(event: UnzipEvent, clients: OssClients, planned: PackagePlan, log) -> PageSink:
    pool = BoundedPool(event.tuning.concurrency, event.tuning.max_buffered_mb * 1024 * 1024)
    processes = _page_processes(event, planned.plan)
    sums: dict[str, int] = {}  # the workers' counter deltas so far (UnzipTally is not thread-safe)
    sums_lock = threading.Lock()
    position = f"{planned.package_id}-{event.marker:08d}"
    report = ReportPart(part_key(event.resolved_report_prefix(), event.job_id, "unzip", position))

    def on_result(deltas: dict, lines: list[bytes]) -> None:
        # added up as they come (a 100,000-entry page has ~3,000 answers): lines into the
        # deflating report, deltas into sums that the sink adds to its tally once drained
        with sums_lock:
            for name, value in deltas.items():
                sums[name] = sums.get(name, 0) + value
        report.add_lines(lines)

    target = output_target(event, clients, planned.etag)
    # workers import handlers.unzipworker only: their setup is a few names, not the event
    payload = worker_payload(target.bucket.bucket_name, target.owner)
    remote = PageWorkers(
        pool,
        make_spec("handlers.unzipworker:worker_uploader", event, clients, payload)
        if processes > 1
        else None,
        processes=processes,
        fanout_after=event.tuning.fanout_after_items,
        on_result=on_result,
        log=log,
    )
    return PageSink(
        target,
        pool,
        planned.limits,
        report,
        remote,
        remote_results=[sums],
    )


def output_target(event: UnzipEvent, clients: OssClients, etag: str) -> OutputTarget:
    """The output bucket, entry sizes, and the owner metadata / on_existing of every write."""
    mode = event.on_existing or "fail"  # UnzipSettings.fill sets the environment's
    pkg = event.package
    return OutputTarget(
        clients.bucket(event.output_bucket or pkg.bucket),
        clients.retry,
        EntrySizes(event.small_entry_bytes, event.part_size, event.read_chunk_bytes),
        OutputOwner.of(pkg.bucket, pkg.key, etag, mode),
    )


def package_lease(event: UnzipEvent, clients: OssClients, etag: str, out_bucket: str):
    pkg = event.package
    return PackageLease(
        clients.bucket(event.resolved_report_bucket(out_bucket)),
        lease_key(event.resolved_report_prefix(), pkg.bucket, pkg.key),
        clients.retry,
        f"oss://{pkg.bucket}/{pkg.key}",
        etag,
        event.job_id,
        event.lease_seconds,
    )


def version_guard(event: UnzipEvent, clients, etag: str, lease, interval=None) -> VersionGuard:
    """Whether the pinned upload is still what this run may extract (packagesource.locate):
    on an unversioned bucket a newer upload replaced it (PackageChanged); on a versioned one
    the pinned version stays readable, and the lease makes the newer run wait for this one."""
    pkg = event.package
    bucket, pinned = clients.bucket(pkg.bucket), pkg.model_copy(update={"etag": etag})
    return VersionGuard(
        lambda: locate(bucket, pinned, clients.retry).etag,
        f"oss://{pkg.bucket}/{pkg.key}",
        etag,
        event.tuning.version_check_seconds if interval is None else interval,
        lease,
    )


def _page_processes(event: UnzipEvent, plan: list[PlannedEntry]) -> int:
    small_left = sum(
        1
        for p in plan[event.marker :]
        if p.extractable and not p.entry.is_dir and p.entry.uncompressed_size <= REMOTE_ENTRY_BYTES
    )
    if small_left < event.tuning.fanout_min_small_entries:
        return 1  # a few hundred requests do not repay ~0.5 s and ~55 MB per worker
    return event.tuning.processes or usable_cpus()


def _page_result(event, clients, planned: PackagePlan, sink: PageSink, marker, first_page_at):
    pkg, tally = event.package, sink.tally
    done = marker >= len(planned.plan)
    report_bucket = clients.bucket(event.resolved_report_bucket(planned.out_bucket_name))
    report_key = sink.report.write(report_bucket, clients.retry)
    return UnzipResult(
        done,
        marker,
        len(planned.plan),
        tally,
        add_counters(event.totals, tally.as_dict()),
        report_key,
        {
            "bucket": pkg.bucket,
            "key": pkg.key,
            "etag": planned.etag,
            "size": planned.size,
            "version_id": planned.source.version_id,
            "target_key": planned.source.target_key,
        },
        planned.prefix,
        package_prefix=planned.package_prefix,
        first_page_at=first_page_at,
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


def delete_package(
    event: UnzipEvent, clients: OssClients, log: JobLog, has_password: bool = False
) -> dict:
    """Delete the package, but only the version that was extracted (its ETag, when known)
    and only when every extractable entry is in the output with its size.

    OSS DeleteObject has no If-Match: on an unversioned bucket the ETag is compared with a
    HEAD first, and a package re-uploaded after the extraction is kept (PackageRejected:
    PackageChanged). On a versioned bucket the extracted version is deleted by its versionId:
    a newer upload stays current and no delete marker is added. A symlinked package deletes
    the link, never its target. An incomplete output keeps the package (ExtractionIncomplete).
    """
    pkg = event.package
    bucket = clients.bucket(pkg.bucket)
    try:
        planned = plan_package(event, clients, has_password)  # the same plan, no password read
    except PackageRejected as exc:
        if exc.reason != "PackageMissing":
            raise
        log.info("package_already_gone", package=pkg.key)
        return {"deleted": True, "package": pkg.model_dump(), "already_gone": True}
    etag, version_id = planned.etag, planned.source.own_version_id
    missing = missing_output(planned, clients)
    if missing:
        raise PackageRejected(
            "ExtractionIncomplete",
            f"oss://{pkg.bucket}/{pkg.key}: {len(missing)} extracted entries are missing or "
            f"differ in size (first: {missing[0]!r}): package kept; extract it again",
        )
    params = {"versionId": version_id} if version_id else None
    try:
        clients.retry.call(bucket.delete_object, pkg.key, params=params)
    except oss2.exceptions.OssError as exc:
        raise_if_systemic(exc, pkg.bucket, role="source")
        raise
    log.info("package_deleted", package=pkg.key, etag=etag, version_id=version_id)
    deleted = {**pkg.model_dump(), "etag": etag, "version_id": version_id}
    return {"deleted": True, "package": deleted, "already_gone": False}


def run(
    event: UnzipEvent,
    context,
    *,
    started_at: float | None = None,
    settings: UnzipSettings | None = None,
) -> dict:
    settings = settings or UnzipSettings.from_environ()
    event = settings.fill(event)
    if event.name_encoding:
        try:
            check_encoding(event.name_encoding)
        except ValueError as exc:
            raise InvalidEvent(f"name_encoding: {exc}") from None
    log = JobLog("unzip", event.job_id, request_id_of(context), level=settings.log_level)
    budget = budget_for(event, context, started_at)
    clients = clients_for(event, context)
    if event.action in ("confirm", "release"):
        return lease_action(event, clients, log)
    # env or KMS (unzip.password): read at run time when an entry needs it, never in the event
    password = PackagePassword(settings, context)
    if event.action == "delete_package":
        return delete_package(event, clients, log, password.configured)
    # the typed page result: the flows and `ossbatch jobs status` read only its fields
    return UnzipPageResult.model_validate(
        extract(event, clients, budget, log, password).as_dict()
    ).model_dump(mode="json")


def lease_action(event: UnzipEvent, clients: OssClients, log: JobLog) -> dict:
    """confirm: the package is still this version and its lease ours (before the flow
    announces success); release: the flow is done with this version."""
    etag = (event.package.etag or "").strip('"').upper()
    if not etag:
        raise InvalidEvent(f"package.etag: {event.action} needs the extracted version's ETag")
    try:
        # the pin may be a symlink's own ETag (its PutSymlink event's): the run extracted,
        # and leased, the target's ETag
        etag = locate(clients.bucket(event.package.bucket), event.package, clients.retry).etag
    except PackageRejected:
        if event.action == "confirm":
            raise
        # release after the package is gone: the pin is all there is (a symlink's lease expires)
    lease = package_lease(event, clients, etag, event.output_bucket or event.package.bucket)
    if event.action == "release":
        released = lease.release()
        log.info("package_lease_released", package=event.package.key, released=released)
        return {"released": released}
    version_guard(event, clients, etag, lease, interval=0).check()
    held = lease.current()
    if held is None or held.get("etag") != etag:
        raise PackageRejected(
            "PackageChanged",
            f"oss://{event.package.bucket}/{event.package.key}: the lease of version {etag} "
            "expired or was taken over while the flow ran: not announced as extracted",
        )
    return {"confirmed": True}


def handler(event: bytes, context):
    started = time.monotonic()
    parsed = parse_event(UnzipEvent, event)
    return json.dumps(run(parsed, context, started_at=started))
