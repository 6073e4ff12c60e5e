"""MnsService semantics without HTTP: the in-process API the flow engine uses."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from localcloud.mns.errors import (
    InvalidArgument,
    InvalidQueueName,
    MessageNotExist,
    QueueNotExist,
    ReceiptHandleError,
)
from localcloud.mns.model import QueueAttributes, body_md5
from localcloud.mns.service import MnsService


@pytest.fixture
def mns(tmp_path):
    service = MnsService(tmp_path)
    yield service
    service.close()


def test_send_message_returns_an_id_and_the_body_is_stored_verbatim(mns):
    mns.create_queue("results")
    message_id = mns.send_message("results", '{"job": "unzip"}')
    (got,) = mns.receive("results")
    assert got.message_id == message_id
    assert got.body == '{"job": "unzip"}' and got.body_md5 == body_md5('{"job": "unzip"}')


def test_send_to_a_missing_queue_names_the_queue(mns):
    with pytest.raises(QueueNotExist, match="nowhere"):
        mns.send_message("nowhere", "x")


@pytest.mark.parametrize("name", ["", "1abc", "has_underscore", "x" * 257, "a b"])
def test_invalid_queue_names(mns, name):
    with pytest.raises(InvalidQueueName):
        mns.create_queue(name)


def test_attribute_ranges_are_checked():
    with pytest.raises(InvalidArgument, match="VisibilityTimeout"):
        QueueAttributes(visibility_timeout=0)
    with pytest.raises(InvalidArgument, match="PollingWaitSeconds"):
        QueueAttributes.from_elements({"PollingWaitSeconds": "31"})
    with pytest.raises(InvalidArgument, match="LoggingEnabled"):
        QueueAttributes.from_elements({"LoggingEnabled": "maybe"})


def test_blocking_receive_wakes_when_a_message_is_sent_from_another_thread(mns):
    mns.create_queue("wake")
    threading.Timer(0.3, mns.send_message, args=("wake", "hi")).start()
    started = time.monotonic()
    (got,) = mns.receive_message("wake", wait_seconds=10)
    assert got.body == "hi" and time.monotonic() - started < 2


def test_async_receive_wakes_when_a_thread_sends(mns):
    mns.create_queue("awake")

    async def poll():
        threading.Timer(0.3, mns.send_message, args=("awake", "async hi")).start()
        started = time.monotonic()
        messages = await mns.receive_async("awake", 1, 10)
        return messages, time.monotonic() - started

    messages, elapsed = asyncio.run(poll())
    assert messages[0].body == "async hi" and elapsed < 2


def test_receive_with_zero_wait_returns_nothing_at_once(mns):
    mns.create_queue("empty")
    started = time.monotonic()
    assert mns.receive_message("empty", wait_seconds=0) == []
    assert time.monotonic() - started < 0.5


def test_invisible_message_comes_back_with_a_higher_dequeue_count(mns):
    mns.create_queue("vis", QueueAttributes(visibility_timeout=1))
    mns.send_message("vis", "m")
    (first,) = mns.receive("vis")
    assert mns.receive("vis") == []
    (second,) = mns.receive_message("vis", wait_seconds=5)
    assert second.dequeue_count == first.dequeue_count + 1
    with pytest.raises(ReceiptHandleError):
        mns.delete_message("vis", first.receipt_handle)
    mns.delete_message("vis", second.receipt_handle)
    with pytest.raises(MessageNotExist):
        mns.delete_message("vis", second.receipt_handle)


def test_queue_default_delay_applies_when_the_message_has_none(mns):
    mns.create_queue("delayed", QueueAttributes(delay_seconds=1))
    mns.send_message("delayed", "later")
    assert mns.get_queue("delayed").delay_messages == 1
    assert mns.receive("delayed") == []
    assert mns.receive_message("delayed", wait_seconds=5)[0].body == "later"
    mns.send_message("delayed", "now", delay_seconds=0)
    assert mns.receive("delayed")[0].body == "now"


def test_batch_delete_reports_each_bad_handle(mns):
    mns.create_queue("batch")
    for i in range(3):
        mns.send_message("batch", f"m{i}")
    got = mns.receive("batch", 16)
    errors = mns.delete_messages("batch", [got[0].receipt_handle, "zz", got[1].receipt_handle])
    assert [(h, type(e).__name__) for h, e in errors] == [("zz", "ReceiptHandleError")]
    assert len(mns.peek("batch", 16)) == 0  # the third is still invisible


def test_expired_messages_are_dropped(mns):
    mns.create_queue("short", QueueAttributes(message_retention_period=60))
    mns.send_message("short", "old")
    # age the message past its retention period
    with mns._store.transaction() as db:
        db.db.execute("UPDATE messages SET expires_at = 0")
    assert mns.receive("short") == []
    assert mns.get_queue("short").active_messages == 0


def test_deleting_a_queue_deletes_its_messages(mns):
    mns.create_queue("gone")
    mns.send_message("gone", "x")
    mns.delete_queue("gone")
    mns.create_queue("gone")
    assert mns.receive("gone") == []


def test_counters_show_sent_received_redelivered_deleted(mns):
    mns.create_queue("counted", QueueAttributes(visibility_timeout=1))
    mns.send_message("counted", "a")
    mns.receive("counted")
    (again,) = mns.receive_message("counted", wait_seconds=5)
    mns.delete_message("counted", again.receipt_handle)
    assert mns.counters_snapshot()["queues"]["counted"] == {
        "sent": 1,
        "received": 2,
        "redelivered": 1,
        "deleted": 1,
    }
    mns.reset_counters()
    assert mns.counters_snapshot() == {"queues": {}}
