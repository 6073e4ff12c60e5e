"""Job documents: shard bounds, event budget, restore waits, names, progress."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ossbatch.cloud import ConfigError
from ossbatch.eventbudget import COSTS, SAFETY, events_per_execution, pages_per_execution
from ossbatch.jobdocs import MAX_SHARDS, OssUrl, split_bounds
from ossbatch.jobdocs_restore import restore_waits
from ossbatch.jobs import execution_name, kind_of, new_job_id, shard_progress

NAME_RULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$")  # CloudFlow execution names


@given(size=st.integers(0, 10**12), count=st.integers(1, 500))
def test_index_shards_cover_the_index_exactly_once(size, count):
    bounds = split_bounds(size, count)
    assert bounds[0] == 0 and bounds[-1] == size
    assert all(a <= b for a, b in zip(bounds, bounds[1:], strict=False))
    assert 1 <= len(bounds) - 1 <= MAX_SHARDS


def test_small_index_is_not_cut_into_tiny_shards():
    assert split_bounds(3000, 40) == [0, 1500, 3000]  # at least 1 KiB per shard


@given(
    kind=st.sampled_from(sorted(COSTS)),
    shards=st.integers(1, MAX_SHARDS),
    limit=st.integers(2000, 100_000),
)
def test_pages_per_execution_keeps_an_execution_under_the_event_limit(kind, shards, limit):
    pages = pages_per_execution(kind, shards, limit)
    assert pages >= 1
    assert events_per_execution(kind, shards, pages) <= limit * SAFETY
    assert events_per_execution(kind, shards, pages + 1) > limit * SAFETY


def test_too_many_shards_for_the_event_limit_is_a_config_error():
    with pytest.raises(ConfigError, match="fewer shards"):
        pages_per_execution("copy", 40, limit=200)


def test_oss_url_must_name_a_bucket():
    assert OssUrl.parse("oss://b1/a/b.csv", "--index") == OssUrl("b1", "a/b.csv")
    with pytest.raises(ConfigError, match="--dest"):
        OssUrl.parse("s3://b/k", "--dest")
    with pytest.raises(ConfigError, match="no bucket"):
        OssUrl.parse("oss:///k", "--index")


def test_restore_waits_follow_class_and_tier():
    assert restore_waits("Archive", "Standard", None, 300) == (60, 15)
    first, later = restore_waits("ColdArchive", "Bulk", None, 300)
    assert first == 5 * 3600 and later == first // 4
    assert restore_waits("Archive", "Standard", {"Archive": 3}, 300) == (3, 1)
    assert restore_waits(None, "Standard", None, 300) == (300, 300)


@given(seq=st.integers(0, 10**6))
def test_job_and_execution_names_are_valid_cloudflow_names(seq):
    job = new_job_id("copy")
    assert kind_of(job) == "copy"
    assert NAME_RULE.match(execution_name(job, seq))


def test_unknown_job_id_is_a_config_error():
    with pytest.raises(ConfigError, match="not an ossbatch job id"):
        kind_of("hello-1")


def test_progress_sums_shard_totals_and_measures_index_bytes():
    shards = [
        {
            "shard": {
                "id": 0,
                "start": 0,
                "index": {"offset": 50, "end": 100},
                "done": False,
                "totals": {"done": 3, "failed": 1, "bytes": 30},
            }
        },
        {
            "shard": {
                "id": 1,
                "start": 100,
                "index": {"offset": 200, "end": 200},
                "done": True,
                "totals": {"done": 4, "skipped": 2, "bytes": 40},
            }
        },
    ]
    p = shard_progress(shards)
    assert (p.done, p.skipped, p.failed, p.bytes) == (7, 2, 1, 70)
    assert p.fraction == pytest.approx(150 / 200)


def test_listing_progress_has_no_fraction_until_done():
    running = [{"shard": {"id": 0, "listing": {"marker": "k"}, "done": False, "totals": {}}}]
    assert shard_progress(running).fraction is None
    done = [{"shard": {"id": 0, "listing": {"marker": "k"}, "done": True, "totals": {}}}]
    assert shard_progress(done).fraction == 1.0


def test_restore_progress_counts_objects_still_restoring():
    shards = [
        {
            "shard": {
                "id": 0,
                "listing": {"marker": "a"},
                "done": False,
                "pending": 7,
                "totals": {"done": 10},
            }
        },
        {
            "shard": {
                "id": 1,
                "listing": {"marker": "b"},
                "done": True,
                "pending": 0,
                "totals": {"done": 5},
            }
        },
    ]
    p = shard_progress(shards, "restore")
    assert p.pending == 7 and p.done == 15
