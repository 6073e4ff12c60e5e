"""OSS emulator benchmark: small Put/Get/Copy req/s with oss2 (1 and 32 client threads), side by side
with boto3 against moto's S3 server doing the same operations; peak server RSS streaming 2 GB.

Targets (issue 2): >= 1,000 small req/s at 32 threads on this 2-core machine, >= 3x moto's rate,
peak server RSS < 100 MB while a 2 GB object streams in and out.

Clients run in a pool of processes (threads inside each) so the client side is not starved by
one GIL; the servers are separate processes. `python -m bench bench_oss` runs it;
BENCH_OSS_SECONDS / BENCH_OSS_BIG_MB shorten it for a quick look.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

SECONDS = float(os.environ.get("BENCH_OSS_SECONDS", "5"))
BIG_MB = int(os.environ.get("BENCH_OSS_BIG_MB", "2048"))
PLAIN_CLIENT = os.environ.get("BENCH_OSS_PLAIN_CLIENT") == "1"
SMALL = b"x" * 1024
OBJECTS = 64
OPS = ("put", "get", "copy")
THREADS = (1, 32)
CLIENT_PROCS = 4  # 32 threads = 4 processes x 8 threads
TARGET_RPS = 1000.0
TARGET_RATIO = 3.0
TARGET_RSS_MB = 100.0


# --- clients (run inside worker processes) ------------------------------------------------------
def _oss_client(target: dict):
    """oss2 built by ossbatch's handlers (handlers/clients.py): oss2 over urllib3 without
    requests, uploads checked by CRC-64, CopyObject answers drained so the connection is reused.
    BENCH_OSS_PLAIN_CLIENT=1 measures oss2's defaults instead."""
    import oss2

    from handlers.clients import Credentials, OssClients, put_verified
    from handlers.retrying import RetryPolicy

    if PLAIN_CLIENT:
        auth = oss2.Auth(target["ak"], target["sk"])
        bucket = oss2.Bucket(auth, target["endpoint"], target["bucket"])

        def put(name):
            bucket.put_object(name, SMALL)
    else:
        clients = OssClients(target["endpoint"], Credentials(target["ak"], target["sk"]))
        bucket = clients.bucket(target["bucket"])
        retry = RetryPolicy()

        def put(name):
            put_verified(bucket, retry, name, SMALL)

    def get(name):
        bucket.get_object(f"obj-{hash(name) % OBJECTS}").read()

    def copy(name):
        result = bucket.copy_object(target["bucket"], f"obj-{hash(name) % OBJECTS}", name)
        if not PLAIN_CLIENT:
            result.resp.read()

    return {"put": put, "get": get, "copy": copy}


def _s3_client(target: dict):
    import boto3
    from botocore.config import Config

    s3 = boto3.client(
        "s3",
        endpoint_url=target["endpoint"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(max_pool_connections=64, retries={"max_attempts": 1}),
    )
    b = target["bucket"]

    def put(name):
        s3.put_object(Bucket=b, Key=name, Body=SMALL)

    def get(name):
        s3.get_object(Bucket=b, Key=f"obj-{hash(name) % OBJECTS}")["Body"].read()

    def copy(name):
        s3.copy_object(
            Bucket=b, Key=name, CopySource={"Bucket": b, "Key": f"obj-{hash(name) % OBJECTS}"}
        )

    return {"put": put, "get": get, "copy": copy}


def _worker(args) -> tuple[int, int, float]:
    kind, target, op, threads, start_at, seconds, tag = args
    make = _oss_client if kind == "oss" else _s3_client
    counts, errors = [0] * threads, [0] * threads
    cpu = [0.0, 0.0]

    def run(i: int) -> None:
        fn = make(target)[op]
        while time.time() < start_at:  # every process starts its clock together
            time.sleep(0.001)
        end = start_at + seconds
        n = 0
        while time.time() < end:
            try:
                fn(f"{op}-{tag}-{i}-{n}")
                counts[i] += 1
            except Exception:
                errors[i] += 1
            n += 1

    def cpu_clock() -> None:
        while time.time() < start_at:
            time.sleep(0.001)
        cpu[0] = time.process_time()
        time.sleep(seconds)
        cpu[1] = time.process_time()

    ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    ts.append(threading.Thread(target=cpu_clock))
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(counts), sum(errors), cpu[1] - cpu[0]


def _cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def measure(
    pool, kind: str, target: dict, op: str, threads: int, seconds: float, server_pid: int
) -> dict:
    procs = 1 if threads == 1 else CLIENT_PROCS
    per = max(1, threads // procs)
    start_at = time.time() + 1.5  # clients build their sessions before the clock starts
    jobs = [(kind, target, op, per, start_at, seconds, f"{kind}{p}{threads}") for p in range(procs)]
    server = psutil.Process(server_pid)
    pending = pool.map_async(_worker, jobs)
    time.sleep(max(0.0, start_at - time.time()))
    cpu_before = _cpu_seconds(server)
    results = pending.get()
    cpu_used = _cpu_seconds(server) - cpu_before
    ok = sum(r[0] for r in results)
    failed = sum(r[1] for r in results)
    client_cpu = sum(r[2] for r in results)
    server_ms = 1000 * cpu_used / max(ok, 1)
    client_ms = 1000 * client_cpu / max(ok, 1)
    return {
        "ops": ok,
        "errors": failed,
        "req_per_s": round(ok / seconds, 1),
        # CPU spent per request by the server and by the SDK client: independent of machine load
        "server_cpu_ms_per_req": round(server_ms, 3),
        "client_cpu_ms_per_req": round(client_ms, 3),
        # what the cores could do if nothing else ran: cores / (client + server CPU per request)
        "cpu_bound_ceiling_req_per_s": round(
            1000 * (os.cpu_count() or 1) / max(server_ms + client_ms, 0.001), 1
        ),
    }


# --- servers --------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, endpoint
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("moto_server did not start")


def prepare_oss(cloud) -> dict:
    import oss2

    target = {
        "ak": cloud.access_key_id,
        "sk": cloud.access_key_secret,
        "endpoint": cloud.oss_endpoint,
        "bucket": "bench",
    }
    b = oss2.Bucket(oss2.Auth(target["ak"], target["sk"]), target["endpoint"], "bench")
    b.create_bucket()
    for i in range(OBJECTS):
        b.put_object(f"obj-{i}", SMALL)
    return target


def prepare_moto(endpoint: str) -> dict:
    target = {"endpoint": endpoint, "bucket": "bench"}
    client = _s3_client(target)
    import boto3

    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket="bench")
    for i in range(OBJECTS):
        client["put"](f"obj-{i}")
    return target


class RssSampler:
    """Peak RSS of a process (and its children) sampled every 20 ms."""

    def __init__(self, pid: int):
        self.proc = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rss = self.proc.memory_info().rss + sum(
                    c.memory_info().rss for c in self.proc.children(recursive=True)
                )
                self.peak = max(self.peak, rss)
            except psutil.Error:
                pass
            time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def big_object_rss(cloud, size_mb: int) -> dict:
    """Stream a size_mb object up and down through oss2; peak RSS of the localcloud process."""
    import oss2

    b = oss2.Bucket(
        oss2.Auth(cloud.access_key_id, cloud.access_key_secret), cloud.oss_endpoint, "bench"
    )
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "big.bin"
        with open(src, "wb") as f:  # sparse: no disk and no memory on the client side
            f.truncate(size_mb * 1024 * 1024)
        baseline = psutil.Process(cloud.process.pid).memory_info().rss
        with RssSampler(cloud.process.pid) as sampler:
            t0 = time.monotonic()
            b.put_object_from_file("big", str(src))
            t_put = time.monotonic() - t0
            t0 = time.monotonic()
            result = b.get_object("big")
            n = 0
            for chunk in result:
                n += len(chunk)
            t_get = time.monotonic() - t0
        assert n == size_mb * 1024 * 1024
        b.delete_object("big")
    return {
        "object_mb": size_mb,
        "server_rss_baseline_mb": round(baseline / 2**20, 1),
        "server_rss_peak_mb": round(sampler.peak / 2**20, 1),
        "put_mb_per_s": round(size_mb / t_put, 1),
        "get_mb_per_s": round(size_mb / t_get, 1),
    }


def main() -> int:
    from bench import record
    from localcloud import launcher

    cloud = launcher.start(None)
    moto_proc, moto_endpoint = start_moto()
    figures: dict = {
        "oss2_client": "defaults"
        if PLAIN_CLIENT
        else "as handlers/clients.py (LeanSession over urllib3, Content-MD5, copy bodies drained)",
        "seconds_per_case": SECONDS,
        "client_processes_at_32": CLIENT_PROCS,
        "object_bytes": len(SMALL),
        "rates": {},
    }
    failed = []
    try:
        oss_target = prepare_oss(cloud)
        moto_target = prepare_moto(moto_endpoint)
        ctx = mp.get_context("fork")
        with ctx.Pool(CLIENT_PROCS) as pool:
            for threads in THREADS:
                for op in OPS:
                    ours = measure(pool, "oss", oss_target, op, threads, SECONDS, cloud.process.pid)
                    theirs = measure(pool, "moto", moto_target, op, threads, SECONDS, moto_proc.pid)
                    ratio = ours["req_per_s"] / max(theirs["req_per_s"], 0.1)
                    cpu_ratio = theirs["server_cpu_ms_per_req"] / max(
                        ours["server_cpu_ms_per_req"], 0.001
                    )
                    figures["rates"][f"{op}@{threads}"] = {
                        "localcloud_oss2": ours,
                        "moto_boto3": theirs,
                        "ratio": round(ratio, 2),
                        "server_cpu_ratio": round(cpu_ratio, 2),
                    }
                    print(
                        f"{op:>4} @{threads:>2} threads: localcloud+oss2 {ours['req_per_s']:>7.1f} req/s "
                        f"(CPU/req server {ours['server_cpu_ms_per_req']:.2f} ms + oss2 "
                        f"{ours['client_cpu_ms_per_req']:.2f} ms, errors {ours['errors']}) | "
                        f"moto+boto3 {theirs['req_per_s']:>7.1f} req/s (server {theirs['server_cpu_ms_per_req']:.2f}"
                        f" ms + boto3 {theirs['client_cpu_ms_per_req']:.2f} ms, errors {theirs['errors']}) | "
                        f"ratio {ratio:.2f}x, server CPU {cpu_ratio:.1f}x less",
                        flush=True,
                    )
                    if threads == 32:
                        if ours["req_per_s"] < TARGET_RPS:
                            failed.append(f"{op}@32 {ours['req_per_s']} req/s < {TARGET_RPS}")
                        if ratio < TARGET_RATIO:
                            failed.append(f"{op}@32 ratio {ratio:.2f} < {TARGET_RATIO}")
                    if ours["errors"]:
                        failed.append(f"{op}@{threads}: {ours['errors']} localcloud errors")
        moto_proc.terminate()
        moto_proc.wait(30)
        big = big_object_rss(cloud, BIG_MB)
        figures["big_object"] = big
        print(
            f"{BIG_MB} MB object: server RSS peak {big['server_rss_peak_mb']} MB "
            f"(baseline {big['server_rss_baseline_mb']} MB); put {big['put_mb_per_s']} MB/s, "
            f"get {big['get_mb_per_s']} MB/s",
            flush=True,
        )
        if big["server_rss_peak_mb"] >= TARGET_RSS_MB:
            failed.append(f"peak RSS {big['server_rss_peak_mb']} MB >= {TARGET_RSS_MB}")
    finally:
        if moto_proc.poll() is None:
            moto_proc.kill()
        cloud.stop()
        import shutil

        shutil.rmtree(cloud.data_dir, ignore_errors=True)
    figures["load_average_1m_at_end"] = os.getloadavg()[0]  # other work on the machine skews req/s
    figures["targets"] = {
        "req_per_s_at_32": TARGET_RPS,
        "ratio_vs_moto": TARGET_RATIO,
        "rss_mb": TARGET_RSS_MB,
    }
    figures["missed"] = failed
    path = record.write("bench_oss", figures)
    print(f"figures written to {path}")
    for miss in failed:
        print("MISSED:", miss)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
