"""Extraction runs of the unzip flow (one execution chain per package version)."""

from __future__ import annotations

import json

from ossbatch.cloud import ConfigError, Connection
from ossbatch.jobdocs import OssUrl


def _row(
    name: str, status: str, started: str, flow_input: str | None, flow_output: str | None
) -> dict:
    doc_in = json.loads(flow_input) if flow_input else {}
    doc_out = json.loads(flow_output) if flow_output else {}
    totals = doc_out.get("totals") or {}
    package = doc_in.get("package") or {}
    failed = totals.get("failed")
    if status == "Succeeded" and failed:
        status = "partial"  # finished, but some entries failed: see failed_entries and the report
    return {
        "execution": name,
        "status": status,
        "bucket": package.get("bucket"),
        "key": package.get("key"),
        "entries": totals.get("entries"),
        "extracted": totals.get("extracted"),
        "failed_entries": totals.get("failed"),
        "bytes": totals.get("bytes_out"),
        "report_key": doc_out.get("report_key"),
        "deleted": doc_out.get("deleted"),
        "error": doc_out.get("error"),
        "started": started,
    }


def runs(conn: Connection, package: str | None = None, limit: int = 20) -> list[dict]:
    """Runs newest first (every page is read, then sorted, then cut to `limit`).

    With a package: its current version's run, or, once the package is gone (deleted after
    a clean extraction), every run that extracted that key.
    """
    from alibabacloud_fnf20190315 import models as fnf

    client = conn.fnf()
    flow = conn.flow_name("unzip")
    url = OssUrl.parse(package, "package") if package else None
    if url is not None:
        row = _current_run(conn, client, flow, url)
        if row is not None:
            return [row]
    rows: list[dict] = []
    token = None
    while True:
        body = client.list_executions(
            fnf.ListExecutionsRequest(flow_name=flow, limit=100, next_token=token)
        ).body
        for e in body.executions or []:
            row = _row(e.name, e.status, e.started_time, e.input, e.output)
            if url is None or (row["bucket"], row["key"]) == (url.bucket, url.key):
                rows.append(row)
        token = body.next_token
        if not token:
            break
    rows.sort(key=lambda r: r["started"] or "", reverse=True)
    rows = rows[:limit]
    for row in rows:
        if row["status"] == "Failed" and not row["error"]:
            row["error"] = failure_of(client, flow, row["execution"])
    if url is not None and not rows:
        raise ConfigError(f"no extraction run of {package} (not uploaded under the watch prefix?)")
    return rows


def _current_run(conn: Connection, client, flow: str, url: OssUrl) -> dict | None:
    """The run of the package's current version; None if the package no longer exists."""
    import oss2
    from alibabacloud_fnf20190315 import models as fnf

    from handlers.trigger import execution_name

    try:
        head = conn.oss_bucket(url.bucket).head_object(url.key)
    except oss2.exceptions.NotFound:
        return None
    name = execution_name(url.bucket, url.key, (head.etag or "").strip('"').upper())
    try:
        body = client.describe_execution(
            fnf.DescribeExecutionRequest(flow_name=flow, execution_name=name)
        ).body
    except Exception as exc:
        if getattr(exc, "code", "") in ("ExecutionNotExists", "FlowNotExists"):
            return None
        raise
    row = _row(body.name, body.status, body.started_time, body.input, body.output)
    if body.status == "Failed":
        row["error"] = failure_of(client, flow, body.name)
    return row


def failure_of(client, flow: str, execution: str) -> str:
    """`Code: cause` of a failed execution: the last task that failed (the flow catches it,
    notifies and then fails with its own UnzipFailed), else the execution's last event."""
    from alibabacloud_fnf20190315 import models as fnf

    token, last, task_failed = None, None, None
    while True:
        body = client.get_execution_history(
            fnf.GetExecutionHistoryRequest(
                flow_name=flow, execution_name=execution, limit=500, next_token=token
            )
        ).body
        for event in body.events or []:
            last = event
            if event.type == "TaskFailed":
                task_failed = event
        token = body.next_token
        if not token:
            break
    event = task_failed or last
    if event is None or not event.event_detail:
        return ""
    try:
        detail = json.loads(event.event_detail)
    except json.JSONDecodeError:
        return event.event_detail
    return f"{detail.get('error', '')}: {detail.get('cause', '')}".strip(": ")
