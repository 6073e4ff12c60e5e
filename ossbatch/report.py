"""Merge a job's per-item report parts (JSON Lines, one part per invocation) into one report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from ossbatch.cloud import Connection
from ossbatch.retrying import call

FAILED_STATUSES = {"failed", "error"}


def record_status(record: dict) -> str:
    """Copy/restore parts list failures only (with a `code`); unzip records carry a status."""
    status = record.get("status")
    if status:
        return str(status).lower()
    return "failed" if record.get("code") else "ok"


@dataclass
class ReportSummary:
    parts: int = 0
    records: int = 0
    by_status: dict = field(default_factory=dict)


def part_keys(conn: Connection, bucket: str, prefix: str) -> Iterator[str]:
    import oss2

    for obj in oss2.ObjectIterator(conn.oss_bucket(bucket), prefix=prefix):
        if obj.key.endswith(".jsonl"):
            yield obj.key


def job_prefix(report_prefix: str, job_id: str) -> str:
    head = report_prefix.strip("/")
    return f"{head}/{job_id}/" if head else f"{job_id}/"


def records(
    conn: Connection,
    bucket: str,
    report_prefix: str,
    job_id: str,
    failed_only: bool = False,
    summary: ReportSummary | None = None,
) -> Iterator[dict]:
    """Every record of every part, in key order; a retried page rewrote its own part, so no duplicates."""
    oss_bucket = conn.oss_bucket(bucket)
    for key in part_keys(conn, bucket, job_prefix(report_prefix, job_id)):
        if summary is not None:
            summary.parts += 1
        body = call(lambda key=key: oss_bucket.get_object(key).read()).decode("utf-8")
        for line in body.splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            status = record_status(record)
            if summary is not None:
                summary.records += 1
                summary.by_status[status] = summary.by_status.get(status, 0) + 1
            if failed_only and status not in FAILED_STATUSES:
                continue
            yield record
