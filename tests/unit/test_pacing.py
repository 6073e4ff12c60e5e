"""The token bucket that paces a page's OSS requests, on a driven clock (no sleeps)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from handlers.pacing import TokenBucket, shard_name


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def grants(rate: float, count: int, *, burst: float = 0.1):
    clock = Clock()
    bucket = TokenBucket(rate, burst, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(count):
        bucket.acquire()
        times.append(clock.now)
    return times


@given(st.floats(1, 20_000), st.integers(10, 3000))
def test_requests_are_granted_at_the_rate_and_never_faster(rate, count):
    times = grants(rate, count)
    assert times[-1] >= (count - 1 - max(1.0, rate * 0.1)) / rate - 1e-9
    assert times[-1] <= count / rate + 1e-6


@given(st.floats(10, 5_000))
def test_no_second_holds_more_than_the_rate_plus_one_burst(rate):
    times = grants(rate, int(rate * 5))
    for start in range(5):
        in_window = sum(1 for t in times if start <= t < start + 1)
        assert in_window <= rate + max(1.0, rate * 0.1) + 1


def test_a_bucket_without_a_rate_never_waits():
    clock = Clock()
    bucket = TokenBucket(None, clock=clock, sleep=clock.sleep)
    for _ in range(10_000):
        bucket.acquire()
    assert clock.now == 0.0


def test_a_rate_change_applies_to_the_next_request():
    clock = Clock()
    bucket = TokenBucket(10, clock=clock, sleep=clock.sleep)
    for _ in range(11):
        bucket.acquire()
    slow = clock.now
    bucket.set_rate(1000)
    for _ in range(100):
        bucket.acquire()
    assert clock.now - slow <= 0.11


def test_shards_are_named_by_their_end_bound_and_the_last_one_by_end():
    assert shard_name(None, "index") != shard_name(100, "index") != shard_name(100, "listing")
    assert shard_name("a/\U0010ffff", "listing") == shard_name("a/\U0010ffff", "listing")
