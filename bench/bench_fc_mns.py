"""FC instance reuse and MNS throughput, measured side by side in one run.

- FC: a warm (reused) instance vs a cold one (a fresh worker process per call, what the
  runtime avoids); target: warm calls >= 10x faster and < 5 ms each in-process.
- FC over HTTP with the real SDK: warm sync invocations per second (reported).
- MNS with the real SDK: send + receive + delete round trips per second (target >= 200/s)
  and how fast a long poll returns once a message arrives (target < 100 ms).
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import record

HANDLER = "basic.echo"  # tests/fc_handlers is the code root


def _fc_figures(data_dir: Path) -> dict:
    from localcloud.fc.runtime import FcRuntime
    from tests.fc_handlers import CODE_ROOT

    runtime = FcRuntime(
        None,
        {"access_key_id": "a", "access_key_secret": "b", "security_token": ""},
        data_dir=data_dir,
        code_root=CODE_ROOT,
    )
    try:
        runtime.create_function({"name": "warm", "handler": HANDLER})
        runtime.invoke("warm", b"x")
        started = time.perf_counter()
        for _ in range(500):
            runtime.invoke("warm", b"x")
        warm_ms = (time.perf_counter() - started) / 500 * 1000
        runtime.create_function({"name": "cold", "handler": HANDLER})
        cold_total = 0.0
        for i in range(15):
            runtime.update_function("cold", environment_variables={"N": str(i)})  # new instance
            started = time.perf_counter()
            runtime.invoke("cold", b"x")
            cold_total += time.perf_counter() - started
        cold_ms = cold_total / 15 * 1000
        return {
            "fc_warm_invoke_ms": round(warm_ms, 3),
            "fc_cold_invoke_ms": round(cold_ms, 1),
            "fc_cold_over_warm": round(cold_ms / warm_ms, 1),
        }
    finally:
        runtime.close()


def _served(cloud) -> dict:
    from alibabacloud_fc20230330 import models as fc_models
    from alibabacloud_fc20230330.client import Client
    from alibabacloud_tea_openapi import models as open_api_models
    from mns.account import Account
    from mns.queue import Message, QueueMeta

    fc = Client(
        open_api_models.Config(
            access_key_id=cloud.access_key_id,
            access_key_secret=cloud.access_key_secret,
            endpoint=cloud.fc_endpoint.removeprefix("http://"),
            protocol="http",
            region_id=cloud.region,
        )
    )
    fc.create_function(
        fc_models.CreateFunctionRequest(
            body=fc_models.CreateFunctionInput(
                function_name="bench-echo", handler=HANDLER, runtime="python3.10"
            )
        )
    )
    request = fc_models.InvokeFunctionRequest(body=b"x")
    fc.invoke_function("bench-echo", request).body.read()
    started = time.perf_counter()
    for _ in range(200):
        fc.invoke_function("bench-echo", fc_models.InvokeFunctionRequest(body=b"x")).body.read()
    fc_http_rate = 200 / (time.perf_counter() - started)

    account = Account(cloud.mns_endpoint, cloud.access_key_id, cloud.access_key_secret)
    queue = account.get_queue("bench")
    queue.create(QueueMeta())
    started = time.perf_counter()
    for i in range(300):
        queue.send_message(Message(f"m{i}"))
        got = queue.receive_message(wait_seconds=1)
        queue.delete_message(got.receipt_handle)
    mns_rate = 300 / (time.perf_counter() - started)

    sent_at = {}

    def send_later():
        time.sleep(0.3)
        sent_at["t"] = time.perf_counter()
        Account(cloud.mns_endpoint, cloud.access_key_id, cloud.access_key_secret).get_queue(
            "bench"
        ).send_message(Message("wake"))

    wakes = []
    for _ in range(5):
        threading.Thread(target=send_later).start()
        queue.receive_message(wait_seconds=10)
        wakes.append((time.perf_counter() - sent_at["t"]) * 1000)
    return {
        "fc_http_sync_invocations_per_s": round(fc_http_rate, 1),
        "mns_send_receive_delete_per_s": round(mns_rate, 1),
        "mns_long_poll_wake_ms_max": round(max(wakes), 1),
    }


def main() -> int:
    from localcloud import launcher

    with tempfile.TemporaryDirectory(prefix="bench-fc-mns-") as tmp:
        figures = _fc_figures(Path(tmp) / "fc")
        cloud = launcher.start(Path(tmp) / "cloud")
        try:
            figures.update(_served(cloud))
        finally:
            cloud.stop()
    for key, value in figures.items():
        print(f"{key}: {value}")
    print(
        f"ratio: a warm FC instance answers {figures['fc_cold_over_warm']}x faster than a "
        "cold one (fresh worker process)"
    )
    record.write("fc_mns", figures)
    missed = []
    if figures["fc_cold_over_warm"] < 10 or figures["fc_warm_invoke_ms"] >= 5:
        missed.append("FC instance reuse")
    if figures["mns_send_receive_delete_per_s"] < 200:
        missed.append("MNS round trips")
    if figures["mns_long_poll_wake_ms_max"] >= 100:
        missed.append("MNS long poll wake-up")
    if missed:
        print("missed: " + ", ".join(missed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
