"""MNS:SendMessage -> the local MNS service (`send_message(queue, body, delay_seconds, priority)`)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .errors import INVALID_ARGUMENT, FlowError
from .spec import MNS_ARN_RE

INTERNAL = "MNS.InternalError"


def queue_name(arn: Any) -> str:
    match = MNS_ARN_RE.match(arn) if isinstance(arn, str) else None
    if not match:
        raise FlowError(
            INVALID_ARGUMENT,
            f"resourceArn {arn!r} is not acs:mns:{{region}}:{{uid}}:/queues/{{queue}}/messages",
        )
    return match.group(3)


def make_mns_integration(mns_service):
    def send_message(params: dict, task_mode: str, env) -> Any:
        queue = queue_name(params.get("resourceArn"))
        message = params.get("message")
        body = (
            message
            if isinstance(message, str)
            else json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        )
        priority = params.get("priority", 8)
        delay = params.get("delaySeconds", 0)
        if not isinstance(priority, int) or not 1 <= priority <= 16:
            raise FlowError(INVALID_ARGUMENT, f"priority {priority!r}: an integer 1..16")
        if not isinstance(delay, int) or not 0 <= delay <= 604800:
            raise FlowError(INVALID_ARGUMENT, f"delaySeconds {delay!r}: an integer 0..604800")
        try:
            message_id = mns_service.send_message(
                queue, body, delay_seconds=delay, priority=priority
            )
        except Exception as exc:  # the service's error classes carry an MNS error code
            code = getattr(exc, "code", None) or getattr(exc, "type", None)
            raise FlowError(f"MNS.{code}" if code else INTERNAL, str(exc)) from None
        return {
            "MessageId": message_id,
            "MessageBodyMD5": hashlib.md5(body.encode()).hexdigest().upper(),
        }

    return send_message
