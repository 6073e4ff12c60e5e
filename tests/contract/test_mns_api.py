"""MNS queues through the real aliyun-mns-sdk (Account("http://127.0.0.1:PORT", ak, sk))."""

from __future__ import annotations

import base64
import hashlib
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from mns.account import Account
from mns.mns_exception import MNSServerException
from mns.queue import Message, QueueMeta

from localcloud.mns.api import build_app
from localcloud.mns.service import MnsService

sys.path.insert(0, str(Path(__file__).parent))
from fc_server import ServedApp  # noqa: E402

# the SDK deprecates the message counters of get_attributes; they still work
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CREDENTIALS = {"access_key_id": "LTAImns", "access_key_secret": "mns-secret", "security_token": ""}


class MnsServer:
    def __init__(self, data_dir: Path):
        self.service = MnsService(data_dir)
        self.served = ServedApp(build_app(self.service, CREDENTIALS))
        self.url = self.served.url

    def account(
        self, secret=CREDENTIALS["access_key_secret"], key_id=CREDENTIALS["access_key_id"]
    ) -> Account:
        return Account(self.url, key_id, secret)

    def stop(self) -> None:
        self.served.stop()
        self.service.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = MnsServer(tmp_path_factory.mktemp("mns"))
    yield server
    server.stop()


@pytest.fixture
def account(server):
    return server.account()


def new_queue(account, visibility_timeout: int | None = None, delay_seconds: int | None = None):
    queue = account.get_queue(f"q-{uuid.uuid4().hex[:12]}")
    meta = QueueMeta()
    if visibility_timeout is not None:
        meta.set_visibilitytimeout(visibility_timeout)
    if delay_seconds is not None:
        meta.set_delay_seconds(delay_seconds)
    queue.create(meta)
    return queue


def error_of(call) -> MNSServerException:
    with pytest.raises(MNSServerException) as caught:
        call()
    return caught.value


def test_create_get_attributes_list_and_delete_queue(account):
    queue = new_queue(account, visibility_timeout=45)
    attributes = queue.get_attributes()
    assert attributes.queue_name == queue.queue_name
    assert attributes.visibility_timeout == 45
    assert attributes.maximum_message_size == 65536 and attributes.delay_seconds == 0
    urls, _ = account.list_queue(prefix=queue.queue_name)
    assert [u.rsplit("/", 1)[1] for u in urls] == [queue.queue_name]
    queue.delete()
    assert error_of(queue.get_attributes).type == "QueueNotExist"


def test_creating_an_existing_queue_with_other_attributes_is_a_conflict(account):
    queue = new_queue(account, visibility_timeout=30)
    same = QueueMeta()
    same.set_visibilitytimeout(30)
    queue.create(same)  # same attributes: fine, as on MNS
    other = QueueMeta()
    other.set_visibilitytimeout(99)
    assert error_of(lambda: queue.create(other)).type == "QueueAlreadyExist"


def test_set_queue_attributes(account):
    queue = new_queue(account)
    meta = QueueMeta()
    meta.set_polling_wait_seconds(5)
    queue.set_attributes(meta)
    assert queue.get_attributes().polling_wait_seconds == 5


def test_list_queues_pages_with_markers(account):
    prefix = f"page-{uuid.uuid4().hex[:8]}-"
    for i in range(5):
        account.get_queue(f"{prefix}{i}").create(QueueMeta())
    names, marker = [], ""
    while True:
        urls, marker = account.list_queue(prefix=prefix, ret_number=2, marker=marker)
        names += [u.rsplit("/", 1)[1] for u in urls]
        if not marker:
            break
    assert names == [f"{prefix}{i}" for i in range(5)]


def test_send_and_receive_base64_body_with_md5(account):
    queue = new_queue(account)
    body = "unzip done: 中文 & <xml> chars"
    sent = queue.send_message(Message(body))
    encoded = base64.b64encode(body.encode()).decode()
    assert sent.message_body_md5 == hashlib.md5(encoded.encode()).hexdigest().upper()
    got = queue.receive_message(wait_seconds=1)
    assert got.message_body.decode() == body
    assert got.message_id == sent.message_id
    assert got.dequeue_count == 1 and got.priority == 8
    assert got.next_visible_time > got.enqueue_time


def test_raw_string_bodies_without_base64(account):
    queue = new_queue(account)
    queue.set_encoding(False)
    queue.send_message(Message('{"job": "unzip", "ok": true}'))
    assert queue.receive_message_with_str_body(wait_seconds=1).message_body == (
        '{"job": "unzip", "ok": true}'
    )


def test_batch_send_and_batch_receive(account):
    queue = new_queue(account)
    sent = queue.batch_send_message([Message(f"m{i}") for i in range(5)])
    assert len({m.message_id for m in sent}) == 5
    got = queue.batch_receive_message(16, wait_seconds=1)
    assert sorted(m.message_body.decode() for m in got) == [f"m{i}" for i in range(5)]
    queue.batch_delete_message([m.receipt_handle for m in got])
    assert error_of(lambda: queue.receive_message(wait_seconds=0)).type == "MessageNotExist"


def test_empty_queue_receive_is_message_not_exist(account):
    queue = new_queue(account)
    started = time.monotonic()
    assert error_of(lambda: queue.receive_message(wait_seconds=1)).type == "MessageNotExist"
    assert time.monotonic() - started >= 0.9


def test_long_poll_returns_as_soon_as_a_message_arrives(server, account):
    queue = new_queue(account)

    def send_later():
        time.sleep(0.5)
        server.account().get_queue(queue.queue_name).send_message(Message("arrived"))

    threading.Thread(target=send_later).start()
    started = time.monotonic()
    got = queue.receive_message(wait_seconds=20)
    assert got.message_body == b"arrived"
    assert time.monotonic() - started < 3


def test_a_long_poll_does_not_block_other_clients(server, account):
    idle = new_queue(account)
    busy = new_queue(account)
    poller = threading.Thread(
        target=lambda: pytest.raises(
            MNSServerException, server.account().get_queue(idle.queue_name).receive_message, 3
        )
    )
    poller.start()
    time.sleep(0.2)
    started = time.monotonic()
    busy.send_message(Message("x"))
    assert busy.receive_message(wait_seconds=0).message_body == b"x"
    assert time.monotonic() - started < 1
    poller.join()


def test_visibility_timeout_expiry_redelivers_with_dequeue_count_plus_one(account):
    queue = new_queue(account, visibility_timeout=1)
    queue.send_message(Message("again"))
    first = queue.receive_message(wait_seconds=1)
    assert error_of(lambda: queue.receive_message(wait_seconds=0)).type == "MessageNotExist"
    second = queue.receive_message(wait_seconds=5)
    assert second.message_id == first.message_id
    assert second.dequeue_count == first.dequeue_count + 1
    assert second.first_dequeue_time == first.first_dequeue_time
    assert second.receipt_handle != first.receipt_handle
    # the old handle is stale now
    assert error_of(lambda: queue.delete_message(first.receipt_handle)).type == (
        "ReceiptHandleError"
    )
    queue.delete_message(second.receipt_handle)


def test_change_visibility_returns_a_new_handle(account):
    queue = new_queue(account, visibility_timeout=60)
    queue.send_message(Message("v"))
    got = queue.receive_message(wait_seconds=1)
    changed = queue.change_message_visibility(got.receipt_handle, 0)
    assert changed.receipt_handle != got.receipt_handle
    again = queue.receive_message(wait_seconds=2)
    assert again.dequeue_count == 2
    assert error_of(lambda: queue.change_message_visibility(changed.receipt_handle, 5)).type == (
        "ReceiptHandleError"
    )


def test_delay_seconds_hold_a_message_back(account):
    queue = new_queue(account)
    queue.send_message(Message("later", delay_seconds=1))
    assert error_of(lambda: queue.receive_message(wait_seconds=0)).type == "MessageNotExist"
    assert queue.get_attributes().delay_messages == 1
    started = time.monotonic()
    assert queue.receive_message(wait_seconds=5).message_body == b"later"
    assert 0.5 < time.monotonic() - started < 3


def test_priority_orders_visible_messages(account):
    queue = new_queue(account)
    queue.send_message(Message("low", priority=16))
    queue.send_message(Message("high", priority=1))
    got = queue.batch_receive_message(2, wait_seconds=1)
    assert [m.message_body for m in got] == [b"high", b"low"]


def test_peek_does_not_take_the_message(account):
    queue = new_queue(account)
    queue.send_message(Message("peeked"))
    assert queue.peek_message().message_body == b"peeked"
    assert queue.receive_message(wait_seconds=0).dequeue_count == 1


def test_malformed_receipt_handles_are_receipt_handle_error(account):
    queue = new_queue(account)
    assert error_of(lambda: queue.delete_message("not-a-handle")).type == "ReceiptHandleError"


def test_unknown_queue_is_queue_not_exist(account):
    queue = account.get_queue("no-such-queue")
    assert error_of(lambda: queue.send_message(Message("x"))).type == "QueueNotExist"
    assert error_of(lambda: queue.receive_message(wait_seconds=0)).type == "QueueNotExist"


def test_out_of_range_values_are_invalid_argument(account):
    queue = new_queue(account)
    assert error_of(lambda: queue.send_message(Message("x", priority=17))).type == (
        "InvalidArgument"
    )
    too_big = "x" * 70000
    queue.set_encoding(False)
    assert error_of(lambda: queue.send_message(Message(too_big))).type == "InvalidArgument"


def test_wrong_secret_is_signature_does_not_match(server):
    bad = server.account(secret="wrong").get_queue("any")
    err = error_of(bad.get_attributes)
    assert err.type == "SignatureDoesNotMatch"


def test_unknown_access_key_is_refused(server):
    err = error_of(server.account(key_id="LTAIother").get_queue("any").get_attributes)
    assert err.type == "InvalidAccessKeyId"


def _signed(server, method: str, path: str, body: bytes = b"", content_type="") -> dict:
    from email.utils import formatdate

    from localcloud.mns import auth

    headers = {"date": formatdate(usegmt=True), "x-mns-version": "2015-06-06"}
    if body:
        headers["content-md5"] = base64.b64encode(hashlib.md5(body).hexdigest().encode()).decode()
        headers["content-type"] = content_type or "text/xml;charset=UTF-8"
    signature = auth.sign(
        CREDENTIALS["access_key_secret"], auth.string_to_sign(method, headers, path)
    )
    headers["authorization"] = f"MNS {CREDENTIALS['access_key_id']}:{signature}"
    return headers


@pytest.mark.parametrize(
    "body",
    [
        b"<Message><MessageBody>unclosed",
        b"not xml at all",
        b"<Wrong><MessageBody>x</MessageBody></Wrong>",
        b'<!DOCTYPE x [<!ENTITY a "aaaa">]><Message><MessageBody>&a;</MessageBody></Message>',
        b"<Message><DelaySeconds>1</DelaySeconds></Message>",
        b"<Message><MessageBody>x</MessageBody><Priority>high</Priority></Message>",
    ],
)
def test_hostile_xml_bodies_get_mns_xml_errors(server, account, body):
    queue = new_queue(account)
    path = f"/queues/{queue.queue_name}/messages"
    response = requests.post(
        server.url + path, data=body, headers=_signed(server, "POST", path, body)
    )
    assert response.status_code == 400
    assert b"<Code>" in response.content and response.headers["x-mns-request-id"]
    assert (
        response.content.count(b"<Code>MalformedXML</Code>")
        + response.content.count(b"<Code>InvalidArgument</Code>")
        == 1
    )


def test_a_tampered_body_fails_the_digest_check(server, account):
    queue = new_queue(account)
    path = f"/queues/{queue.queue_name}/messages"
    body = b"<Message><MessageBody>original</MessageBody></Message>"
    headers = _signed(server, "POST", path, body)
    response = requests.post(
        server.url + path, data=body.replace(b"original", b"tampered"), headers=headers
    )
    assert response.status_code == 400 and b"InvalidDegist" in response.content


def test_unsigned_and_stale_requests_are_refused(server):
    assert requests.get(server.url + "/queues").status_code == 400
    headers = _signed(server, "GET", "/queues")
    headers["date"] = "Mon, 01 Jan 2001 00:00:00 GMT"
    response = requests.get(server.url + "/queues", headers=headers)
    assert response.status_code in (403, 408)


def test_queues_and_messages_survive_restart(tmp_path):
    first = MnsServer(tmp_path)
    queue = first.account().get_queue("durable")
    meta = QueueMeta()
    meta.set_visibilitytimeout(1)
    queue.create(meta)
    queue.send_message(Message("kept"))
    taken = queue.receive_message(wait_seconds=1)
    first.stop()
    second = MnsServer(tmp_path)
    try:
        queue = second.account().get_queue("durable")
        assert queue.get_attributes().visibility_timeout == 1
        again = queue.receive_message(wait_seconds=5)
        assert (again.message_id, again.dequeue_count) == (taken.message_id, 2)
    finally:
        second.stop()
