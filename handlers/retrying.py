"""Retry policy for OSS calls: throttling (503 SlowDown), 5xx and dropped connections, never 4xx.

oss2 does not retry requests itself, so every call goes through ``RetryPolicy.call``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import oss2
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from .integrity import UploadDamaged

T = TypeVar("T")


def is_transient(exc: BaseException) -> bool:
    """True for failures a retry can fix: connection errors, 5xx (incl. 503 SlowDown) and a
    body that arrived damaged: stored (UploadDamaged: sending it again overwrites it) or
    refused by its Content-MD5 (InvalidDigest: "upload the object again", the OSS data
    verification page)."""
    if isinstance(exc, oss2.exceptions.RequestError):
        return True  # status -2: connection dropped / timed out
    if isinstance(exc, oss2.exceptions.OssError):
        return isinstance(exc.status, int) and exc.status >= 500 or exc.code == "InvalidDigest"
    return isinstance(exc, ConnectionError | TimeoutError | UploadDamaged)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter; ``attempts`` counts the first try."""

    attempts: int = 6
    initial_seconds: float = 0.2
    max_seconds: float = 10.0

    def call(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """Run ``fn`` with retries; the final exception gets an ``attempts`` attribute."""
        retrying = Retrying(
            retry=retry_if_exception(is_transient),
            wait=wait_random_exponential(multiplier=self.initial_seconds, max=self.max_seconds),
            stop=stop_after_attempt(self.attempts),
            reraise=True,
        )
        attempt_number = 0
        try:
            for attempt in retrying:
                with attempt:
                    attempt_number = attempt.retry_state.attempt_number
                    return fn(*args, **kwargs)
        except RetryError as exc:  # pragma: no cover - reraise=True makes this unreachable
            raise exc.last_attempt.exception() from exc
        except Exception as exc:
            exc.attempts = attempt_number  # type: ignore[attr-defined]
            raise
        raise AssertionError("unreachable")  # pragma: no cover


def attempts_of(exc: BaseException) -> int:
    return int(getattr(exc, "attempts", 1) or 1)
