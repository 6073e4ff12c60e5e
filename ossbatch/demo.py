"""`make demo`: the three jobs end to end on localcloud, with a summary; non-zero if anything failed.

Steps: `local up` (fresh data dir) -> sample objects + index -> copy to Archive ->
restore -> upload a zip with GBK names -> the trigger extracts it -> print the MNS
notification -> per-job summary -> `local down`.

Options (env vars): OSSBATCH_DEMO_OBJECTS (default 3000), OSSBATCH_DEMO_ENTRIES (3000),
OSSBATCH_DEMO_CHAOS=1 (5% OSS faults + 1% two-second stalls), OSSBATCH_DEMO_KEEP=1 (leave
localcloud running).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

PROJECT_ROOT = Path(__file__).resolve().parents[1]
console = Console()

CHAOS_OPTIONS = ["--fault-rate", "0.05", "--stall-rate", "0.01", "--stall-ms", "2000"]


def missing_parts() -> list[str]:
    """What the demo needs that this checkout does not have yet."""
    missing = []
    for role in ("copy", "restore", "unzip", "trigger"):
        if not (PROJECT_ROOT / "handlers" / f"{role}.py").exists():
            missing.append(f"handlers/{role}.py (FC handler of the {role} function)")
    for stem in ("copy", "restore", "unzip"):
        if not (PROJECT_ROOT / "flows" / f"{stem}.yaml").exists():
            missing.append(f"flows/{stem}.yaml")
    if not (PROJECT_ROOT / "ossbatch" / "config.py").exists():
        missing.append("ossbatch/config.py (load_environment)")
    server = PROJECT_ROOT / "localcloud" / "server.py"
    text = server.read_text() if server.exists() else ""
    for service, target in (
        ("MNS", "localcloud.mns:build"),
        ("FC", "localcloud.fc:build"),
        ("CloudFlow", "localcloud.flow:build"),
    ):
        active = any(
            target in line and not line.lstrip().startswith("#") for line in text.splitlines()
        )
        if not active:
            missing.append(f"localcloud serve does not run the {service} service yet ({target})")
    return missing


@dataclass
class JobLine:
    job: str
    items: int
    failed: int
    seconds: float
    report: str
    ok: bool
    detail: str = ""

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0


def _step(text: str) -> None:
    console.print(f"[bold cyan]==>[/] {text}")


def run(objects: int, entries: int, chaos: bool, keep: bool) -> list[JobLine]:
    """Run the three jobs; one JobLine per job (an unfinished job is missing)."""
    from ossbatch import cloud, jobdocs, jobdocs_restore, sampledata
    from ossbatch.config import load_environment
    from ossbatch.jobs import Jobs, new_job_id
    from ossbatch.local import bring_down, bring_up

    env = load_environment("local")
    data_dir = Path(tempfile.mkdtemp(prefix="ossbatch-demo-"))
    lines: list[JobLine] = []
    started_all = time.monotonic()
    _step(f"local up (data dir {data_dir}{', chaos: 5% faults + 1% 2 s stalls' if chaos else ''})")
    try:
        state = bring_up(env, data_dir, CHAOS_OPTIONS if chaos else [])
    except BaseException:
        bring_down(data_dir)  # provisioning failed half-way: stop what was started
        raise
    conn = cloud.from_local_state(state)
    try:
        jobs = Jobs(conn)
        b = conn.buckets
        sources, archive = conn.oss_bucket(b["sources"]), conn.oss_bucket(b["archive"])

        _step(f"sample data: {objects} objects + an index in oss://{b['sources']}/demo/")
        keys = sampledata.object_keys("demo/", objects)
        total_bytes = sampledata.upload_objects(sources, keys)  # retries each PUT
        _retrying(
            lambda: sources.put_object("demo-index.csv", sampledata.csv_index(b["sources"], keys))
        )
        console.print(f"    {objects} objects, {total_bytes:,} bytes")

        _step("copy -> Archive")
        doc = jobdocs.copy_document(
            conn,
            new_job_id("copy"),
            index=f"oss://{b['sources']}/demo-index.csv",
            source=None,
            dest=f"oss://{b['archive']}/copied/",
            storage_class="Archive",
            concurrency=env.copy_job.concurrency,
            page_budget_s=env.copy_job.page_budget_s,
        )
        lines.append(_run_job(jobs, "copy", doc, objects))
        bad = _verify_copy(sources, archive, keys, "copied/")
        if bad:
            lines[-1].ok, lines[-1].detail = False, f"{bad} objects missing/wrong in the archive"

        _step("restore the archived copies")
        doc = jobdocs_restore.restore_document(
            conn,
            new_job_id("restore"),
            index=None,
            source=f"oss://{b['archive']}/copied/",
            days=1,
            tier=env.restore.tier,
            concurrency=env.restore.concurrency,
            page_budget_s=env.restore.page_budget_s,
            poll_seconds=None,
            default_poll_seconds=env.restore.poll_interval_s,
            deadline_hours=0.25,
            local_restore_seconds=env.localcloud.restore_seconds,
        )
        lines.append(_run_job(jobs, "restore", doc, objects))
        unreadable = _verify_readable(archive, keys, "copied/")
        if unreadable:
            lines[-1].ok, lines[-1].detail = False, f"{unreadable} objects still not readable"

        _step(f"upload a zip with {entries} entries (GBK names, nested folders) -> trigger")
        lines.append(_run_unzip(conn, env, entries))
    finally:
        if keep:
            console.print(f"localcloud left running: `ossbatch --data-dir {data_dir} local status`")
        else:
            _step("local down")
            bring_down(data_dir)
            shutil.rmtree(data_dir, ignore_errors=True)

    table = Table(title=f"ossbatch demo summary ({time.monotonic() - started_all:.0f} s)")
    for column in ("job", "items", "failed", "seconds", "items/s", "result"):
        table.add_column(column)
    for line in lines:
        table.add_row(
            line.job,
            f"{line.items:,}",
            str(line.failed),
            f"{line.seconds:.1f}",
            f"{line.rate:,.0f}",
            "[green]ok[/]" if line.ok else "[red]FAILED[/]",
        )
    console.print(table)
    for line in lines:
        if line.report:
            console.print(f"{line.job} report: {line.report}", soft_wrap=True)
        if not line.ok:
            console.print(f"[red]{line.job} failed:[/] {line.detail}", soft_wrap=True)
    return lines


def _retrying(fn):
    """Demo data and checks under chaos: the SDK does not retry by itself."""
    from ossbatch.retrying import call

    return call(fn)


def _run_job(jobs, kind: str, doc: dict, expected: int) -> JobLine:
    started = time.monotonic()
    job_id = jobs.start(kind, doc)
    st = jobs.wait(job_id, interval=0.5, timeout=900)
    p = st.progress
    items = p.done + p.skipped
    ok = st.state == "succeeded" and p.failed == 0 and items >= expected
    detail = "" if ok else f"{st.state} {st.error} ({items}/{expected} items)"
    console.print(
        f"    {job_id}: {st.state}, {items} items, {p.failed} failed, "
        f"{len(st.executions)} execution(s)"
    )
    return JobLine(kind, items, p.failed, time.monotonic() - started, st.report, ok, detail)


def _verify_copy(source, dest, keys: list[str], prefix: str) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from ossbatch import sampledata

    def bad(pair) -> int:
        i, key = pair
        head = _retrying(lambda: dest.head_object(prefix + key))
        if head.headers.get("x-oss-storage-class") != "Archive":
            return 1
        return int(head.content_length != sampledata.size_of(i))

    with ThreadPoolExecutor(16) as pool:
        return sum(pool.map(bad, enumerate(keys)))


def _verify_readable(bucket, keys: list[str], prefix: str) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from ossbatch import sampledata

    def unreadable(pair) -> int:
        i, key = pair
        try:
            data = _retrying(lambda: bucket.get_object(prefix + key).read())
        except Exception:  # 403 InvalidObjectState: not restored
            return 1
        return int(data != sampledata.object_bytes(key, sampledata.size_of(i)))

    with ThreadPoolExecutor(16) as pool:
        return sum(pool.map(unreadable, enumerate(keys)))


def _run_unzip(conn, env, entries: int) -> JobLine:
    from ossbatch import sampledata

    packages = conn.oss_bucket(conn.buckets["packages"])
    queue = conn.mns().get_queue(env.unzip.notification_queue)
    payload, expected = sampledata.build_zip(entries)
    key = f"{env.unzip.watch_prefix}demo-{int(time.time())}.zip"
    started = time.monotonic()
    _retrying(lambda: packages.put_object(key, payload))
    message, failure = _receive(
        conn, queue, f"oss://{packages.bucket_name}/{key}", key, timeout=600
    )
    seconds = time.monotonic() - started
    if message is None:
        return JobLine("unzip", 0, 0, seconds, "", False, failure or "no MNS notification in 600 s")
    console.print("    MNS notification received:")
    console.print_json(json.dumps(message, ensure_ascii=False))
    from handlers.zipsafety import output_key, package_dir_name

    # the deployment points the unzip function at the environment's extraction bucket
    extraction = conn.oss_bucket(conn.buckets["extraction"])
    package_dir = package_dir_name(key, watch_prefix=env.unzip.watch_prefix)
    prefix = message.get("output_prefix") or env.unzip.output_prefix
    wrong = 0
    for name, data in expected.items():
        target = output_key(prefix, package_dir, name)
        try:
            got = _retrying(lambda target=target: extraction.get_object(target).read())
        except Exception:
            got = None
        wrong += int(got != data)
    ok = message.get("status") == "succeeded" and wrong == 0
    detail = "" if ok else f"status {message.get('status')}, {wrong} entries missing/wrong"
    failed = int(message.get("failed_entries") or 0)
    report_key = message.get("report_key")
    report = f"oss://{conn.buckets['reports']}/{report_key}" if report_key else ""
    return JobLine("unzip", entries - wrong, failed, seconds, report, ok, detail)


def _receive(conn, queue, url: str, key: str, timeout: float):
    """(MNS message for key, None) or (None, why the run failed without one)."""
    from mns.mns_exception import MNSExceptionBase

    from ossbatch import notifications
    from ossbatch.unzipruns import runs

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg, body = notifications.receive(queue, wait_seconds=3)
        except MNSExceptionBase:  # MessageNotExist (empty queue) or a network hiccup
            rows = runs(conn, url)
            if rows and rows[0]["status"] == "Failed":
                return None, f"unzip run {rows[0]['execution']} failed: {rows[0]['error']}"
            continue
        queue.delete_message(msg.receipt_handle)
        if body.get("key") == key:
            return body, None
    return None, None


def main() -> int:
    missing = missing_parts()
    if missing:
        console.print("[red]make demo cannot run yet; missing:[/]")
        for item in missing:
            console.print(f"  - {item}")
        return 1
    objects = int(os.environ.get("OSSBATCH_DEMO_OBJECTS", "3000"))
    entries = int(os.environ.get("OSSBATCH_DEMO_ENTRIES", "3000"))
    chaos = os.environ.get("OSSBATCH_DEMO_CHAOS") == "1" or "--chaos" in sys.argv
    keep = os.environ.get("OSSBATCH_DEMO_KEEP") == "1"
    lines = run(objects, entries, chaos, keep)
    return 0 if len(lines) == 3 and all(line.ok for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
