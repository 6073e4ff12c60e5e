"""copy handler throughput against localcloud with 20 ms injected latency per OSS request.

Side by side in one run, on the same 10,000 objects listed in one JSONL index:
- the copy handler with its default tuning (one page, the whole index): 48 requests in
  flight per process, worker processes on every usable CPU once the page is long;
- a one-at-a-time loop doing the same per-object work (the handler at concurrency 1 in
  one process, timed over the first SEQUENTIAL_SAMPLE objects: the rate, not the
  4-minute total);
- CPU-bound rate: the handler again at 0 ms latency (fresh destination prefix).
Target: default / one-at-a-time >= 30x.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import oss2
import psutil

from bench.record import write
from handlers import copy as copy_handler
from handlers.events import CopyEvent, parse_event
from localcloud import launcher

OBJECTS = int(os.environ.get("BENCH_COPY_OBJECTS", "10000"))
SEQUENTIAL_SAMPLE = int(os.environ.get("BENCH_COPY_SEQUENTIAL", "500"))
LATENCY_MS = 20
TARGET_RATIO = 30.0


def context(cloud):
    return SimpleNamespace(
        request_id="bench",
        credentials=SimpleNamespace(
            access_key_id=cloud.access_key_id,
            access_key_secret=cloud.access_key_secret,
            security_token=cloud.security_token,
        ),
        function=SimpleNamespace(name="copy", memory=1024, timeout=3600),
        region=cloud.region,
        account_id=cloud.account_id,
    )


def handler_cpu_seconds() -> float:
    """This process plus its reaped children: the page worker processes a handler starts."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def copy_rate(
    cloud, bucket, dest_prefix: str, *, concurrency: int | None, max_items: int | None
) -> tuple[float, dict]:
    event = {
        "job_id": "bench",
        "index": {"bucket": bucket.bucket_name, "key": "index.jsonl"},
        "dest": {"bucket": bucket.bucket_name, "prefix": dest_prefix},
        "tuning": {},
    }
    if concurrency is not None:
        event["tuning"]["concurrency"] = concurrency
    if concurrency == 1:
        event["tuning"]["processes"] = 1  # one at a time means one process too
    if max_items is not None:
        event["tuning"]["max_items"] = max_items
    server = psutil.Process(cloud.pid)
    server_cpu, client_cpu = sum(server.cpu_times()[:2]), handler_cpu_seconds()
    started = time.perf_counter()
    result = copy_handler.run(parse_event(CopyEvent, event), context(cloud))
    elapsed = time.perf_counter() - started
    copied = result["counters"]["done"]
    return copied / elapsed, {
        "objects": copied,
        "seconds": round(elapsed, 2),
        "failed": result["counters"]["failed"],
        # where the CPU went: on 2 shared cores the emulator, not the latency, sets the ceiling
        "handler_cpu_s_per_1000": round(
            (handler_cpu_seconds() - client_cpu) / max(copied, 1) * 1000, 2
        ),
        "localcloud_cpu_s_per_1000": round(
            (sum(server.cpu_times()[:2]) - server_cpu) / max(copied, 1) * 1000, 2
        ),
    }


REQUEST_OBJECTS = int(os.environ.get("BENCH_COPY_REQUEST_OBJECTS", "2000"))


def oss_requests(cloud) -> int:
    with urllib.request.urlopen(f"{cloud.admin_endpoint}/counters", timeout=10) as resp:
        return sum(json.loads(resp.read()).get("oss", {}).values())


def requests_per_object(cloud, bucket) -> dict:
    """OSS requests per object (localcloud's counters) per source, fresh and re-run."""
    keys = [f"req/{i:06d}.dat" for i in range(REQUEST_OBJECTS)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: bucket.put_object(k, k.encode()), keys))
    etags = {o.key: o.etag for o in oss2.ObjectIterator(bucket, prefix="req/")}
    indexes = {
        "index_sizes_etags": [{"key": k, "size": len(k), "etag": etags[k]} for k in keys],
        "index_sizes": [{"key": k, "size": len(k)} for k in keys],
        "index_keys_only": [{"key": k} for k in keys],
    }
    sources = {"listing": {"listing": {"bucket": bucket.bucket_name, "prefix": "req/"}}}
    for name, lines in indexes.items():
        bucket.put_object(f"{name}.jsonl", "".join(json.dumps(line) + "\n" for line in lines))
        sources[name] = {"index": {"bucket": bucket.bucket_name, "key": f"{name}.jsonl"}}
    out = {}
    for name, source in sources.items():
        event = {"job_id": "req", "dest": {"bucket": bucket.bucket_name, "prefix": f"rq-{name}/"}}
        runs = {}
        for run in ("fresh", "rerun"):
            before = oss_requests(cloud)
            result = copy_handler.run(parse_event(CopyEvent, {**event, **source}), context(cloud))
            made = oss_requests(cloud) - before
            runs[run] = {
                "requests_per_object": round(made / REQUEST_OBJECTS, 4),
                "copied": result["counters"]["done"],
                "skipped": result["counters"]["skipped"],
            }
        out[name] = runs
    return {"objects": REQUEST_OBJECTS, "sources": out}


def main() -> int:
    os.environ["OSSBATCH_REPORT_PREFIX"] = "reports/"
    with tempfile.TemporaryDirectory(prefix="bench-copy-") as tmp:
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
            keys = [f"src/{i:06d}.dat" for i in range(OBJECTS)]
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda k: bucket.put_object(k, k.encode() * 8), keys))
            # sizes in the index spare a source HEAD: one destination HEAD + one CopyObject per object
            index = "".join(json.dumps({"key": k, "size": len(k) * 8}) + "\n" for k in keys)
            bucket.put_object("index.jsonl", index)

            cloud.set_faults(latency_ms=LATENCY_MS)
            seq_rate, seq = copy_rate(
                cloud, bucket, "seq/", concurrency=1, max_items=SEQUENTIAL_SAMPLE
            )
            par_rate, par = copy_rate(cloud, bucket, "par/", concurrency=None, max_items=None)
            cloud.set_faults(latency_ms=0)
            cpu_rate, cpu = copy_rate(cloud, bucket, "cpu/", concurrency=None, max_items=None)
            requests = requests_per_object(cloud, bucket)
        finally:
            cloud.stop()
    ratio = par_rate / seq_rate
    figures = {
        "objects": OBJECTS,
        "latency_ms": LATENCY_MS,
        "default_concurrency": CopyEvent.model_fields["tuning"].default.concurrency,
        "one_at_a_time_objects_per_s": round(seq_rate, 1),
        "one_at_a_time_run": seq,
        "default_objects_per_s": round(par_rate, 1),
        "default_run": par,
        "ratio_default_vs_one_at_a_time": round(ratio, 1),
        "target_ratio": TARGET_RATIO,
        "cpu_bound_objects_per_s_at_0ms": round(cpu_rate, 1),
        "cpu_bound_run": cpu,
        "requests_per_object": requests,
    }
    write("copy", figures)
    print(json.dumps(figures, indent=2))
    print(
        f"copy: {par_rate:.0f} objects/s at default concurrency vs {seq_rate:.1f}/s one at a time "
        f"= {ratio:.1f}x (target >= {TARGET_RATIO:.0f}x); CPU-bound {cpu_rate:.0f}/s at 0 ms"
    )
    return 0 if ratio >= TARGET_RATIO and par["failed"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
