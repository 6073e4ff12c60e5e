"""unzip handler against localcloud with 20 ms injected latency per OSS request, side by side:

1. throughput: a ~500 MB (uncompressed) mixed archive extracted into localcloud vs
   `unzip -d` to local disk on the same archive, in BENCH_UNZIP_ROUNDS (3) alternating
   pairs (target: median MB/s >= 1.0x the CLI's median MB/s);
2. tiny entries: 100,000 small entries, entries/s vs sequential PUTs of the same entries
   (sequential rate timed on a sample) (target >= 20x), and the peak RSS of the handler
   and its page workers while they extract it (target < 200 MB);
3. memory: peak RSS of the extraction process for a 2 GB archive vs a 200 MB one
   (target < 200 MB and ratio <= 1.3);
4. resume: bytes read to finish from a marker at 90% of the entries vs the bytes remaining
   (target <= 1.05x plus the central directory).
Sizes shrink with BENCH_UNZIP_SCALE (e.g. 0.1) for a quick look; figures say which scale ran.
The machine's load average is recorded around each side of the throughput comparison: on
shared cores a figure means little without it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from pathlib import Path
from statistics import median
from types import SimpleNamespace

import oss2
import psutil

from bench.record import write
from localcloud import launcher

SCALE = float(os.environ.get("BENCH_UNZIP_SCALE", "1"))
PARTS = set(os.environ.get("BENCH_UNZIP_PARTS", "throughput,resume,tiny,memory").split(","))
LATENCY_MS = 20
# side-by-side pairs (handler, then unzip -d) whose medians are compared: one pair on a
# shared machine is one draw of its noise
ROUNDS = int(os.environ.get("BENCH_UNZIP_ROUNDS", "3"))
MB = 1024 * 1024


def context(cloud, timeout=3600):
    return SimpleNamespace(
        request_id="bench",
        credentials=SimpleNamespace(
            access_key_id=cloud.access_key_id,
            access_key_secret=cloud.access_key_secret,
            security_token=cloud.security_token,
        ),
        function=SimpleNamespace(name="unzip", memory=2048, timeout=timeout),
        region=cloud.region,
        account_id=cloud.account_id,
    )


def write_mixed(path: Path, total: int, seed: int) -> int:
    """Text-like (deflated), random (stored) and tiny entries; returns uncompressed bytes."""
    import random

    rnd = random.Random(seed)
    words = b" ".join(
        rnd.choice([b"alpha", b"beta", b"gamma", b"delta", b"omega", b"zeta"]) for _ in range(4000)
    )
    used, i = 0, 0
    with zipfile.ZipFile(path, "w") as zf:
        while used < total:
            kind = i % 4
            if kind == 0:
                size = rnd.randint(1 * MB, 6 * MB)
                data = (words * (size // len(words) + 1))[:size]
                zf.writestr(
                    zipfile.ZipInfo(f"text/{i:06d}.txt"),
                    data,
                    compress_type=zipfile.ZIP_DEFLATED,
                    compresslevel=1,
                )
            elif kind == 1:
                size = rnd.randint(1 * MB, 6 * MB)
                zf.writestr(
                    zipfile.ZipInfo(f"bin/{i:06d}.bin"),
                    rnd.randbytes(size),
                    compress_type=zipfile.ZIP_STORED,
                )
            else:
                size = rnd.randint(100, 20_000)
                zf.writestr(
                    zipfile.ZipInfo(f"small/{i:06d}.dat"),
                    rnd.randbytes(size),
                    compress_type=zipfile.ZIP_DEFLATED,
                    compresslevel=1,
                )
            used += size
            i += 1
    return used


def write_tiny(path: Path, count: int) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for i in range(count):
            zf.writestr(zipfile.ZipInfo(f"t/{i:06d}.txt"), b"entry %d\n" % i)


def extract_in_child(cloud, bucket_name: str, key: str, extra: dict | None = None) -> dict:
    """Run the unzip handler in a fresh process (clean peak RSS) until done."""
    event = {
        "job_id": "bench",
        "package": {"bucket": bucket_name, "key": key},
        "output_prefix": f"out-{uuid.uuid4().hex[:6]}/",
        **(extra or {}),
    }
    code = (
        "import json, resource, sys, time\n"
        "from types import SimpleNamespace\n"
        "from handlers import unzip\n"
        "from handlers.events import UnzipEvent, parse_event\n"
        "ctx = SimpleNamespace(**json.loads(sys.argv[2]))\n"
        "ctx.credentials = SimpleNamespace(**ctx.credentials); ctx.function = SimpleNamespace(**ctx.function)\n"
        "event = json.loads(sys.argv[1]); totals = {}; started = time.perf_counter(); pages = 0\n"
        "while True:\n"
        "    r = unzip.run(parse_event(UnzipEvent, {**event, 'totals': totals}), ctx); pages += 1\n"
        "    totals = r['totals']; event['marker'] = r['marker']\n"
        "    if r['done']: break\n"
        # VmHWM is this process's own high-water mark; ru_maxrss would carry the forking
        # parent's RSS over the exec (Linux keeps it): a big bench process would show through
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
        "peak = int(hwm[0].split()[1]) / 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'seconds': time.perf_counter() - started, 'totals': totals, 'pages': pages,\n"
        "  'peak_rss_mb': peak}))\n"
    )
    ctx = {
        "request_id": "bench",
        "region": cloud.region,
        "account_id": cloud.account_id,
        "credentials": {
            "access_key_id": cloud.access_key_id,
            "access_key_secret": cloud.access_key_secret,
            "security_token": cloud.security_token,
        },
        "function": {"name": "unzip", "memory": 2048, "timeout": 3600},
    }
    env = {
        **os.environ,
        "OSSBATCH_OSS_ENDPOINT": cloud.oss_endpoint,
        "OSSBATCH_REPORT_PREFIX": "reports/",
        "OSSBATCH_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", code, json.dumps(event), json.dumps(ctx)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # page worker processes count too: sample the whole tree's RSS while it runs
    tree_peak = workers = pss_peak = 0
    at_peak: list[float] = []  # each member's RSS (MB) when the tree peaked: handler first
    sampler_done = threading.Event()

    def sample() -> None:
        nonlocal tree_peak, workers, at_peak, pss_peak
        handler = psutil.Process(proc.pid)
        ticks = 0
        while not sampler_done.wait(0.05):
            ticks += 1
            if ticks % 10 == 0:  # PSS walks page tables: every 0.5 s, not every sample
                pss_peak = max(pss_peak, _tree_pss(handler))
            try:
                children = handler.children(recursive=True)
                workers = max(workers, len(children))
                members = [handler, *children]
                sizes = []
                for m in members:
                    try:
                        sizes.append(m.memory_info().rss)
                    except psutil.NoSuchProcess:
                        pass
                if sum(sizes) > tree_peak:
                    tree_peak, at_peak = sum(sizes), [round(s / MB, 1) for s in sizes]
            except psutil.NoSuchProcess:
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    sampler_done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"extraction failed: {stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["workers"] = workers
    result["rss_mb_at_tree_peak"] = at_peak
    # RSS counts the pages the processes share (python, libcrypto, cryptography's Rust
    # library: ~16 MB each) once per process; PSS splits them, as one machine holds them
    result["tree_peak_pss_mb"] = round(pss_peak / MB, 1)
    # the handler's own VmHWM is exact; the tree sample adds what its workers held
    result["tree_peak_rss_mb"] = round(max(tree_peak / MB, result["peak_rss_mb"]), 1)
    return result


def _tree_pss(handler: psutil.Process) -> int:
    """Bytes of PSS over the handler and its children (0 where smaps_rollup is missing)."""
    total = 0
    try:
        members = [handler, *handler.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for m in members:
        try:
            with open(f"/proc/{m.pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
    return total


def _throughput_round(cloud, bucket, mixed: Path, tmp: Path) -> dict:
    """One side-by-side pair: the handler extracts into localcloud, then `unzip -d` to disk."""
    load = {"before_handler": _load()}
    ours = extract_in_child(cloud, bucket.bucket_name, "in/mixed.zip")
    out_dir = tmp / "cli"
    load["before_unzip_cli"] = _load()
    started = time.perf_counter()
    subprocess.run(["unzip", "-q", "-o", str(mixed), "-d", str(out_dir)], check=True)
    cli_seconds = time.perf_counter() - started
    load["after_unzip_cli"] = _load()
    shutil.rmtree(out_dir)
    return {
        "handler_seconds": round(ours["seconds"], 3),
        "unzip_cli_seconds": round(cli_seconds, 3),
        "load_average_1_5_15": load,
        "handler_run": ours,
    }


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> int:
    figures: dict = {"scale": SCALE, "latency_ms": LATENCY_MS, "load_average_at_start": _load()}
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-unzip-") as tmp:
        tmp = Path(tmp)
        cloud = launcher.start(tmp / "lc")
        try:
            auth = oss2.Auth(cloud.access_key_id, cloud.access_key_secret)
            bucket = oss2.Bucket(auth, cloud.oss_endpoint, f"bench-{uuid.uuid4().hex[:8]}")
            bucket.create_bucket()

            if PARTS & {"throughput", "resume"}:
                # 1. throughput vs unzip -d ------------------------------------------------
                mixed = tmp / "mixed.zip"
                uncompressed = write_mixed(mixed, int(500 * MB * SCALE), seed=1)
                bucket.put_object_from_file("in/mixed.zip", str(mixed))
                cloud.set_faults(latency_ms=LATENCY_MS)
                rounds = [_throughput_round(cloud, bucket, mixed, tmp) for _ in range(ROUNDS)]
                ours_mbs = median(uncompressed / MB / r["handler_seconds"] for r in rounds)
                cli_mbs = median(uncompressed / MB / r["unzip_cli_seconds"] for r in rounds)
                figures["throughput"] = {
                    "uncompressed_mb": round(uncompressed / MB, 1),
                    "archive_mb": round(mixed.stat().st_size / MB, 1),
                    "rounds": ROUNDS,
                    "handler_mb_per_s": round(ours_mbs, 1),
                    "unzip_cli_mb_per_s": round(cli_mbs, 1),
                    "ratio": round(ours_mbs / cli_mbs, 2),
                    "ratio_of_medians": "median handler MB/s over median unzip -d MB/s",
                    "round_ratios": [
                        round(r["unzip_cli_seconds"] / r["handler_seconds"], 2) for r in rounds
                    ],
                    "target_ratio": 1.0,
                    "round_details": rounds,
                }
                failed = sum(r["handler_run"]["totals"].get("failed", 0) for r in rounds)
                ok &= ours_mbs / cli_mbs >= 1.0 and failed == 0

                # 4. resume from 90% -----------------------------------------------------------
                info = zipfile.ZipFile(mixed).infolist()
                marker = int(len(info) * 0.9)
                resumed = extract_in_child(
                    cloud, bucket.bucket_name, "in/mixed.zip", {"marker": marker}
                )
                remaining = mixed.stat().st_size - info[marker].header_offset
                tail = min(mixed.stat().st_size, 65_557 + 76)
                figures["resume"] = {
                    "marker": marker,
                    "entries": len(info),
                    "bytes_remaining": remaining,
                    "bytes_read": resumed["totals"]["bytes_read"],
                    "ratio_read_vs_remaining": round(
                        resumed["totals"]["bytes_read"] / remaining, 4
                    ),
                    "allowance_for_directory_and_tail": tail,
                    "target": "<= 1.05x remaining + directory",
                }
                ok &= resumed["totals"]["bytes_read"] <= remaining * 1.05 + tail
                mixed.unlink()

            if "tiny" in PARTS:
                # 2. tiny entries vs sequential puts -------------------------------------------
                count = int(100_000 * SCALE)
                tiny = tmp / "tiny.zip"
                write_tiny(tiny, count)
                cloud.set_faults(latency_ms=0)
                bucket.put_object_from_file("in/tiny.zip", str(tiny))
                cloud.set_faults(latency_ms=LATENCY_MS)
                tiny_run = extract_in_child(
                    cloud, bucket.bucket_name, "in/tiny.zip", {"tuning": {"concurrency": 64}}
                )
                sample = min(300, count)
                started = time.perf_counter()
                for i in range(sample):
                    bucket.put_object(f"seq/t/{i:06d}.txt", b"entry %d\n" % i)
                seq_rate = sample / (time.perf_counter() - started)
                tiny_rate = count / tiny_run["seconds"]
                figures["tiny_entries"] = {
                    "entries": count,
                    "handler_entries_per_s": round(tiny_rate, 1),
                    "sequential_puts_per_s": round(seq_rate, 1),
                    "sequential_sample": sample,
                    "ratio": round(tiny_rate / seq_rate, 1),
                    "target_ratio": 20,
                    # the 200 MB target holds here too: 100,000 entries' plan and report lines
                    # in the handler, beside the page workers that upload them
                    "tree_peak_rss_mb": tiny_run["tree_peak_rss_mb"],
                    "tree_peak_pss_mb": tiny_run["tree_peak_pss_mb"],
                    "rss_target": "tree_peak_rss_mb < 200 (handler and its page workers)",
                    "handler_run": tiny_run,
                }
                ok &= tiny_rate / seq_rate >= 20 and tiny_run["tree_peak_rss_mb"] < 200
                tiny.unlink()

            if "memory" in PARTS:
                # 3. memory: 2 GB vs 200 MB archives -------------------------------------------
                cloud.set_faults(latency_ms=0)
                rss = {}
                for label, size in (("200MB", 200 * MB), ("2GB", 2048 * MB)):
                    path = tmp / f"rss-{label}.zip"
                    write_mixed(path, int(size * SCALE), seed=3)
                    bucket.put_object_from_file(f"in/rss-{label}.zip", str(path))
                    path.unlink()
                    rss[label] = extract_in_child(cloud, bucket.bucket_name, f"in/rss-{label}.zip")
                    bucket.delete_object(f"in/rss-{label}.zip")
                ratio = rss["2GB"]["tree_peak_rss_mb"] / rss["200MB"]["tree_peak_rss_mb"]
                figures["memory"] = {
                    "peak_rss_mb_200MB": rss["200MB"]["tree_peak_rss_mb"],
                    "peak_rss_mb_2GB": rss["2GB"]["tree_peak_rss_mb"],
                    "handler_vmhwm_mb_2GB": round(rss["2GB"]["peak_rss_mb"], 1),
                    "page_workers_2GB": rss["2GB"]["workers"],
                    "ratio": round(ratio, 2),
                    "target": "< 200 MB and ratio <= 1.3 (handler and its page workers)",
                }
                ok &= rss["2GB"]["tree_peak_rss_mb"] < 200 and ratio <= 1.3
        finally:
            cloud.stop()
    figures["load_average_at_end"] = _load()
    figures["all_targets_met"] = bool(ok)
    figures["parts"] = sorted(PARTS)
    write("unzip", figures)
    print(json.dumps(figures, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
