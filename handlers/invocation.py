"""Per-invocation plumbing shared by the paging handlers: clients, time budget, totals."""

from __future__ import annotations

from .budget import TimeBudget
from .clients import OssClients
from .retrying import RetryPolicy


def clients_for(event, context, *, extra_connections: int = 0) -> OssClients:
    """OSS clients from the context credentials, pooled for the event's concurrency."""
    return OssClients.from_context(
        context,
        event.oss_endpoint,
        pool_size=event.tuning.concurrency + extra_connections,
        retry=RetryPolicy(attempts=event.tuning.retry_attempts),
    )


def budget_for(event, context, started_at: float | None) -> TimeBudget:
    t = event.tuning
    return TimeBudget.from_context(
        context,
        started_at=started_at,
        time_budget_seconds=t.time_budget_seconds,
        deadline_epoch=t.deadline,
        margin_seconds=t.margin_seconds,
    )


def add_counters(previous: dict, current: dict) -> dict:
    """Cumulative totals the flow feeds back: previous + this invocation."""
    keys = set(previous) | set(current)
    return {k: int(previous.get(k, 0)) + int(current.get(k, 0)) for k in sorted(keys)}
