"""Read the unzip result messages that the flow sends to the notification queue."""

from __future__ import annotations

import base64
import binascii
import json


class NotificationBodyError(ValueError):
    """A queue message whose body is neither JSON nor base64-encoded JSON."""


def decode_body(raw: str | bytes) -> dict:
    """JSON object from a message body, whether the sender base64-encoded it or not.

    CloudFlow's MNS:SendMessage integration does not document whether it base64-encodes
    the body (the MNS SDK does by default), so consumers accept both.
    """
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        doc = json.loads(text)
    except ValueError:
        try:
            doc = json.loads(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            raise NotificationBodyError(
                f"message body is neither JSON nor base64 JSON: {text[:80]!r}"
            ) from None
    if not isinstance(doc, dict):
        raise NotificationBodyError(f"message body is JSON but not an object: {text[:80]!r}")
    return doc


def receive(queue, wait_seconds: int) -> tuple[object, dict]:
    """One message from an aliyun-mns-sdk Queue and its decoded JSON.

    The SDK's own base64 decoding is switched off: decode_body handles both forms.
    """
    queue.set_encoding(False)
    msg = queue.receive_message(wait_seconds=wait_seconds)
    return msg, decode_body(msg.message_body)
