"""A job-wide OSS request budget (--max-qps): each page paces its requests with a token bucket.

The budget is the job's; a page's share is the budget over the shards still working.
Shards announce themselves with a lease object under the job's report prefix
(``<prefix><job>/pace/<shard>``), refreshed at page start and every REFRESH_SECONDS;
a finished shard deletes its lease, so the others take up its share within one refresh
and an early finisher strands no budget. Leases older than their TTL (a crashed page)
stop counting on their own. Cost: one PUT and one LIST per shard every REFRESH_SECONDS.
503 SlowDown answers still back off (handlers.retrying): pacing only spaces attempts.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

import oss2

REFRESH_SECONDS = 1.0  # a finished shard's share moves to the others within this
BURST_SECONDS = 0.1  # tokens a bucket may bank: a tenth of a second's worth


class TokenBucket:
    """``acquire()`` blocks until one request may go; ``rate`` None means unlimited."""

    def __init__(
        self,
        rate: float | None,
        burst_seconds: float = BURST_SECONDS,
        *,
        clock=time.monotonic,
        sleep=time.sleep,
    ):
        self._lock = threading.Lock()
        self.burst_seconds = burst_seconds
        self.clock, self.sleep = clock, sleep
        self.rate: float | None = None
        self._tokens = 0.0
        self._stamp = clock()
        self.set_rate(rate)

    def set_rate(self, rate: float | None) -> None:
        with self._lock:
            self._refill(self.clock())
            self.rate = rate if rate and rate > 0 else None
            if self.rate is not None:
                self._tokens = min(self._tokens, self._capacity())

    def _capacity(self) -> float:
        return max(1.0, self.rate * self.burst_seconds)  # type: ignore[operator]

    def _refill(self, now: float) -> None:
        if self.rate is not None:
            self._tokens = min(self._capacity(), self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def acquire(self) -> None:
        while True:
            with self._lock:
                if self.rate is None:
                    return
                now = self.clock()
                self._refill(now)
                if self._tokens >= 1.0 - 1e-9:  # float dust must not make it wait forever
                    self._tokens = max(0.0, self._tokens - 1.0)
                    return
                # reserve nothing: sleep until one token has accrued, then compete again
                wait = (1.0 - self._tokens) / self.rate
            self.sleep(wait)


@dataclass(frozen=True)
class PaceConfig:
    """Where this shard's lease lives and the job's budget (picklable: worker processes too)."""

    bucket: str
    prefix: str  # "<report prefix><job>/pace/"
    shard: str
    job_qps: float
    ttl_seconds: float = 15.0  # longer than the gap between two pages of one shard


class JobPace:
    """This process's share of the job budget, from the leases of the shards still working."""

    def __init__(self, bucket: oss2.Bucket, config: PaceConfig, retry, divisor: int = 1):
        self.bucket, self.config, self.retry = bucket, config, retry
        self.divisor = divisor  # processes sharing this page's share
        self.pacer = TokenBucket(None)
        self.active = 1
        self._next_refresh = 0.0
        self._lock = threading.Lock()

    @property
    def share(self) -> float:
        return self.config.job_qps / max(1, self.active)

    def set_divisor(self, divisor: int) -> None:
        self.divisor = max(1, divisor)
        self.pacer.set_rate(self.share / self.divisor)

    def refresh(self) -> None:
        """Renew this shard's lease, count the live ones, set the bucket's rate."""
        key = self.config.prefix + self.config.shard
        self.retry.call(self.bucket.put_object, key, b"")
        now = time.time()
        live = 0
        for obj in oss2.ObjectIterator(self.bucket, prefix=self.config.prefix):
            if obj.key == key or now - obj.last_modified <= self.config.ttl_seconds:
                live += 1
        self.active = max(1, live)
        self.pacer.set_rate(self.share / self.divisor)
        self._next_refresh = time.monotonic() + REFRESH_SECONDS

    def maybe_refresh(self) -> None:
        if time.monotonic() < self._next_refresh or not self._lock.acquire(blocking=False):
            return
        try:
            if time.monotonic() >= self._next_refresh:
                self.refresh()
        except oss2.exceptions.OssError:
            self._next_refresh = time.monotonic() + REFRESH_SECONDS  # keep the last share
        finally:
            self._lock.release()

    def finish(self, done: bool) -> None:
        """A finished shard gives its share back at once; an unfinished one keeps its lease."""
        if done:
            try:
                self.retry.call(self.bucket.delete_object, self.config.prefix + self.config.shard)
            except oss2.exceptions.OssError:
                pass  # the lease expires by itself


def start_pace(clients, config: PaceConfig | None, divisor: int = 1) -> JobPace | None:
    """Pace every request ``clients`` make from now on (their retry policy takes a token)."""
    if config is None:
        return None
    pace = JobPace(clients.bucket(config.bucket), config, clients.retry, divisor)
    pace.refresh()
    clients.retry = PacedRetry(clients.retry, pace)
    return pace


def pace_config(event, report_bucket: str, bound, kind: str) -> PaceConfig | None:
    """The page's lease and budget, or None when the job has no --max-qps."""
    qps = event.tuning.max_qps
    if not qps:
        return None
    prefix = f"{event.resolved_report_prefix()}{event.job_id}/pace/"
    return PaceConfig(report_bucket, prefix, shard_name(bound, kind), float(qps))


def shard_name(bound: int | str | None, kind: str) -> str:
    """A shard is named by its end bound (constant for the shard, unique within the job)."""
    text = "end" if bound is None else str(bound)
    return f"{kind}-{hashlib.sha1(text.encode()).hexdigest()[:16]}"


class PacedRetry:
    """The retry policy with a token taken before every attempt (retries are requests too)."""

    def __init__(self, retry, pace: JobPace):
        self.retry, self.pace = retry, pace
        self.attempts = getattr(retry, "attempts", 1)

    def call(self, fn, *args, **kwargs):
        def paced(*a, **kw):
            self.pace.maybe_refresh()
            self.pace.pacer.acquire()
            return fn(*a, **kw)

        return self.retry.call(paced, *args, **kwargs)
