"""Structured logs: one JSON object per line, each with the job id and FC request id."""

from __future__ import annotations

import json
import logging
import sys
import time

LOGGER_NAME = "ossbatch.handlers"


class JobLog:
    """Bound to one invocation (no global state that outlives it)."""

    def __init__(
        self,
        handler: str,
        job_id: str | None,
        request_id: str | None,
        stream=None,
        level: str = "INFO",  # the function's settings.log_level
    ):
        self.handler = handler
        self.job_id = job_id
        self.request_id = request_id
        self.stream = stream or sys.stderr
        level = level.upper()
        self.level = (
            logging.getLevelName(level)
            if isinstance(logging.getLevelName(level), int)
            else logging.INFO
        )

    def _emit(self, level: int, event: str, fields: dict) -> None:
        if level < self.level:
            return
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z",
            "level": logging.getLevelName(level),
            "handler": self.handler,
            "event": event,
            "job_id": self.job_id,
            "request_id": self.request_id,
            **fields,
        }
        self.stream.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")
        self.stream.flush()

    def debug(self, event: str, **fields) -> None:
        self._emit(logging.DEBUG, event, fields)

    def info(self, event: str, **fields) -> None:
        self._emit(logging.INFO, event, fields)

    def warning(self, event: str, **fields) -> None:
        self._emit(logging.WARNING, event, fields)

    def error(self, event: str, **fields) -> None:
        self._emit(logging.ERROR, event, fields)


def request_id_of(context) -> str | None:
    return getattr(context, "request_id", None) or (
        context.get("request_id") if isinstance(context, dict) else None
    )
