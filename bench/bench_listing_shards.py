"""Listing jobs that shard: a prefix listing split by key range vs an index split by bytes.

Side by side in one run, against localcloud with 200 ms injected latency per OSS request
(latency-bound, so shards matter even on 2 cores), on the same 20,000 objects:
- index job: the JSONL index cut into SHARDS byte ranges, each shard's pages in its own thread;
- listing job: the prefix split into SHARDS key ranges (ossbatch.keysplit, its probes
  timed into the job), each shard listing only its range;
- listing job with one shard.
Each shard runs the copy handler page after page from its last position, as the flow does.
Targets: listing >= 0.8x the index job's objects/s; 4 shards >= 3x 1 shard.
Each case records the load average before and after it (other work on the 2 shared cores
skews every figure) and the listing cases their split's seconds and requests, so a miss
shows whether the split or the copying is short.
Also: the split's own request count per million keys for a few key-name distributions,
modelled on in-memory listings with OSS's semantics, and its wall time when every probe
takes 50 ms (its probes are in flight together: that counts round trips, not requests).
"""

from __future__ import annotations

import bisect
import json
import os
import random
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import oss2

from bench.bench_copy import context
from bench.record import RESULTS, write
from handlers import copy as copy_handler
from handlers.events import CopyEvent, parse_event
from handlers.listing import ListedObject, ListingPage, oss_list_page
from localcloud import launcher
from ossbatch.jobdocs import split_bounds
from ossbatch.keysplit import split_key_space
from ossbatch.retrying import call

OBJECTS = int(os.environ.get("BENCH_SHARDS_OBJECTS", "20000"))
SHARDS = 4
LATENCY_MS = 200
MODEL_KEYS = int(os.environ.get("BENCH_SHARDS_MODEL_KEYS", "1000000"))
MODEL_LATENCY_S = 0.05


class Retry:
    call = staticmethod(call)


def run_shard(cloud, base: dict, source_field: str, source: dict) -> int:
    """Pages of one shard until done; returns objects copied."""
    copied, position = 0, dict(source)
    while True:
        event = parse_event(CopyEvent, {**base, source_field: position})
        result = copy_handler.run(event, context(cloud))
        copied += result["counters"].get("done", 0)
        assert result["counters"].get("failed", 0) == 0, result
        if result["done"]:
            return copied
        if source_field == "index":
            position = {**position, "offset": result["next_offset"]}
        else:
            position = {**position, "marker": result["next_marker"]}


def run_job(cloud, bucket, dest_prefix: str, source_field: str, shards: list[dict]):
    base = {
        "job_id": "bench",
        "dest": {"bucket": bucket.bucket_name, "prefix": dest_prefix},
        "tuning": {"processes": 1, "time_budget_seconds": 900},
    }
    with ThreadPoolExecutor(len(shards)) as pool:
        counts = list(pool.map(lambda s: run_shard(cloud, base, source_field, s), shards))
    return sum(counts)


def load() -> list[float]:
    """The 1/5/15-minute load average: other work on the 2 shared cores skews every figure."""
    return [round(x, 2) for x in os.getloadavg()]


def listing_job(cloud, bucket, dest_prefix: str, shards: int) -> dict:
    load_before = load()
    started = time.perf_counter()
    split = split_key_space(oss_list_page(bucket, Retry()), "src/", shards)
    split_s = time.perf_counter() - started
    ranges = [
        {
            "bucket": bucket.bucket_name,
            "prefix": "src/",
            "marker": r.start_after,
            "end_marker": r.end,
        }
        for r in split.ranges
    ]
    copied = run_job(cloud, bucket, dest_prefix, "listing", ranges)
    elapsed = time.perf_counter() - started
    return {
        "shards": len(ranges),
        "objects": copied,
        "seconds": round(elapsed, 2),
        "split_seconds": round(split_s, 2),
        "split_requests": split.requests,
        "run_seconds": round(elapsed - split_s, 2),
        "objects_per_s": round(copied / elapsed, 1),
        "run_objects_per_s": round(copied / (elapsed - split_s), 1),  # the split left out
        "shard_keys_estimated": [r.estimated_keys for r in split.ranges],
        "load_average_before": load_before,
        "load_average_after": load(),
    }


def index_job(cloud, bucket, dest_prefix: str, shards: int, index_size: int) -> dict:
    load_before = load()
    started = time.perf_counter()
    bounds = split_bounds(index_size, shards)
    ranges = [
        {"bucket": bucket.bucket_name, "key": "index.jsonl", "offset": a, "end": b}
        for a, b in zip(bounds, bounds[1:], strict=False)
    ]
    copied = run_job(cloud, bucket, dest_prefix, "index", ranges)
    elapsed = time.perf_counter() - started
    return {
        "shards": len(ranges),
        "objects": copied,
        "seconds": round(elapsed, 2),
        "objects_per_s": round(copied / elapsed, 1),
        "load_average_before": load_before,
        "load_average_after": load(),
    }


class SortedKeys:
    def __init__(self, keys):
        self.keys = sorted(keys)

    def __call__(self, prefix, marker, max_keys):
        i = max(bisect.bisect_right(self.keys, marker), bisect.bisect_left(self.keys, prefix))
        j = i
        while j < len(self.keys) and j - i < max_keys and self.keys[j].startswith(prefix):
            j += 1
        more = j < len(self.keys) and self.keys[j].startswith(prefix)
        return ListingPage([ListedObject(k, 1, None, None) for k in self.keys[i:j]], more, "")


def earlier_runs(keep: int = 4) -> list[dict]:
    """The last runs' headline figures, kept so a loaded machine's spread shows in one file."""
    path = RESULTS / "listing_shards.json"
    if not path.exists():
        return []
    last = json.loads(path.read_text())
    if "listing_job" not in last:
        return []
    summary = {
        "measured_at": last.get("measured_at"),
        "ratio_listing_vs_index": last.get("ratio_listing_vs_index"),
        "ratio_four_shards_vs_one": last.get("ratio_four_shards_vs_one"),
        "split_seconds": last["listing_job"].get("split_seconds"),
        "split_requests": last["listing_job"].get("split_requests"),
        "load_average_at_end": last.get("load_average_at_end"),
    }
    return [summary, *last.get("earlier_runs", [])][:keep]


def split_cost_model() -> dict:
    """Probe listings the split spends per million keys, and how even its 40 ranges are."""
    rng = random.Random(15)
    n = MODEL_KEYS
    distributions = {
        "numbered": lambda: [f"p/{i:09d}.dat" for i in range(n)],
        "hashed": lambda: [f"p/{rng.getrandbits(48):012x}/obj" for _ in range(n)],
        "dated": lambda: [
            f"p/{2020 + i % 5}/{i % 12 + 1:02d}/{i % 28 + 1:02d}/{i:08d}" for i in range(n)
        ],
    }
    out = {}
    for name, make in distributions.items():
        listing = SortedKeys(make())
        split = split_key_space(listing, "p/", 40)
        sizes = [
            bisect.bisect_right(listing.keys, r.end or "\U0010ffff" * 4)
            - bisect.bisect_right(listing.keys, r.start_after)
            for r in split.ranges
        ]
        out[name] = {
            "keys": n,
            "ranges": len(split.ranges),
            "requests": split.requests,
            "requests_per_million_keys": round(split.requests / (n / 1e6), 1),
            "largest_range_vs_mean": round(max(sizes) / (n / len(sizes)), 3),
            "estimated_keys": split.estimated_keys,
            **round_trips(listing),
        }
    return out


def round_trips(listing) -> dict:
    """The split's wall time when every probe takes MODEL_LATENCY_S: its probes in flight
    together make it a count of round trips (plus this process's CPU), not of requests."""

    def slow(prefix, marker, max_keys):
        time.sleep(MODEL_LATENCY_S)
        return listing(prefix, marker, max_keys)

    started = time.perf_counter()
    split_key_space(slow, "p/", 40)
    seconds = time.perf_counter() - started
    return {
        f"seconds_at_{int(MODEL_LATENCY_S * 1000)}ms_per_probe": round(seconds, 2),
        "round_trips_at_most": round(seconds / MODEL_LATENCY_S, 1),
    }


def main() -> int:
    os.environ["OSSBATCH_REPORT_PREFIX"] = "reports/"
    with tempfile.TemporaryDirectory(prefix="bench-shards-") as tmp:
        cloud = launcher.start(tmp)
        try:
            os.environ["OSSBATCH_OSS_ENDPOINT"] = cloud.oss_endpoint
            auth = oss2.Auth(cloud.access_key_id, cloud.access_key_secret)
            bucket = oss2.Bucket(
                auth,
                cloud.oss_endpoint,
                f"bench-{uuid.uuid4().hex[:8]}",
                session=oss2.Session(pool_size=64),
            )
            bucket.create_bucket()
            keys = [f"src/{i:06d}.dat" for i in range(OBJECTS)]
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda k: bucket.put_object(k, k.encode()), keys))
            index = "".join(json.dumps({"key": k, "size": len(k)}) + "\n" for k in keys)
            bucket.put_object("index.jsonl", index)
            cloud.set_faults(latency_ms=LATENCY_MS)
            by_index = index_job(cloud, bucket, "idx/", SHARDS, len(index.encode()))
            by_listing = listing_job(cloud, bucket, "lst/", SHARDS)
            one_shard = listing_job(cloud, bucket, "one/", 1)
        finally:
            cloud.stop()
    listing_vs_index = by_listing["objects_per_s"] / by_index["objects_per_s"]
    four_vs_one = by_listing["objects_per_s"] / one_shard["objects_per_s"]
    # where a miss comes from: the same ratios over the copying alone, the split left out
    run_vs_index = by_listing["run_objects_per_s"] / by_index["objects_per_s"]
    run_four_vs_one = by_listing["run_objects_per_s"] / one_shard["run_objects_per_s"]
    figures = {
        "objects": OBJECTS,
        "latency_ms": LATENCY_MS,
        "index_job": by_index,
        "listing_job": by_listing,
        "listing_job_one_shard": one_shard,
        "ratio_listing_vs_index": round(listing_vs_index, 2),
        "ratio_four_shards_vs_one": round(four_vs_one, 2),
        "ratio_listing_run_vs_index": round(run_vs_index, 2),
        "ratio_four_shards_vs_one_runs_only": round(run_four_vs_one, 2),
        "split_share_of_listing_job": round(by_listing["split_seconds"] / by_listing["seconds"], 3),
        "targets": {"listing_vs_index": 0.8, "four_shards_vs_one": 3.0},
        "split_cost_model": split_cost_model(),
    }
    figures["load_average_at_end"] = load()
    figures["earlier_runs"] = earlier_runs()
    write("listing_shards", figures)
    print(json.dumps(figures, indent=2))
    print(
        f"listing shards: listing {listing_vs_index:.2f}x index (target >= 0.8), "
        f"{SHARDS} shards {four_vs_one:.2f}x one (target >= 3); split "
        f"{by_listing['split_seconds']}s of {by_listing['seconds']}s, "
        f"{by_listing['split_requests']} requests; load {figures['load_average_at_end']}"
    )
    ok = listing_vs_index >= 0.8 and four_vs_one >= 3.0
    ok = ok and by_index["objects"] == by_listing["objects"] == one_shard["objects"] == OBJECTS
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
