"""Workflow events per million objects copied, at the settings of environments/prod.yaml.

Measured side by side in one run on the local engine (which records history like
CloudFlow, docs/decisions/flow-event-history.md), through `ossbatch local up` and the
real copy flow + handler:
  run A: 1 shard, 2 pages; run B: 1 shard, 6 pages; run C: 4 shards x 2 pages.
  per_page  = (E_B - E_A) / (P_B - P_A)
  fixed+per_shard = E_A - P_A * per_page
  per_shard = (E_C - P_C * per_page - (fixed + per_shard)) / 3
Objects per invocation = the copy benchmark's objects/s per invocation (bench/results/copy.json,
20 ms OSS latency, default concurrency) x prod's copy page budget (page_budget_s).
Steady state of a massive job: each execution runs `pages_per_execution` pages on every
shard, so its fixed + per-shard events are shared by shards x pages invocations.
Target: <= 50 events per million objects (the public sample's 1 MB pages: ~250-300).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from bench.record import write
from ossbatch import cloud, jobdocs, sampledata
from ossbatch.config import load_environment
from ossbatch.eventbudget import COSTS, EVENTS_PER_TASK_ATTEMPT, headroom, pages_per_execution
from ossbatch.jobs import Jobs, new_job_id
from ossbatch.local import bring_down, bring_up

TARGET = 50.0
COPY_RESULTS = Path(__file__).parent / "results" / "copy.json"
FALLBACK_OBJECTS_PER_S = 150.0  # if the copy benchmark has not run: a conservative local rate


def events_of(jobs: Jobs, flow: str, name: str) -> int:
    return len(jobs.history(flow, name))


def run_copy(conn, jobs: Jobs, index_key: str, shards: int, per_page: int) -> tuple[int, int]:
    doc = jobdocs.copy_document(
        conn,
        new_job_id("copy"),
        index=f"oss://{conn.buckets['sources']}/{index_key}",
        source=None,
        dest=f"oss://{conn.buckets['archive']}/bench-{index_key}/",
        storage_class="Archive",
        concurrency=shards,
        page_budget_s=30,
        max_items_per_page=per_page,
    )
    job_id = jobs.start("copy", doc)
    st = jobs.wait(job_id, interval=0.3, timeout=300)
    if st.state != "succeeded" or len(st.executions) != 1:
        raise RuntimeError(f"bench copy {job_id}: {st.state} {st.error}")
    execution = st.executions[0]
    pages = sum(item["shard"]["pages"] for item in execution.output["shards"])
    return events_of(jobs, conn.flow_name("copy"), execution.name), pages


def seed(conn, name: str, count: int, shard_bytes_hint: int = 0) -> None:
    bucket = conn.oss_bucket(conn.buckets["sources"])
    keys = sampledata.object_keys(f"{name}/", count)
    sampledata.upload_objects(bucket, keys)
    bucket.put_object(name, sampledata.csv_index(conn.buckets["sources"], keys))


def main() -> int:
    prod = load_environment("prod")
    data_dir = Path(tempfile.mkdtemp(prefix="bench-flow-events-"))
    try:
        state = bring_up(load_environment("local"), data_dir)
        conn = cloud.from_local_state(state)
        jobs = Jobs(conn)
        seed(conn, "a.csv", 20)
        seed(conn, "b.csv", 60)
        seed(conn, "c.csv", 400)  # 4 shards need >= 4 KiB of index
        e_a, p_a = run_copy(conn, jobs, "a.csv", 1, 10)
        e_b, p_b = run_copy(conn, jobs, "b.csv", 1, 10)
        e_c, p_c = run_copy(conn, jobs, "c.csv", 4, 50)
    finally:
        bring_down(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)

    per_page = (e_b - e_a) / (p_b - p_a)
    one_shard_overhead = e_a - p_a * per_page
    per_shard = (e_c - p_c * per_page - one_shard_overhead) / 3
    fixed = one_shard_overhead - per_shard

    if COPY_RESULTS.exists():
        rate = float(json.loads(COPY_RESULTS.read_text())["default_objects_per_s"])
        rate_source = "bench/results/copy.json default_objects_per_s (20 ms OSS latency)"
    else:
        rate, rate_source = FALLBACK_OBJECTS_PER_S, "fallback (copy benchmark not run)"
    budget_s = prod.copy_job.page_budget_s
    objects_per_invocation = rate * budget_s
    shards = min(prod.copy_job.concurrency, jobdocs.MAX_SHARDS)
    pages = pages_per_execution("copy", shards)
    invocations_per_execution = shards * pages
    overhead_per_invocation = (fixed + shards * per_shard) / invocations_per_execution
    invocations_per_million = 1_000_000 / objects_per_invocation
    per_million = invocations_per_million * (per_page + overhead_per_invocation)
    room = headroom("copy", shards)
    one_job_of_a_million = (
        fixed + shards * per_shard + invocations_per_million * per_page
    )  # a job so small that each shard runs less than one page

    lines = [
        f"measured: run A {e_a} events / {p_a} pages, run B {e_b} / {p_b}, run C (4 shards) {e_c} / {p_c}",
        f"per page = ({e_b} - {e_a}) / ({p_b} - {p_a}) = {per_page:.1f} events",
        f"per shard = ({e_c} - {p_c} x {per_page:.1f} - {one_shard_overhead:.1f}) / 3 = {per_shard:.1f}; fixed = {fixed:.1f}",
        f"constants in ossbatch/eventbudget.py: {COSTS['copy']}",
        f"objects per invocation = {rate:.0f}/s [{rate_source}] x {budget_s} s (prod page_budget_s) = {objects_per_invocation:,.0f}",
        f"prod: {shards} shards x {pages} pages per execution = {invocations_per_execution} invocations per execution",
        f"overhead per invocation = ({fixed:.0f} + {shards} x {per_shard:.0f}) / {invocations_per_execution} = {overhead_per_invocation:.2f}",
        f"events per million objects = 1e6 / {objects_per_invocation:,.0f} x ({per_page:.1f} + {overhead_per_invocation:.2f}) = {per_million:.1f}  (target <= {TARGET:.0f})",
        f"(a job of only 1 M objects on {shards} shards pays the shard overhead once: {one_job_of_a_million:.0f} events)",
        f"headroom for retries: 5000 - {5000 - room.events} = {room.events} events = "
        f"{room.retried_attempts} retried task attempts at {EVENTS_PER_TASK_ATTEMPT} events each "
        f"({room.fraction_of_tasks:.0%} of the execution's {invocations_per_execution} page tasks)",
        "public sample for comparison: 1 MB index pages ~ 4,000 objects/page -> ~250-300 events per million",
    ]
    for line in lines:
        print(line)
    write(
        "flow_events",
        {
            "events_per_million_objects": round(per_million, 1),
            "target": TARGET,
            "per_page_events": per_page,
            "per_shard_events": per_shard,
            "fixed_events": fixed,
            "objects_per_invocation": round(objects_per_invocation),
            "objects_per_s_source": rate_source,
            "prod_shards": shards,
            "prod_pages_per_execution": pages,
            "one_million_object_job_events": round(one_job_of_a_million),
            "events_per_task_attempt": EVENTS_PER_TASK_ATTEMPT,
            "headroom_events": room.events,
            "headroom_retried_attempts": room.retried_attempts,
            "arithmetic": lines,
        },
    )
    return 0 if per_million <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
