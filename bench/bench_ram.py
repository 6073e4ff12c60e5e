"""RAM enforcement cost: server CPU per small OSS request (HeadObject) signed with a role's
STS credentials, enforcement on vs off, measured side by side in one run.

The OSS app is driven in-process through its ASGI entry (no sockets, no uvicorn), so the
denominator is the emulator's own work per request only; the ratio is therefore an upper
bound of what enforcement adds to a request served over HTTP. Enforcement is toggled on the
RamService of this process (the bench never starts a localcloud without enforcement).
The role's policy has the shape of the fc-worker policy infra generates (8 statements).

Target (issue 10): enforcement adds < 10% CPU to a small request.
BENCH_RAM_REQUESTS sets the requests per block (default 3000; 9 blocks per mode).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import oss2

from bench import record
from localcloud.oss import Credentials, OssConfig, OssService
from localcloud.oss.app import OssApp
from localcloud.ram import RamService
from localcloud.ram.oss_access import RoleAwareAuthenticator

REQUESTS = int(os.environ.get("BENCH_RAM_REQUESTS", "3000"))
BLOCKS = 9
TARGET = 0.10
ACCOUNT = "1000000000000001"
OWNER = Credentials("LOCALCLOUDACCESSKEYID", "localcloud-access-key-secret", "", "cn-hangzhou")


def _worker_policy(bucket: str) -> str:
    def objects(b: str, prefix: str = "") -> str:
        return f"acs:oss:*:{ACCOUNT}:{b}/{prefix}*"

    statements = [
        (
            "oss:ListObjects",
            [f"acs:oss:*:{ACCOUNT}:{b}" for b in ("src", "arc", "pkg", "ext", "rep")],
        ),
        (["oss:GetObject", "oss:RestoreObject"], [objects("src"), objects("arc")]),
        (["oss:PutObject", "oss:AbortMultipartUpload", "oss:ListParts"], [objects("arc")]),
        ("oss:GetObject", [objects("pkg", "incoming/")]),
        ("oss:DeleteObject", [objects("pkg", "incoming/")]),
        (["oss:PutObject", "oss:GetObject"], [objects("ext", "out/")]),
        (["oss:PutObject", "oss:GetObject"], [objects("rep", "reports/")]),
        (["oss:GetObject"], [objects(bucket, "small/")]),
    ]
    return json.dumps(
        {
            "Version": "1",
            "Statement": [{"Effect": "Allow", "Action": a, "Resource": r} for a, r in statements],
        }
    )


def _scope(auth, bucket: str, key: str) -> dict:
    request = oss2.http.Request("HEAD", f"http://127.0.0.1/{bucket}/{key}")
    auth._sign_request(request, bucket, key)
    headers = [
        (k.lower().encode(), str(v).encode()) for k, v in request.headers.items() if v is not None
    ]
    path = f"/{bucket}/{key}"
    return {
        "type": "http",
        "method": "HEAD",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 1),
    }


async def _receive():
    return {"type": "http.request", "body": b"", "more_body": False}


async def _run(app, scope: dict, n: int) -> tuple[float, int]:
    statuses = []

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.process_time()
    for _ in range(n):
        await app(scope, _receive, send)
    return time.process_time() - started, statuses.count(200)


def measure() -> dict:
    data = Path(tempfile.mkdtemp(prefix="bench-ram-"))
    service = OssService(OssConfig(data_dir=data / "oss", credentials=OWNER, account_id=ACCOUNT))
    ram = RamService(data / "ram", ACCOUNT)
    service.auth = RoleAwareAuthenticator(service.auth, ram.sessions, ACCOUNT)
    app = OssApp(service)
    bucket, key = "bench", "small/object"
    owner_auth = oss2.Auth(OWNER.access_key_id, OWNER.access_key_secret)
    ram.create_role(
        "fc-worker",
        json.dumps(
            {
                "Version": "1",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"Service": ["fc.aliyuncs.com"]},
                    }
                ],
            }
        ),
    )
    ram.create_policy("fc-worker", _worker_policy(bucket))
    ram.attach_policy_to_role("Custom", "fc-worker", "fc-worker")
    session = ram.sessions.assume_role(f"acs:ram::{ACCOUNT}:role/fc-worker", "fc.aliyuncs.com")
    sts_auth = oss2.StsAuth(
        session.access_key_id, session.access_key_secret, session.security_token
    )
    loop = asyncio.new_event_loop()
    try:
        _create(loop, app, owner_auth, bucket, key)
        scopes = {"sts": _scope(sts_auth, bucket, key), "owner": _scope(owner_auth, bucket, key)}
        per_request = {"enforce_on": [], "enforce_off": [], "owner": []}
        for mode in per_request:  # warm up caches (compiled policy, v1 signer, SQLite pages)
            _mode_run(loop, app, ram, scopes, mode, 200)
        for _ in range(BLOCKS):  # interleaved blocks: drift hits every mode alike
            for mode in per_request:
                cpu, ok = _mode_run(loop, app, ram, scopes, mode, REQUESTS)
                assert ok == REQUESTS, f"{mode}: {ok}/{REQUESTS} answered 200"
                per_request[mode].append(cpu / REQUESTS)
    finally:
        loop.close()
        service.close()
        ram.close()
    med = {mode: statistics.median(v) for mode, v in per_request.items()}
    # each block measures on and off back to back: the median of their ratios resists the
    # load other processes put on this shared machine
    pairs = zip(per_request["enforce_on"], per_request["enforce_off"], strict=True)
    overhead = statistics.median(on / off - 1 for on, off in pairs)
    return {
        "requests_per_block": REQUESTS,
        "blocks": BLOCKS,
        "cpu_us_per_head_object": {m: round(v * 1e6, 2) for m, v in med.items()},
        "enforcement_overhead_ratio": round(overhead, 4),
        "sts_vs_owner_ratio": round(med["enforce_on"] / med["owner"] - 1, 4),
        "target_overhead": TARGET,
    }


def _mode_run(loop, app, ram, scopes, mode: str, n: int) -> tuple[float, int]:
    ram.enforce = mode != "enforce_off"
    try:
        return loop.run_until_complete(_run(app, scopes["owner" if mode == "owner" else "sts"], n))
    finally:
        ram.enforce = True


def _create(loop, app, auth, bucket: str, key: str) -> None:
    for method, path, body in (
        ("PUT", f"/{bucket}", b""),
        ("PUT", f"/{bucket}/{key}", b"x" * 1024),
    ):
        request = oss2.http.Request(method, f"http://127.0.0.1{path}", data=body)
        auth._sign_request(request, bucket, key if path.count("/") > 1 else "")
        headers = [
            (k.lower().encode(), str(v).encode())
            for k, v in request.headers.items()
            if v is not None
        ]
        headers.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "method": method,
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(b"host", b"127.0.0.1"), *headers],
            "client": ("127.0.0.1", 1),
        }
        statuses = []

        async def receive(body=body):
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message, statuses=statuses):
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        loop.run_until_complete(app(scope, receive, send))
        assert statuses == [200], f"{method} {path}: {statuses}"


def main() -> int:
    figures = measure()
    cpu = figures["cpu_us_per_head_object"]
    ratio = figures["enforcement_overhead_ratio"]
    print(
        f"HeadObject CPU per request: STS enforce on {cpu['enforce_on']} us, off "
        f"{cpu['enforce_off']} us, owner keys {cpu['owner']} us"
    )
    print(
        f"enforcement overhead: {ratio:+.1%} (target < {TARGET:.0%}); STS vs owner {figures['sts_vs_owner_ratio']:+.1%}"
    )
    print(f"wrote {record.write('ram', figures)}")
    return 0 if ratio < TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
