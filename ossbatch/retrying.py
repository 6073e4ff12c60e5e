"""Retry the CLI's own service calls on transient errors (oss2 does not retry by itself).

Transient: connection errors/resets (oss2 RequestError), 5xx and 503 SlowDown, 429/
throttling answers of the OpenAPI SDKs, MNS network errors. 4xx answers are final.
"""

from __future__ import annotations

from tenacity import (
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)


def is_transient(exc: BaseException) -> bool:
    import oss2

    if isinstance(exc, oss2.exceptions.RequestError):
        return True
    if isinstance(exc, oss2.exceptions.OssError):
        return exc.status >= 500 or exc.status == 429
    status = getattr(exc, "status_code", None) or getattr(exc, "status", None)
    if isinstance(status, int) and (status >= 500 or status == 429):
        return True
    name = type(exc).__name__
    text = str(exc)
    return (
        name in ("MNSClientNetworkException", "ConnectionError", "TimeoutError")
        or "Throttl" in text
        or isinstance(exc, ConnectionError | TimeoutError)
    )


transient = retry(
    retry=retry_if_exception(is_transient),
    stop=stop_after_attempt(8),
    wait=wait_exponential(multiplier=0.2, max=5) + wait_random(0, 0.2),
    reraise=True,
)


def call(fn, *args, **kwargs):
    """fn(*args, **kwargs), retried on transient errors."""
    return transient(fn)(*args, **kwargs)
