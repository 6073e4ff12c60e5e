"""`jobs verify --inline`: a small verify job run in the CLI process.

The pages are the verify function's own (handlers.verify.verify_page) over the same
VerifyJob document the flow would get, shard by shard and page by page as the flow's
loop would run them, with the CLI's credentials: the same comparisons, report parts
(JSON Lines, one per page, keyed by the page's start) and summary. Jobs whose copy counted
at most INLINE_MAX_OBJECTS items run inline unless `--no-inline`
(docs/decisions/verify-inline.md).
"""

from __future__ import annotations

from ossbatch.cloud import Connection
from ossbatch.jobdocs import parse_job
from ossbatch.jobs import Execution, JobStatus, job_report_url, shard_progress

INLINE_MAX_OBJECTS = 1_000  # ~2,000 HEADs: seconds from the CLI, less than starting a flow
INLINE_FLOW = "(inline)"
MARKER = "inline-run.json"  # beside the report parts (.jsonl), which `jobs report` merges


def runs_inline(asked: bool | None, copied: JobStatus) -> bool:
    """--inline/--no-inline decide; unset: inline when the copy counted few enough items."""
    if asked is not None:
        return asked
    total = copied.progress.total
    return total is not None and not total.estimate and total.objects <= INLINE_MAX_OBJECTS


def run_inline(conn: Connection, doc: dict, log_level: str = "WARNING") -> JobStatus:
    """Every page of every shard of the verify document, here; a JobStatus as the flow's."""
    from handlers.budget import TimeBudget
    from handlers.clients import Credentials, OssClients
    from handlers.errors import SystemicError
    from handlers.logs import JobLog
    from handlers.retrying import RetryPolicy
    from handlers.verify import VerifyEvent, verify_page

    job = parse_job(doc, "verify")
    request = job.request.model_dump(mode="json", exclude_none=True)
    creds = Credentials(conn.access_key_id, conn.access_key_secret, conn.security_token or None)
    log = JobLog("verify", job.job_id, "inline", level=log_level)
    shards = [item.model_dump(mode="json") for item in job.shards]
    state, error = "succeeded", ""
    try:
        for item in shards:
            while not item["shard"]["done"]:
                # the flow's page input: jsonMerge(request, {shard, pages_left})
                event = VerifyEvent.model_validate({**request, **item, "pages_left": 1})
                event = event.model_copy(update={"oss_endpoint": conn.oss_endpoint})
                clients = OssClients(
                    conn.oss_endpoint,
                    creds,
                    pool_size=event.tuning.concurrency,
                    retry=RetryPolicy(attempts=event.tuning.retry_attempts),
                )
                budget = TimeBudget.seconds(event.tuning.time_budget_seconds or 60.0)
                item = _replace(shards, item, verify_page(event, clients, budget, log)["shard"])
    except SystemicError as exc:  # the flow's page would fail the same way: the job failed
        state, error = "failed", f"{type(exc).__name__}: {exc}"
    _record(conn, job, state, shards)
    return JobStatus(
        job_id=job.job_id,
        kind="verify",
        flow=INLINE_FLOW,
        state=state,
        executions=[
            Execution(job.job_id, "Succeeded" if not error else "Failed", doc, {"shards": shards})
        ],
        progress=shard_progress(shards, "verify"),
        error=error,
        report=job_report_url(doc),
        started_epoch=job.started_at,
    )


def _marker(report_bucket: str, report_prefix: str, job_id: str) -> tuple[str, str]:
    from ossbatch.report import job_prefix

    return report_bucket, f"{job_prefix(report_prefix, job_id)}{MARKER}"


def _record(conn: Connection, job, state: str, shards: list[dict]) -> None:
    """The run's final shards next to its report parts: `jobs report` finds the job by it."""
    import json

    from ossbatch.retrying import call

    # no reports bucket: the parts go to the destination bucket (resolved_report_bucket)
    bucket = job.request.report_bucket or job.request.dest.bucket
    bucket, key = _marker(bucket, job.request.report_prefix, job.job_id)
    body = {"job_id": job.job_id, "verifies": job.verifies, "state": state, "shards": shards}
    call(conn.oss_bucket(bucket).put_object, key, json.dumps(body).encode())


def ran_inline(conn: Connection, job_id: str) -> bool:
    """Whether `job_id` is a verify job that ran inline (it has no flow execution)."""
    import oss2

    from ossbatch.retrying import call

    bucket = conn.buckets.get("reports")
    if not job_id.startswith("verify-") or not bucket:
        return False
    _, key = _marker(bucket, conn.settings.get("report_prefix", "reports/"), job_id)
    try:
        call(conn.oss_bucket(bucket).head_object, key)
    except oss2.exceptions.NotFound:
        return False
    return True


def _replace(shards: list[dict], item: dict, shard: dict) -> dict:
    """The shard advanced by one page, in place of its previous state."""
    advanced = {"shard": shard}
    shards[shards.index(item)] = advanced
    return advanced
