"""A planned kill -9: the process SIGKILLs itself when the N-th request of one operation
arrives, so crash tests need no sleeps and no race with a watching test (admin POST /crash).

The switch rides on a service's request counters (`svc.counters[op] += 1` happens for
every request before it is served), so the crash lands exactly between two requests of
the same kind, with the earlier ones fully done.
"""

from __future__ import annotations

import os
import signal
from collections import Counter


class CrashingCounter(Counter):
    """Request counters that kill the process once `op` reaches `at` requests."""

    def __init__(self, counts, op: str, at: int):
        super().__init__(counts)
        self.op, self.at = op, at

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        if key == self.op and value >= self.at:
            os.kill(os.getpid(), signal.SIGKILL)


def arm(service, op: str, after: int) -> dict:
    """Kill the process when `op` has been requested `after` more times; returns the plan."""
    if not isinstance(after, int) or isinstance(after, bool) or after < 1:
        raise ValueError("after must be a whole number of requests >= 1")
    if not isinstance(op, str) or not op:
        raise ValueError("op must name an operation, e.g. CopyObject")
    counters = getattr(service, "counters", None)
    if not isinstance(counters, Counter):
        raise ValueError("this service has no per-operation request counters")
    at = counters.get(op, 0) + after
    service.counters = CrashingCounter(counters, op, at)
    return {"op": op, "crash_at_request": at}
