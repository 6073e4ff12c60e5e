"""Queue attributes, messages and receipt handles: the MNS queue model's value types."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass, fields, replace

from .errors import InvalidArgument, InvalidQueueName, ReceiptHandleError

QUEUE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,255}$")
_HANDLE = re.compile(r"^([0-9a-f]{1,16})-([0-9a-f]{16})$")


def now_ms() -> int:
    return int(time.time() * 1000)


def check_queue_name(name: str) -> str:
    if not isinstance(name, str) or not QUEUE_NAME.match(name):
        raise InvalidQueueName(
            f"The queue name you provided is not valid: '{name}'; it must start with a letter "
            "and have 1-256 letters, digits or '-'"
        )
    return name


def check_range(element: str, value, low: int, high: int) -> int:
    """MNS' own wording for out-of-range values."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidArgument(
            f"The value of {element} should be an integer, got '{value}'"
        ) from None
    if not low <= number <= high:
        raise InvalidArgument(f"The value of {element} should between {low} and {high}.")
    return number


@dataclass(frozen=True)
class QueueAttributes:
    """Defaults and ranges from the MNS CreateQueue docs."""

    delay_seconds: int = 0
    maximum_message_size: int = 65536
    message_retention_period: int = 345600
    visibility_timeout: int = 30
    polling_wait_seconds: int = 0
    logging_enabled: bool = False

    def __post_init__(self) -> None:
        check_range("DelaySeconds", self.delay_seconds, 0, 604800)
        check_range("MaximumMessageSize", self.maximum_message_size, 1024, 65536)
        check_range("MessageRetentionPeriod", self.message_retention_period, 60, 604800)
        check_range("VisibilityTimeout", self.visibility_timeout, 1, 43200)
        check_range("PollingWaitSeconds", self.polling_wait_seconds, 0, 30)

    # XML element name -> attribute name
    ELEMENTS = {
        "DelaySeconds": "delay_seconds",
        "MaximumMessageSize": "maximum_message_size",
        "MessageRetentionPeriod": "message_retention_period",
        "VisibilityTimeout": "visibility_timeout",
        "PollingWaitSeconds": "polling_wait_seconds",
        "LoggingEnabled": "logging_enabled",
    }

    @classmethod
    def from_elements(cls, elements: dict[str, str], base: QueueAttributes | None = None):
        """Build from `<Queue>` child elements; unknown elements are ignored like MNS does."""
        changes = {}
        for element, attr in cls.ELEMENTS.items():
            if element not in elements:
                continue
            raw = elements[element].strip()
            if attr == "logging_enabled":
                if raw.lower() not in ("true", "false"):
                    raise InvalidArgument(
                        f"The value of LoggingEnabled should be True or False, got '{raw}'"
                    )
                changes[attr] = raw.lower() == "true"
            else:
                changes[attr] = check_range(element, raw, -(2**31), 2**31)
        return replace(base or cls(), **changes)

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Message:
    """One message as stored; times are milliseconds since the epoch, like MNS answers."""

    seq: int
    message_id: str
    body: str
    body_md5: str
    priority: int
    enqueue_time: int
    first_dequeue_time: int
    dequeue_count: int
    visible_at: int
    receipt_handle: str


def body_md5(body: str) -> str:
    """MNS' MessageBodyMD5: upper-case hex MD5 of the body as sent (base64 text included)."""
    return hashlib.md5(body.encode("utf-8")).hexdigest().upper()


def new_message_id() -> str:
    return secrets.token_hex(16).upper()


def new_receipt_handle(seq: int) -> str:
    # letters and digits only: the SDK puts the handle in the query string unescaped
    return f"{seq:x}-{secrets.token_hex(8)}"


def parse_receipt_handle(handle: str) -> int:
    """The message sequence number a receipt handle points at (ReceiptHandleError if bad)."""
    match = _HANDLE.match(handle or "")
    if not match:
        raise ReceiptHandleError(handle)
    return int(match.group(1), 16)
