"""Bounded concurrency: a cap on in-flight requests and on bytes buffered for them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor


class BoundedPool:
    """A thread pool whose ``submit`` blocks while the request or byte budget is used up.

    Blocking the producer (the index reader, the zip stream) is what bounds memory:
    nothing is read ahead of what the workers can take.
    """

    def __init__(self, max_in_flight: int = 32, max_buffered_bytes: int = 256 * 1024 * 1024):
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be >= 1")
        self.max_in_flight = max_in_flight
        self.max_buffered_bytes = max_buffered_bytes
        self._executor = ThreadPoolExecutor(max_workers=max_in_flight, thread_name_prefix="oss")
        self._cond = threading.Condition()
        self._in_flight = 0
        self._buffered = 0
        self.peak_buffered = 0
        self.peak_in_flight = 0

    def submit(self, fn: Callable, *args, nbytes: int = 0, **kwargs) -> Future:
        # one oversized item may still run alone, otherwise it would wait forever
        nbytes = max(0, nbytes)
        with self._cond:
            self._cond.wait_for(
                lambda: (
                    self._in_flight < self.max_in_flight
                    and (self._buffered == 0 or self._buffered + nbytes <= self.max_buffered_bytes)
                )
            )
            self._in_flight += 1
            self._buffered += nbytes
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
            self.peak_buffered = max(self.peak_buffered, self._buffered)
        try:
            future = self._executor.submit(fn, *args, **kwargs)
        except BaseException:
            self._release(nbytes)
            raise
        future.add_done_callback(lambda _f: self._release(nbytes))
        return future

    def reserve_wait(self, nbytes: int) -> None:
        """Wait until ``nbytes`` more could be buffered (used before reading ahead)."""
        with self._cond:
            self._cond.wait_for(
                lambda: self._buffered == 0 or self._buffered + nbytes <= self.max_buffered_bytes
            )

    def _release(self, nbytes: int) -> None:
        with self._cond:
            self._in_flight -= 1
            self._buffered -= nbytes
            self._cond.notify_all()

    def drain(self) -> None:
        """Wait until every submitted task has finished."""
        with self._cond:
            self._cond.wait_for(lambda: self._in_flight == 0)

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    def __enter__(self) -> BoundedPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
