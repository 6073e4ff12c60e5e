"""`jobs status` totals: the split's estimate or count, done/total, percent and ETA, and
"no total known" (never 0) where nothing tells one."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from ossbatch.jobs import NO_TOTAL, JobStatus, Progress, Total

SAMPLED = {"objects": 10_000, "at_least": 3_000, "exact": False, "method": "sampled"}
COUNTED = {"objects": 1_200, "at_least": 1_200, "exact": True, "method": "counted"}


def status(progress: Progress, state="running", elapsed=100.0) -> JobStatus:
    return JobStatus(
        job_id="copy-1",
        kind="copy",
        flow="f",
        state=state,
        progress=progress,
        started_epoch=time.time() - elapsed,
    )


def test_a_sampled_total_is_marked_an_estimate_with_its_floor():
    total = Total.of(SAMPLED, items=2_500, finished_ok=False)
    assert (total.objects, total.estimate) == (10_000, True)
    assert total.basis == "estimate (sampled by the listing split; at least 3,000)"


def test_a_counted_split_is_not_an_estimate():
    assert Total.of(COUNTED, items=10, finished_ok=False) == Total(
        1_200, False, "counted before the job started"
    )


def test_items_past_the_estimate_become_the_total_floor():
    total = Total.of(SAMPLED, items=12_000, finished_ok=False)
    assert (total.objects, total.estimate) == (12_000, True)
    assert total.basis.startswith("estimate exceeded")


def test_a_finished_job_counts_its_own_total_with_or_without_an_estimate():
    assert Total.of(None, items=77, finished_ok=True) == Total(
        77, False, "counted by the finished job"
    )
    assert Total.of(SAMPLED, items=9_800, finished_ok=True).objects == 9_800


def test_no_estimate_means_no_total_and_says_so():
    st = status(Progress(done=5, fraction=None))
    assert Total.of(None, 5, False) is None
    shown = st.totals()
    assert shown["total"] is None and shown["total_basis"] == NO_TOTAL
    assert shown["percent"] is None and shown["eta_s"] is None


def test_percent_and_eta_follow_the_observed_rate():
    p = Progress(done=2_000, skipped=500, total=Total.of(SAMPLED, 2_500, False))
    shown = status(p, elapsed=100.0).totals()
    assert shown["total"] == 10_000 and shown["total_is_estimate"] is True
    assert shown["percent"] == 25.0
    assert 299 <= shown["eta_s"] <= 301  # 25% in 100 s: 300 s to go at the same rate


def test_index_jobs_keep_their_byte_fraction_for_percent_and_eta():
    shown = status(Progress(done=10, fraction=0.5), elapsed=60.0).totals()
    assert shown["total"] is None and shown["percent"] == 50.0
    assert 59 <= shown["eta_s"] <= 61


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6))
def test_percent_stays_within_0_and_100_whatever_the_estimate(objects, floor, items):
    estimate = {"objects": objects, "at_least": min(floor, objects), "exact": False}
    p = Progress(done=items, total=Total.of(estimate, items, False))
    shown = status(p).totals()
    if shown["percent"] is not None:
        assert 0 <= shown["percent"] <= 100
    assert shown["total"] is None or shown["total"] >= items
