"""Property tests for the MNS wire format: whatever the body, parse or a clean MNS error;
and what we render, the SDK's own decoders read back."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st
from mns.mns_xml_handler import (
    BatchRecvMessageDecoder,
    MessageEncoder,
    MessagesEncoder,
    RecvMessageDecoder,
)
from mns.queue import Message as SdkMessage

from localcloud.mns import xmlwire
from localcloud.mns.errors import MnsError
from localcloud.mns.model import Message, body_md5

xml_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=200
)


@given(st.binary(max_size=300))
def test_any_bytes_parse_or_raise_an_mns_error(body):
    for parse in (
        xmlwire.parse_message,
        xmlwire.parse_messages,
        xmlwire.parse_receipt_handles,
        xmlwire.parse_queue_attributes,
    ):
        try:
            parse(body)
        except MnsError:
            pass


class _Req:
    def __init__(self, body, base64encode):
        self.message_body = body
        self.base64encode = base64encode
        self.delay_seconds = -1
        self.priority = -1
        self.message_group_id = ""


@given(xml_text, st.booleans())
def test_the_sdk_encoding_of_any_body_parses_back(body, use_base64):
    wire = MessageEncoder.encode(_Req(body, use_base64))
    parsed, delay, priority = xmlwire.parse_message(wire)
    expected = base64.b64encode(body.encode()).decode() if use_base64 else body
    assert parsed.replace("\r", "") == expected.replace("\r", "")
    assert (delay, priority) == (None, None)


@given(st.lists(xml_text, min_size=1, max_size=16))
def test_sdk_batches_parse_back(bodies):
    wire = MessagesEncoder.encode([SdkMessage(b) for b in bodies], True)
    parsed = xmlwire.parse_messages(wire)
    assert [p[0] for p in parsed] == [base64.b64encode(b.encode()).decode() for b in bodies]


@given(st.binary(min_size=1, max_size=300))
def test_rendered_messages_decode_in_the_sdk(raw):
    body = base64.b64encode(raw).decode()
    message = Message(7, "ID", body, body_md5(body), 3, 1000, 2000, 2, 3000, "7-0123456789abcdef")
    single = RecvMessageDecoder.decode(xmlwire.received(message).decode(), True)
    assert single["MessageBody"] == raw and single["ReceiptHandle"] == message.receipt_handle
    (entry,) = BatchRecvMessageDecoder.decode(xmlwire.received_batch([message]).decode(), True)
    assert entry.message_body == raw and entry.dequeue_count == 2
