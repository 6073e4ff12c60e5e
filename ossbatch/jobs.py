"""Job control over CloudFlow: start, follow the chain of executions, resume, stop, report.

A job is a chain of executions of one flow: the first is named after the job id,
each continuation (or resume) is `{job_id}--{seq}` with seq = 1, 2, ... The job
document (execution input) carries everything needed to continue: shard positions,
cumulative totals and the per-execution page budget (docs/decisions/flow-continuation.md).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field

from handlers.shards import CopyShard, RestoreShard, UnzipCounters, VerifyShard
from ossbatch.cloud import ConfigError, Connection
from ossbatch.config import JOB_KINDS
from ossbatch.jobdocs import parse_job

KINDS = tuple(JOB_KINDS)
RUNNING = "Running"
FINISHED_OK = "Succeeded"


class JobNotFound(ConfigError):
    """No execution carries this job id."""


def new_job_id(kind: str) -> str:
    """`copy-20261126-111500-3fa2`: sortable, a valid execution name, unique enough."""
    return f"{kind}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{secrets.token_hex(2)}"


def kind_of(job_id: str) -> str:
    kind = job_id.split("-", 1)[0]
    if kind not in JOB_KINDS:
        expected = ", ".join(f"{name}-..." for name in JOB_KINDS)
        raise ConfigError(f"{job_id!r} is not an ossbatch job id (expected {expected})")
    return kind


def execution_name(job_id: str, seq: int) -> str:
    return job_id if seq == 0 else f"{job_id}--{seq}"


@dataclass
class Execution:
    name: str
    status: str
    input: dict
    output: dict | None
    started: str = ""
    stopped: str = ""

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    @property
    def continued(self) -> bool:
        return self.status == FINISHED_OK and bool((self.output or {}).get("continued_as"))


@dataclass
class Progress:
    done: int = 0
    skipped: int = 0
    failed: int = 0
    bytes: int = 0
    fraction: float | None = None  # of the work, when the total is known (index bytes)
    pending: int = 0  # restore: objects still restoring
    total: Total | None = None  # objects the job covers, when the split or the end tells

    @property
    def items(self) -> int:
        return self.done + self.skipped + self.failed

    @property
    def share(self) -> float | None:
        """Of the work done: index bytes when known, else items over the (estimated) total."""
        if self.fraction is not None:
            return self.fraction
        if self.total is not None and self.total.objects:
            return min(1.0, self.items / self.total.objects)
        return None


@dataclass(frozen=True)
class Total:
    """The object total `jobs status` divides by, and how sure it is."""

    objects: int
    estimate: bool  # False: counted (by the split's full listing or by the finished job)
    basis: str

    @classmethod
    def of(cls, source_estimate: dict | None, items: int, finished_ok: bool) -> Total | None:
        if finished_ok:  # every shard finished: what the job counted is the total
            return cls(items, False, "counted by the finished job")
        if not source_estimate:
            return None
        objects, floor = source_estimate["objects"], source_estimate.get("at_least", 0)
        made_by = source_estimate.get("made_by", "listing split")
        if source_estimate.get("exact"):
            return cls(max(objects, items), False, "counted before the job started")
        if items > objects:  # the sample guessed low: the items seen so far are a better floor
            return cls(items, True, f"estimate exceeded: at least {items:,}")
        method = source_estimate.get("method", "sampled")
        return cls(objects, True, f"estimate ({method} by the {made_by}; at least {floor:,})")


NO_TOTAL = "no object total known (index sources are measured in index bytes)"


@dataclass
class JobStatus:
    job_id: str
    kind: str
    flow: str
    state: str  # running | succeeded | failed | stopped | continuing
    executions: list[Execution] = field(default_factory=list)
    progress: Progress = field(default_factory=Progress)
    error: str = ""
    report: str = ""
    started_epoch: float | None = None
    tolerated_failures: int = 0

    @property
    def finished(self) -> bool:
        return self.state in ("succeeded", "failed", "stopped")

    @property
    def over_tolerance(self) -> bool:
        return self.progress.failed > self.tolerated_failures

    def elapsed(self) -> float | None:
        if not self.started_epoch:
            return None
        end = time.time()
        if self.finished and self.executions and self.executions[-1].stopped:
            end = _epoch(self.executions[-1].stopped) or end
        return max(0.0, end - self.started_epoch)

    def eta_s(self) -> float | None:
        """Seconds left at the rate observed since the job started; None before a rate exists."""
        share, elapsed = self.progress.share, self.elapsed()
        if self.finished:
            return 0.0 if self.state == "succeeded" else None
        if not share or not elapsed or share >= 1.0:
            return None
        return round(elapsed * (1 - share) / share, 1)

    def totals(self) -> dict:
        """done/total, percent and ETA, with the total marked estimate or counted."""
        p, total = self.progress, self.progress.total
        share = p.share
        return {
            "total": total.objects if total else None,
            "total_is_estimate": total.estimate if total else None,
            "total_basis": total.basis if total else NO_TOTAL,
            "percent": round(100 * share, 1) if share is not None else None,
            "eta_s": self.eta_s(),
        }

    def as_dict(self) -> dict:
        p = self.progress
        elapsed = self.elapsed()
        return {
            "job_id": self.job_id,
            "kind": self.kind,
            "flow": self.flow,
            "state": self.state,
            "executions": [
                {"name": e.name, "status": e.status, "started": e.started, "stopped": e.stopped}
                for e in self.executions
            ],
            "done": p.done,
            "skipped": p.skipped,
            "failed": p.failed,
            "bytes": p.bytes,
            "pending": p.pending,
            "fraction": p.fraction,
            **self.totals(),
            "elapsed_s": round(elapsed, 1) if elapsed else None,
            "error": self.error,
            "report": self.report,
            "tolerated_failures": self.tolerated_failures,
        }


SHARD_MODELS = {"copy": CopyShard, "restore": RestoreShard, "verify": VerifyShard}


def shard_progress(shards: list[dict], kind: str = "copy") -> Progress:
    """Sum cumulative shard totals; fraction from index byte positions when every shard has them."""
    p = Progress()
    span = covered = 0
    measurable = bool(shards)
    typed = [SHARD_MODELS[kind].model_validate(item.get("shard", item)) for item in shards]
    for shard in typed:
        p.done += shard.totals.done
        p.skipped += shard.totals.skipped
        p.failed += shard.totals.failed
        p.bytes += getattr(shard.totals, "bytes", 0)
        p.pending += getattr(shard, "pending", 0)  # restore: still restoring at the last poll
        index, start = shard.index, shard.start
        if index is not None and start is not None and index.end is not None and index.end > start:
            span += index.end - start
            pos = index.end if shard.done else min(max(index.offset, start), index.end)
            covered += pos - start
        elif not shard.done:
            measurable = False
    if measurable and span:
        p.fraction = covered / span
    elif typed and all(shard.done for shard in typed):
        p.fraction = 1.0
    return p


class Jobs:
    """Start and follow jobs through the fnf API (alibabacloud-fnf20190315)."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.client = conn.fnf()

    # --- fnf calls -----------------------------------------------------------------
    def _describe(self, flow: str, name: str) -> Execution | None:
        from alibabacloud_fnf20190315 import models as fnf

        try:
            body = self.client.describe_execution(
                fnf.DescribeExecutionRequest(flow_name=flow, execution_name=name)
            ).body
        except Exception as exc:  # the SDK raises one exception type; its code says which
            if getattr(exc, "code", "") in ("ExecutionNotExists", "FlowNotExists"):
                return None
            raise
        return Execution(
            name=body.name,
            status=body.status,
            input=_json(body.input),
            output=_json(body.output) if body.output else None,
            started=body.started_time or "",
            stopped=body.stopped_time or "",
        )

    def start_execution(self, flow: str, name: str, doc: dict) -> None:
        from alibabacloud_fnf20190315 import models as fnf

        self.client.start_execution(
            fnf.StartExecutionRequest(
                flow_name=flow, execution_name=name, input=json.dumps(doc, ensure_ascii=False)
            )
        )

    def history(self, flow: str, name: str) -> list[dict]:
        """Every event of one execution (paged)."""
        from alibabacloud_fnf20190315 import models as fnf

        events: list[dict] = []
        token = None
        while True:
            body = self.client.get_execution_history(
                fnf.GetExecutionHistoryRequest(
                    flow_name=flow, execution_name=name, limit=500, next_token=token
                )
            ).body
            for ev in body.events or []:
                events.append(
                    {
                        "id": ev.event_id,
                        "type": ev.type,
                        "step": ev.step_name,
                        "detail": _json(ev.event_detail) if ev.event_detail else {},
                        "time": ev.time,
                    }
                )
            token = body.next_token
            if not token:
                return events

    # --- jobs ------------------------------------------------------------------------
    def flow_for(self, job_id: str) -> str:
        return self.conn.flow_name(kind_of(job_id))

    def start(self, kind: str, doc: dict) -> str:
        flow = self.conn.flow_name(kind)
        self.start_execution(flow, execution_name(doc["job_id"], 0), doc)
        return doc["job_id"]

    def chain(self, job_id: str, known: list[Execution] | None = None) -> list[Execution]:
        """Every execution of the job in order; finished ones in `known` are not re-read."""
        flow = self.flow_for(job_id)
        chain = [e for e in (known or []) if not e.running]
        seq = len(chain)
        while True:
            execution = self._describe(flow, execution_name(job_id, seq))
            if execution is None:
                break
            chain.append(execution)
            seq += 1
        if not chain:
            raise JobNotFound(f"no job {job_id!r} in flow {flow!r}; see `ossbatch jobs list`")
        return chain

    def status(self, job_id: str, known: list[Execution] | None = None) -> JobStatus:
        chain = self.chain(job_id, known)
        last = chain[-1]
        kind = kind_of(job_id)
        doc = chain[0].input
        st = JobStatus(
            job_id=job_id,
            kind=kind,
            flow=self.flow_for(job_id),
            state="running",
            executions=chain,
            report=job_report_url(doc),
            started_epoch=doc.get("started_at"),
            tolerated_failures=int((doc.get("settings") or {}).get("tolerated_failures", 0)),
        )
        out = last.output or {}
        if last.running:
            st.state = "running"
            st.progress = progress_of(kind, self._live_shards(st.flow, last))
        elif last.status == FINISHED_OK and out.get("continued_as"):
            # continuation started but not visible yet (or it was never started)
            st.state = "continuing"
            st.progress = progress_of(kind, out.get("shards") or last.input.get("shards") or [])
        elif last.status == FINISHED_OK:
            st.state = "succeeded"
            st.progress = (
                _unzip_progress(out) if kind == "unzip" else shard_progress(out["shards"], kind)
            )
        else:
            st.state = "stopped" if last.status in ("Stopped", "Aborted") else "failed"
            st.error = _execution_error(self, st.flow, last)
            st.progress = progress_of(kind, self._live_shards(st.flow, last))
        if kind != "unzip":
            st.progress.total = Total.of(
                doc.get("source_estimate"), st.progress.items, st.state == "succeeded"
            )
        return st

    def _live_shards(self, flow: str, execution: Execution) -> list[dict]:
        """Shard states: the execution's input, advanced by every page that finished since."""
        shards = {item["shard"]["id"]: item for item in execution.input.get("shards") or []}
        try:
            events = self.history(flow, execution.name)
        except Exception:  # history is best effort: progress falls back to the input
            return list(shards.values())
        for ev in events:
            item = _shard_from_event(ev)
            if item is not None and item["shard"].get("id") in shards:
                shards[item["shard"]["id"]] = item
        return list(shards.values())

    def resume(self, job_id: str) -> str:
        """Start the next execution of the chain from the last good shard positions.

        A running job (e.g. resumed by localcloud after a restart) is left alone: its
        running execution's name is returned.
        """
        st = self.status(job_id)
        last = st.executions[-1]
        if last.running:
            return last.name
        if st.state == "succeeded":
            raise ConfigError(f"job {job_id} already succeeded; nothing to resume")
        doc = dict(last.input)
        if st.kind in SHARD_MODELS:  # the kinds that page over shards
            if last.status == FINISHED_OK and (last.output or {}).get("shards"):
                doc["shards"] = last.output["shards"]
            else:
                doc["shards"] = self._live_shards(st.flow, last)
        seq = len(st.executions)
        doc["seq"] = seq
        parse_job(doc, st.kind)  # the contract holds through resume too
        self.start_execution(st.flow, execution_name(job_id, seq), doc)
        return execution_name(job_id, seq)

    def stop(self, job_id: str) -> str | None:
        from alibabacloud_fnf20190315 import models as fnf

        st = self.status(job_id)
        last = st.executions[-1]
        if not last.running:
            return None
        self.client.stop_execution(
            fnf.StopExecutionRequest(
                flow_name=st.flow,
                execution_name=last.name,
                error="StoppedByUser",
                cause="ossbatch jobs stop",
            )
        )
        return last.name

    def list(self, kinds: tuple[str, ...] = KINDS, limit: int = 100) -> list[dict]:
        """Jobs (executions without a `--seq` suffix), newest first, each with its current state:
        the state of the last execution of its chain, not of the first."""
        rows, latest = [], {}
        for kind in kinds:
            flow = self.conn.flow_name(kind)
            for e in self._executions(flow):
                job_id, _, seq = e.name.partition("--")
                seq_no = int(seq) if seq.isdigit() else 0
                if seq_no >= latest.get(job_id, (-1, None))[0]:
                    latest[job_id] = (seq_no, e)
                if not seq:
                    rows.append(
                        {
                            "job_id": e.name,
                            "kind": kind,
                            "flow": flow,
                            "first_status": e.status,
                            "started": e.started_time,
                        }
                    )
        rows.sort(key=lambda r: r["started"] or "", reverse=True)
        rows = rows[:limit]
        for row in rows:
            seq_no, last = latest[row["job_id"]]
            row["executions"] = seq_no + 1
            row["state"] = self._state_of(row["flow"], last)
        return rows

    def _executions(self, flow: str):
        from alibabacloud_fnf20190315 import models as fnf

        token = None
        while True:
            try:
                body = self.client.list_executions(
                    fnf.ListExecutionsRequest(flow_name=flow, limit=100, next_token=token)
                ).body
            except Exception as exc:
                if getattr(exc, "code", "") == "FlowNotExists":
                    return
                raise
            yield from body.executions or []
            token = body.next_token
            if not token:
                return

    def _state_of(self, flow: str, last) -> str:
        """The job state its last execution tells (a finished one may have continued)."""
        if last.status == RUNNING:
            return "running"
        if last.status == FINISHED_OK:
            execution = self._describe(flow, last.name)
            return "continuing" if execution and execution.continued else "succeeded"
        return "stopped" if last.status in ("Stopped", "Aborted") else "failed"

    def wait(
        self, job_id: str, interval: float = 1.0, timeout: float | None = None, on_update=None
    ) -> JobStatus:
        deadline = time.monotonic() + timeout if timeout else None
        known: list[Execution] = []
        while True:
            st = self.status(job_id, known)
            known = st.executions
            if on_update:
                on_update(st)
            if st.finished:
                return st
            if deadline and time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {st.state} after {timeout:.0f}s")
            time.sleep(interval)


def _epoch(stamp: str) -> float | None:
    """CloudFlow's 2019-01-01T01:01:01.001Z -> epoch seconds."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _json(text) -> dict:
    if not text:
        return {}
    if isinstance(text, dict):
        return text
    try:
        value = json.loads(text)
    except (TypeError, json.JSONDecodeError):
        return {"raw": text}
    return value if isinstance(value, dict) else {"value": value}


PAGE_STEPS = frozenset(step for kind in JOB_KINDS.values() for step in kind.page_steps)


def _shard_from_event(ev: dict) -> dict | None:
    """A finished page's shard item ({"shard": ...}), from the StepExited event of a page step."""
    if ev.get("type") != "StepExited" or ev.get("step") not in PAGE_STEPS:
        return None
    detail = ev.get("detail") or {}
    value = detail.get("output")
    if isinstance(value, str):
        value = _json(value)
    if isinstance(value, dict) and isinstance(value.get("shard"), dict):
        return {"shard": value["shard"]}
    return None


def _execution_error(jobs: Jobs, flow: str, execution: Execution) -> str:
    out = execution.output or {}
    if out.get("error") or out.get("Error"):
        return f"{out.get('error') or out.get('Error')}: {out.get('cause') or out.get('Cause', '')}"
    try:
        for ev in reversed(jobs.history(flow, execution.name)):
            d = ev.get("detail") or {}
            if d.get("error") or d.get("Error"):
                return f"{d.get('error') or d.get('Error')}: {d.get('cause') or d.get('Cause', '')}"
    except Exception:
        pass
    return execution.status


def job_report_url(doc: dict) -> str:
    request = doc.get("request") or {}
    bucket = request.get("report_bucket")
    prefix = (request.get("report_prefix") or "").strip("/")
    job_id = doc.get("job_id", "")
    return f"oss://{bucket}/{prefix}/{job_id}/" if bucket else ""


def progress_of(kind: str, shards: list[dict]) -> Progress:
    """Progress of a running or unfinished job (an unzip run has no shards)."""
    return Progress() if kind == "unzip" else shard_progress(shards, kind)


def _unzip_progress(out: dict) -> Progress:
    """The unzip flow's result carries the unzip counters (UnzipCounters: extracted, bytes_out)."""
    totals = UnzipCounters.model_validate(out.get("totals") or {})
    return Progress(
        done=totals.extracted,
        skipped=totals.skipped,
        failed=totals.failed,
        bytes=totals.bytes_out,
        fraction=1.0,
    )
