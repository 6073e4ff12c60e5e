"""Time budget of one invocation: when to stop taking new work so in-flight work can finish."""

from __future__ import annotations

import time
from dataclasses import dataclass

# FC 3.0's Python context has no get_remaining_time(): derive it from function.timeout.
DEFAULT_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class TimeBudget:
    """Monotonic deadline after which no new item is started."""

    stop_at: float  # time.monotonic() value

    @classmethod
    def from_context(
        cls,
        context,
        *,
        started_at: float | None = None,
        time_budget_seconds: float | None = None,
        deadline_epoch: float | None = None,
        margin_seconds: float | None = None,
    ) -> TimeBudget:
        """Budget = function timeout since the invocation started, minus a safety margin.

        ``time_budget_seconds`` (relative) or ``deadline_epoch`` (absolute, epoch seconds)
        from the event take precedence: tests and flows use them to size pages.
        """
        now = time.monotonic()
        started = now if started_at is None else started_at
        timeout = _function_timeout(context)
        hard_stop = started + timeout
        if margin_seconds is None:
            # in-flight work (a part copy, an entry upload) must still fit after stopping
            margin_seconds = min(max(timeout * 0.2, 2.0), 60.0)
        stop_at = hard_stop - margin_seconds
        if time_budget_seconds is not None:
            stop_at = min(stop_at, now + time_budget_seconds)
        if deadline_epoch is not None:
            stop_at = min(stop_at, now + (deadline_epoch - time.time()))
        return cls(stop_at=stop_at)

    @classmethod
    def seconds(cls, seconds: float) -> TimeBudget:
        return cls(stop_at=time.monotonic() + seconds)

    def remaining(self) -> float:
        return self.stop_at - time.monotonic()

    def exhausted(self) -> bool:
        return time.monotonic() >= self.stop_at


def _function_timeout(context) -> float:
    function = getattr(context, "function", None)
    timeout = getattr(function, "timeout", None) if function is not None else None
    if timeout is None and isinstance(function, dict):
        timeout = function.get("timeout")
    try:
        return float(timeout) if timeout else DEFAULT_TIMEOUT_SECONDS
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT_SECONDS
