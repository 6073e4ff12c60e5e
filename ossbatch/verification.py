"""`ossbatch jobs verify JOB`: a verify job over a finished copy job's own shards.

The verify job document is the copy job's first execution input (the shards at their
start positions, the request with its destination, filters and tuning) under a new
`verify-...` id: every verify page walks what one copy page walked, so the job shards,
pages and continues exactly like the job it checks (flows/verify.yaml).
"""

from __future__ import annotations

from ossbatch.cloud import ConfigError, Connection
from ossbatch.jobdocs import base_document, page_tuning
from ossbatch.jobs import JobStatus, kind_of

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
    conn: Connection, verify_id: str, copy_input: dict, page_budget_s: float
) -> dict:
    """The verify flow's input from the copy job's first execution input."""
    kind_of(copy_input.get("job_id", ""))
    copy_request = copy_input["request"]
    tuning = copy_request.get("tuning") or {}
    request = {
        **copy_request,
        "job_id": verify_id,
        "tuning": page_tuning(page_budget_s, tuning.get("max_items"), tuning.get("max_qps")),
    }
    shards = [_fresh(item) for item in copy_input["shards"]]
    return base_document(
        conn,
        "verify",
        verify_id,
        shards=shards,
        request=request,
        event_limit=int(copy_input.get("event_limit", 5000)),
        extra={"verifies": copy_input["job_id"]},
    )


def _fresh(item: dict) -> dict:
    """A shard back at its start: the copy's first input already is, this makes it certain."""
    shard = dict(item["shard"])
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
            if name.startswith(MISMATCH_PREFIX)
        },
        "report": st.report,
        "error": st.error,
    }
