"""ObjectCreated notifications (in-process subscribers, as the local FC runtime uses them)."""

from __future__ import annotations

import asyncio
import queue
import threading
import time

import oss2
import pytest

from localcloud.config import LocalCloudConfig
from localcloud.server import LocalCloudServer


@pytest.fixture
def embedded(tmp_path):
    """localcloud in this process (a thread with its own loop), so tests can reach ctx.oss."""
    server = LocalCloudServer(LocalCloudConfig(data_dir=tmp_path))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.run(),), daemon=True)
    thread.start()
    assert server.ready.wait(20), "embedded localcloud did not start"
    yield server
    loop.call_soon_threadsafe(server.request_stop)
    thread.join(20)
    loop.close()


@pytest.fixture
def ebucket(embedded):
    c = embedded.config
    b = oss2.Bucket(
        oss2.Auth(c.access_key_id, c.access_key_secret),
        embedded.ctx.endpoints["oss_endpoint"],
        "events",
    )
    b.create_bucket()
    return b


def _collect(hub, **filters):
    received: queue.Queue = queue.Queue()
    sub_id = hub.subscribe(callback=received.put, **filters)
    return sub_id, received


def _drain(q, n, timeout=5.0):
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < deadline:
        try:
            out.append(q.get(timeout=0.1))
        except queue.Empty:
            pass
    return out


def test_put_copy_and_multipart_emit_fc_oss_trigger_events(embedded, ebucket):
    hub = embedded.ctx.oss.notifications
    _, got = _collect(hub, bucket="events", prefix="in/", suffix=".zip")
    ebucket.put_object("in/a.zip", b"zipbytes")
    ebucket.put_object("in/ignored.txt", b"x")  # suffix filter
    ebucket.put_object("out/b.zip", b"x")  # prefix filter
    ebucket.copy_object("events", "in/a.zip", "in/copy.zip")
    upload_id = ebucket.init_multipart_upload("in/mp.zip").upload_id
    part = ebucket.upload_part("in/mp.zip", upload_id, 1, b"part")
    ebucket.complete_multipart_upload("in/mp.zip", upload_id, [oss2.models.PartInfo(1, part.etag)])
    events = [e["events"][0] for e in _drain(got, 3)]
    assert [(e["eventName"], e["oss"]["object"]["key"]) for e in events] == [
        ("ObjectCreated:PutObject", "in/a.zip"),
        ("ObjectCreated:CopyObject", "in/copy.zip"),
        ("ObjectCreated:CompleteMultipartUpload", "in/mp.zip"),
    ]
    first = events[0]
    assert first["eventSource"] == "acs:oss"
    assert first["region"] == "cn-hangzhou"
    assert first["oss"]["bucket"]["name"] == "events"
    assert first["oss"]["bucket"]["arn"] == "acs:oss:cn-hangzhou:1000000000000001:events"
    assert first["oss"]["object"]["size"] == 8
    assert first["oss"]["object"]["eTag"] == ebucket.head_object("in/a.zip").etag
    assert first["responseElements"]["requestId"]
    assert _drain(got, 1, timeout=0.3) == []


def test_event_filter_and_unsubscribe(embedded, ebucket):
    hub = embedded.ctx.oss.notifications
    sub_id, got = _collect(
        hub, bucket="events", events=["oss:ObjectCreated:CompleteMultipartUpload"]
    )
    ebucket.put_object("k", b"x")
    assert _drain(got, 1, timeout=0.3) == []
    assert hub.unsubscribe(sub_id) is True
    assert hub.unsubscribe(sub_id) is False


def test_a_failing_or_slow_subscriber_never_blocks_requests(embedded, ebucket):
    hub = embedded.ctx.oss.notifications

    def slow_and_broken(event):
        time.sleep(0.6)
        raise RuntimeError("subscriber bug")

    hub.subscribe("events", callback=slow_and_broken)
    _, got = _collect(hub, bucket="events")
    started = time.monotonic()
    for i in range(5):
        ebucket.put_object(f"k{i}", b"x")
    assert time.monotonic() - started < 2.0  # blocked by the subscriber it would take >= 3 s
    assert len(_drain(got, 5, timeout=10)) == 5  # later subscribers still get every event
