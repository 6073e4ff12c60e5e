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
    from alibabacloud_fnf20190315 import models as fnf

    client = conn.fnf()
    flow = conn.flow_name("unzip")
    if package:
        from handlers.trigger import execution_name

        url = OssUrl.parse(package, "package")
        import oss2

        try:
            head = conn.oss_bucket(url.bucket).head_object(url.key)
            etag = (head.etag or "").strip('"').upper()
        except oss2.exceptions.NotFound:
            raise ConfigError(
                f"{package} does not exist (deleted after a clean extraction?)"
            ) from None
        name = execution_name(url.bucket, url.key, etag)
        try:
            body = client.describe_execution(
                fnf.DescribeExecutionRequest(flow_name=flow, execution_name=name)
            ).body
        except Exception as exc:
            if "ExecutionNotExists" in str(exc):
                return []
            raise
        row = _row(body.name, body.status, body.started_time, body.input, body.output)
        if body.status == "Failed":
            row["error"] = failure_of(client, flow, body.name)
        return [row]
    rows: list[dict] = []
    token = None
    while len(rows) < limit:
        body = client.list_executions(
            fnf.ListExecutionsRequest(flow_name=flow, limit=min(100, limit), next_token=token)
        ).body
        for e in body.executions or []:
            rows.append(_row(e.name, e.status, e.started_time, e.input, e.output))
        token = body.next_token
        if not token:
            break
    rows.sort(key=lambda r: r["started"] or "", reverse=True)
    return rows[:limit]


def failure_of(client, flow: str, execution: str) -> str:
    """`Code: cause` of a failed execution, from its last history event."""
    from alibabacloud_fnf20190315 import models as fnf

    token, last = None, None
    while True:
        body = client.get_execution_history(
            fnf.GetExecutionHistoryRequest(
                flow_name=flow, execution_name=execution, limit=500, next_token=token
            )
        ).body
        if body.events:
            last = body.events[-1]
        token = body.next_token
        if not token:
            break
    if last is None or not last.event_detail:
        return ""
    try:
        detail = json.loads(last.event_detail)
    except json.JSONDecodeError:
        return last.event_detail
    return f"{detail.get('error', '')}: {detail.get('cause', '')}".strip(": ")
