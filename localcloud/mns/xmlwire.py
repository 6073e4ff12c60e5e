"""MNS XML: parse request bodies (with or without the MNS namespace) and render answers."""

from __future__ import annotations

from xml.etree import ElementTree
from xml.sax.saxutils import escape

from .errors import InvalidArgument, MalformedXML
from .model import Message
from .service import QueueInfo

XMLNS = "http://mns.aliyuncs.com/doc/v1/"
_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
MAX_BODY = 2 * 1024 * 1024  # 16 messages of 64 KB, base64-grown, with room for the XML


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_root(body: bytes, expected: str) -> ElementTree.Element:
    """Parse a request document whose root must be `expected` (namespace optional)."""
    if len(body) > MAX_BODY:
        raise InvalidArgument(f"request body exceeds {MAX_BODY} bytes")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise MalformedXML("The XML you provided was not well-formed: DTDs are not accepted.")
    try:
        root = ElementTree.fromstring(body)
    except (ElementTree.ParseError, ValueError) as exc:
        raise MalformedXML(f"The XML you provided was not well-formed: {exc}") from None
    if _local(root.tag) != expected:
        raise InvalidArgument(
            f"The XML you provided did not validate against our published schema: "
            f"root element must be {expected}, got {_local(root.tag)}"
        )
    return root


def child_texts(element: ElementTree.Element) -> dict[str, str]:
    """Child element name -> its text ('' when empty)."""
    return {_local(child.tag): child.text or "" for child in element}


def children(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [child for child in element if _local(child.tag) == name]


def parse_queue_attributes(body: bytes) -> dict[str, str]:
    if not body.strip():
        return {}
    return child_texts(parse_root(body, "Queue"))


def _message_fields(texts: dict[str, str]) -> tuple[str, int | None, int | None]:
    def optional_int(name: str) -> int | None:
        raw = texts.get(name)
        if raw is None or raw.strip() == "":
            return None
        try:
            return int(raw.strip())
        except ValueError:
            raise InvalidArgument(
                f"The value of {name} should be an integer, got '{raw}'"
            ) from None

    if "MessageBody" not in texts:
        raise InvalidArgument(
            "The XML you provided did not validate against our published "
            "schema: MessageBody is required"
        )
    return texts["MessageBody"], optional_int("DelaySeconds"), optional_int("Priority")


def parse_message(body: bytes) -> tuple[str, int | None, int | None]:
    return _message_fields(child_texts(parse_root(body, "Message")))


def parse_messages(body: bytes) -> list[tuple[str, int | None, int | None]]:
    root = parse_root(body, "Messages")
    return [_message_fields(child_texts(m)) for m in children(root, "Message")]


def parse_receipt_handles(body: bytes) -> list[str]:
    root = parse_root(body, "ReceiptHandles")
    return [(h.text or "").strip() for h in children(root, "ReceiptHandle")]


def _elements(pairs) -> str:
    return "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in pairs)


def document(root: str, inner: str) -> bytes:
    return f'{_HEADER}<{root} xmlns="{XMLNS}">{inner}</{root}>'.encode()


def error(code: str, message: str, request_id: str, host_id: str) -> bytes:
    return document(
        "Error",
        _elements(
            [("Code", code), ("Message", message), ("RequestId", request_id), ("HostId", host_id)]
        ),
    )


def _queue_fields(info: QueueInfo) -> list[tuple[str, object]]:
    """GetQueueAttributes and ListQueue (with x-mns-with-meta) render the same fields."""
    a = info.attributes
    return [
        ("QueueName", info.name),
        ("CreateTime", info.create_time),
        ("LastModifyTime", info.last_modify_time),
        ("DelaySeconds", a.delay_seconds),
        ("MaximumMessageSize", a.maximum_message_size),
        ("MessageRetentionPeriod", a.message_retention_period),
        ("VisibilityTimeout", a.visibility_timeout),
        ("PollingWaitSeconds", a.polling_wait_seconds),
        ("ActiveMessages", info.active_messages),
        ("InactiveMessages", info.inactive_messages),
        ("DelayMessages", info.delay_messages),
        ("LoggingEnabled", "True" if a.logging_enabled else "False"),
    ]


def queue_attributes(info: QueueInfo) -> bytes:
    return document("Queue", _elements(_queue_fields(info)))


def queue_list(urls_and_meta: list[tuple[str, QueueInfo | None]], next_marker: str) -> bytes:
    items = []
    for url, info in urls_and_meta:
        fields = [("QueueURL", url)]
        if info is not None:
            fields += _queue_fields(info)
        items.append(f"<Queue>{_elements(fields)}</Queue>")
    marker = _elements([("NextMarker", next_marker)]) if next_marker else ""
    return document("Queues", "".join(items) + marker)


def sent(message_id: str, md5: str) -> bytes:
    return document("Message", _elements([("MessageId", message_id), ("MessageBodyMD5", md5)]))


def sent_batch(results: list[tuple[str, str]]) -> bytes:
    inner = "".join(
        f"<Message>{_elements([('MessageId', i), ('MessageBodyMD5', m)])}</Message>"
        for i, m in results
    )
    return document("Messages", inner)


def _message_elements(message: Message, with_handle: bool) -> str:
    fields = [("MessageId", message.message_id)]
    if with_handle:
        fields.append(("ReceiptHandle", message.receipt_handle))
    fields += [
        ("MessageBodyMD5", message.body_md5),
        ("MessageBody", message.body),
        ("EnqueueTime", message.enqueue_time),
    ]
    if with_handle:
        fields.append(("NextVisibleTime", message.visible_at))
    fields += [
        ("FirstDequeueTime", message.first_dequeue_time),
        ("DequeueCount", message.dequeue_count),
        ("Priority", message.priority),
    ]
    return _elements(fields)


def received(message: Message, with_handle: bool = True) -> bytes:
    return document("Message", _message_elements(message, with_handle))


def received_batch(messages: list[Message], with_handle: bool = True) -> bytes:
    return document(
        "Messages",
        "".join(f"<Message>{_message_elements(m, with_handle)}</Message>" for m in messages),
    )


def visibility_changed(handle: str, next_visible_time: int) -> bytes:
    return document(
        "ChangeVisibility",
        _elements([("ReceiptHandle", handle), ("NextVisibleTime", next_visible_time)]),
    )


def batch_delete_errors(errors: list[tuple[str, str, str]]) -> bytes:
    return document(
        "Errors",
        "".join(
            f"<Error>{_elements([('ErrorCode', c), ('ErrorMessage', m), ('ReceiptHandle', h)])}</Error>"
            for h, c, m in errors
        ),
    )
