"""`ossbatch jobs verify JOB`: a verify job over a finished copy job's own shards.

The verify job document is the copy job's first execution input (the shards at their
start positions, the request with its destination, filters and tuning) under a new
`verify-...` id: every verify page walks what one copy page walked, so the job shards,
pages and continues exactly like the job it checks (flows/verify.yaml).
"""

from __future__ import annotations

from ossbatch.cloud import ConfigError, Connection
from ossbatch.jobdocs import parse_job
from ossbatch.jobs import JobStatus

VERIFIABLE = ("copy",)  # kinds whose items have one source and one destination object
MISMATCH_PREFIX = "mismatch_"


def verifiable(st: JobStatus) -> None:
    """Refuse, before anything starts, a job verify cannot compare (exit 2)."""
    if st.kind not in VERIFIABLE:
        raise ConfigError(
            f"{st.job_id} is a {st.kind} job: verify compares a copy job's destination with "
            "its source; give a copy-... job id (see `ossbatch jobs list`)"
        )
    if not st.finished:
        raise ConfigError(
            f"copy job {st.job_id} is {st.state}: verify it once it has finished "
            f"(`ossbatch jobs status {st.job_id} --watch`)"
        )


def verify_document(
    conn: Connection,
    verify_id: str,
    copy_input: dict,
    page_budget_s: float,
    covered: int | None = None,
) -> dict:
    """The verify flow's input (a VerifyJob) from the copy job's first execution input;
    ``covered``: the items the finished copy counted, the verify job's known total."""
    import time

    from ossbatch.eventbudget import pages_per_execution
    from ossbatch.jobdocs import (
        JobSettings,
        SourceEstimate,
        VerifyJob,
        checked,
        dump,
        resources,
        tuning,
    )

    copy = parse_job(copy_input, "copy")
    shards = [_fresh(item.shard.model_dump()) for item in copy.shards]
    limit = copy.settings.event_limit
    old = copy.request.tuning
    with checked("cannot start the verify job"):
        job = VerifyJob(
            job_id=verify_id,
            verifies=copy.job_id,
            started_at=time.time(),
            source_estimate=None
            if covered is None
            else SourceEstimate(
                objects=covered, at_least=covered, exact=True, method="counted", requests=0
            ),
            resources=resources(conn, "verify", ""),
            settings=JobSettings(
                pages_per_execution=pages_per_execution("verify", len(shards), limit),
                event_limit=limit,
            ),
            request=copy.request.model_copy(
                update={
                    "job_id": verify_id,
                    "tuning": tuning(page_budget_s, old.max_items, old.max_qps),
                }
            ),
            shards=shards,
        )
    return dump(job)


def _fresh(shard: dict) -> dict:
    """A shard back at its start: the copy's first input already is, this makes it certain."""
    if shard.get("index") is not None and shard.get("start") is not None:
        shard["index"] = {**shard["index"], "offset": shard["start"]}
    return {"shard": {**shard, "done": False, "pages": 0, "totals": {}}}


def summary(st: JobStatus, copy_id: str) -> dict:
    """What the verify job found: matched, mismatched by difference, skipped, where the report is."""
    totals: dict[str, int] = {}
    for execution in st.executions[-1:]:
        for item in (execution.output or {}).get("shards") or []:
            for name, value in (item["shard"].get("totals") or {}).items():
                totals[name] = totals.get(name, 0) + int(value)
    return {
        "job_id": copy_id,
        "verify_job_id": st.job_id,
        "state": st.state,
        "checked": st.progress.done + st.progress.failed,
        "matched": st.progress.done,
        "mismatched": st.progress.failed,
        "skipped": st.progress.skipped,
        "by_difference": {
            name.removeprefix(MISMATCH_PREFIX): value
            for name, value in sorted(totals.items())
            if name.startswith(MISMATCH_PREFIX) and value
        },
        "report": st.report,
        "error": st.error,
    }
