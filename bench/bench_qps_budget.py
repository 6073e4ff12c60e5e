"""A job-wide request budget (--max-qps) held by shards that finish at different times.

One run against localcloud (20 ms injected latency): two shards of one copy job, 1,000 and
5,000 objects, each a copy page in its own thread (one process each), first unpaced on a
sample to show the unthrottled rate, then under a budget below it. localcloud's request
counters are sampled every 0.25 s. Targets: achieved rate over the run within +-10% of the
budget, and no more than one 1-second window above 1.2x the budget. The short shard ends
early: its share must move to the long one (no stranded budget) for the mean to hold.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import oss2

from bench.bench_copy import context
from bench.record import write
from handlers import copy as copy_handler
from handlers.events import CopyEvent, parse_event
from localcloud import launcher

SHARDS = (1000, 5000)
BUDGET = int(os.environ.get("BENCH_QPS_BUDGET", "250"))
LATENCY_MS = 20
SAMPLE_S = 0.25


def total_requests(cloud) -> int:
    with urllib.request.urlopen(f"{cloud.admin_endpoint}/counters", timeout=10) as resp:
        return sum(json.loads(resp.read()).get("oss", {}).values())


class Sampler(threading.Thread):
    def __init__(self, cloud):
        super().__init__(daemon=True)
        self.cloud, self.samples, self.stop = cloud, [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.samples.append((time.perf_counter(), total_requests(self.cloud)))
            self.stop.wait(SAMPLE_S)


def shard_events(bucket, dest_prefix: str, index_size: int, bound: int, max_qps, max_items):
    ranges = [(0, bound), (bound, index_size)]
    tuning = {"processes": 1, "time_budget_seconds": 900}
    if max_qps:
        tuning["max_qps"] = max_qps
    if max_items:
        tuning["max_items"] = max_items
    return [
        {
            "job_id": f"qps-{dest_prefix.strip('/')}",
            "index": {"bucket": bucket.bucket_name, "key": "index.jsonl", "offset": a, "end": b},
            "dest": {"bucket": bucket.bucket_name, "prefix": dest_prefix},
            "report_prefix": "reports/",
            "tuning": tuning,
        }
        for a, b in ranges
    ]


def run_shards(cloud, events) -> tuple[float, list[dict], int]:
    before = total_requests(cloud)
    started = time.perf_counter()
    with ThreadPoolExecutor(len(events)) as pool:
        results = list(
            pool.map(lambda e: copy_handler.run(parse_event(CopyEvent, e), context(cloud)), events)
        )
    elapsed = time.perf_counter() - started
    return elapsed, results, total_requests(cloud) - before


def windows(samples) -> list[float]:
    """Requests per second in sliding 1-second windows (from the 0.25 s samples)."""
    step = round(1 / SAMPLE_S)
    return [
        (samples[i + step][1] - samples[i][1]) / (samples[i + step][0] - samples[i][0])
        for i in range(len(samples) - step)
    ]


def main() -> int:
    os.environ["OSSBATCH_REPORT_PREFIX"] = "reports/"
    with tempfile.TemporaryDirectory(prefix="bench-qps-") as tmp:
        cloud = launcher.start(tmp)
        try:
            os.environ["OSSBATCH_OSS_ENDPOINT"] = cloud.oss_endpoint
            auth = oss2.Auth(cloud.access_key_id, cloud.access_key_secret)
            bucket = oss2.Bucket(
                auth,
                cloud.oss_endpoint,
                f"bench-{uuid.uuid4().hex[:8]}",
                session=oss2.Session(pool_size=32),
            )
            bucket.create_bucket()
            keys = [f"src/{i:06d}.dat" for i in range(sum(SHARDS))]
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda k: bucket.put_object(k, b"x"), keys))
            lines = [json.dumps({"key": k, "size": 1}) + "\n" for k in keys]
            index = "".join(lines)
            bound = len("".join(lines[: SHARDS[0]]).encode())
            bucket.put_object("index.jsonl", index)
            cloud.set_faults(latency_ms=LATENCY_MS)
            free_s, _, free_requests = run_shards(
                cloud, shard_events(bucket, "free/", len(index), bound, None, 600)
            )
            unthrottled = free_requests / free_s
            sampler = Sampler(cloud)
            sampler.start()
            paced_s, results, paced_requests = run_shards(
                cloud, shard_events(bucket, "paced/", len(index), bound, BUDGET, None)
            )
            sampler.stop.set()
            sampler.join()
        finally:
            cloud.stop()
    achieved = paced_requests / paced_s
    rates = windows(sampler.samples)
    bursts = sum(1 for r in rates if r > 1.2 * BUDGET) * SAMPLE_S  # seconds above 1.2x
    copied = sum(r["counters"]["done"] for r in results)
    figures = {
        "budget_qps": BUDGET,
        "latency_ms": LATENCY_MS,
        "shards_objects": list(SHARDS),
        "unthrottled_qps_sample": round(unthrottled, 1),
        "paced_seconds": round(paced_s, 2),
        "paced_requests": paced_requests,
        "achieved_qps": round(achieved, 1),
        "achieved_vs_budget": round(achieved / BUDGET, 3),
        "max_1s_window_qps": round(max(rates), 1) if rates else None,
        "seconds_above_1_2x": bursts,
        "one_second_rates": [round(r) for r in rates[:: round(1 / SAMPLE_S)]],
        "copied": copied,
        "targets": {"achieved_vs_budget": [0.9, 1.1], "seconds_above_1_2x_at_most": 1.0},
    }
    write("qps_budget", figures)
    print(json.dumps(figures, indent=2))
    print(
        f"qps budget: {achieved:.0f}/s achieved at a {BUDGET}/s budget = {achieved / BUDGET:.3f}x "
        f"(target 0.9-1.1), {bursts:.2f} s above 1.2x (target <= 1); unthrottled {unthrottled:.0f}/s"
    )
    ok = 0.9 <= achieved / BUDGET <= 1.1 and bursts <= 1.0 and unthrottled > BUDGET
    return 0 if ok and copied == sum(SHARDS) else 1


if __name__ == "__main__":
    raise SystemExit(main())
