"""The listing split: every key in exactly one range, ranges about even, cost bounded."""

from __future__ import annotations

import bisect
import random
import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.listing import ListedObject, ListingPage
from ossbatch.keysplit import TOP, default_budget, split_key_space
from ossbatch.probepages import Listed, implied


class SortedKeys:
    """OSS ListObjects semantics over a sorted key list: prefix, exclusive marker, max-keys."""

    def __init__(self, keys):
        self.keys = sorted(set(keys))
        self.calls = 0

    def __call__(self, prefix: str, marker: str, max_keys: int) -> ListingPage:
        self.calls += 1
        i = max(bisect.bisect_right(self.keys, marker), bisect.bisect_left(self.keys, prefix))
        out = []
        while i < len(self.keys) and self.keys[i].startswith(prefix) and len(out) < max_keys:
            out.append(ListedObject(self.keys[i], 1, None, None))
            i += 1
        more = i < len(self.keys) and self.keys[i].startswith(prefix)
        return ListingPage(out, more, out[-1].key if out else "")


def owners(keys, ranges, prefix=""):
    """For each key under prefix, the ranges (start_after, end] that hold it."""
    return {
        k: [i for i, r in enumerate(ranges) if k > r.start_after and (r.end is None or k <= r.end)]
        for k in keys
        if k.startswith(prefix)
    }


key_chars = st.sampled_from(list("ab/0-9é中") + ["\U0001f600", "z", "~"])
key_sets = st.one_of(
    st.lists(st.text(key_chars, min_size=1, max_size=12), max_size=120),
    # every key under one deep prefix
    st.lists(st.text(key_chars, min_size=1, max_size=4), max_size=120).map(
        lambda ks: ["deep/" + "x/" * 40 + k for k in ks]
    ),
)


@settings(max_examples=300, deadline=None)
@given(key_sets, st.integers(1, 12), st.integers(1, 7))
def test_every_key_lands_in_exactly_one_range_whatever_the_distribution(keys, shards, page):
    listing = SortedKeys(keys)
    split = split_key_space(listing, "", shards, page_size=page, parallel=1)
    assert 1 <= len(split.ranges) <= shards
    assert all(len(held) == 1 for held in owners(listing.keys, split.ranges).values())
    assert split.ranges[0].start_after == "" and split.ranges[-1].end is None
    ends = [r.end for r in split.ranges[:-1]]
    assert ends == sorted(ends) and len(set(ends)) == len(ends)
    assert split.requests <= default_budget(shards) + 2 * page + 2


@settings(max_examples=100, deadline=None)
@given(key_sets, st.integers(1, 8))
def test_a_split_under_a_prefix_covers_only_that_prefix_exactly_once(keys, shards):
    listing = SortedKeys(keys + ["a/" + k for k in keys] + ["a" + TOP])
    split = split_key_space(listing, "a/", shards, page_size=3, parallel=1)
    assert all(len(held) == 1 for held in owners(listing.keys, split.ranges, "a/").values())


def evenness(keys, shards, **kw):
    listing = SortedKeys(keys)
    split = split_key_space(listing, "p/", shards, **kw)
    sizes = [
        sum(1 for held in owners(listing.keys, [r], "p/").values() if held) for r in split.ranges
    ]
    assert sum(sizes) == len(listing.keys)
    return len(sizes), max(sizes) / (len(listing.keys) / shards), split


def test_sequential_numbered_keys_split_into_equal_shards():
    count, worst, split = evenness([f"p/{i:06d}.bin" for i in range(20_000)], 4)
    assert count == 4 and worst <= 1.01
    assert split.estimated_keys == 20_000 and split.requests <= 40


def test_hash_named_keys_split_within_fifteen_percent_at_forty_shards():
    rng = random.Random(7)
    count, worst, split = evenness([f"p/{rng.getrandbits(40):010x}" for _ in range(50_000)], 40)
    assert count == 40 and worst <= 1.15
    assert abs(split.estimated_keys - 50_000) / 50_000 < 0.1


def test_one_dominant_prefix_is_split_inside_not_given_one_shard():
    keys = [f"p/big/{i:05d}" for i in range(30_000)] + [f"p/small{i}" for i in range(100)]
    count, worst, _ = evenness(keys, 4)
    assert count == 4 and worst <= 1.1


def test_keys_under_a_deep_single_prefix_cost_two_probes_per_run_not_one_per_character():
    keys = ["p/" + "a/" * 200 + f"{i:04d}" for i in range(3_000)]
    count, worst, split = evenness(keys, 4)
    assert count == 4 and worst <= 1.1  # 30 exact nodes of 100 keys: 8/7/8/7 of them
    assert split.requests < 20


def test_a_prefix_with_fewer_keys_than_a_page_is_split_exactly_with_one_request():
    count, worst, split = evenness([f"p/{i}" for i in range(400)], 4)
    assert (count, worst, split.requests, split.exact) == (4, 1.0, 1, True)


def test_a_large_key_space_is_sampled_with_a_bounded_number_of_requests():
    keys = [
        f"p/{y}/{m:02d}/{i:07d}"
        for y in range(2020, 2025)
        for m in range(1, 13)
        for i in range(3000)
    ]
    count, worst, split = evenness(keys, 40)
    assert count == 40 and worst <= 1.5  # uneven month fan-outs: see listing-shards.md
    assert split.requests <= default_budget(40) + 8  # concurrent probes may each finish one


def test_an_empty_prefix_is_one_range_over_everything():
    split = split_key_space(SortedKeys([]), "p/", 8)
    assert [(r.start_after, r.end) for r in split.ranges] == [("", None)]


@settings(max_examples=200, deadline=None)
@given(key_sets, st.integers(1, 12), st.integers(1, 7))
def test_the_estimate_never_falls_below_the_keys_seen_and_is_the_count_when_exact(
    keys, shards, page
):
    listing = SortedKeys(keys)
    split = split_key_space(listing, "", shards, page_size=page, parallel=1)
    assert split.seen_keys <= len(listing.keys)  # a floor: only keys that exist, once each
    assert split.estimated_keys >= split.seen_keys
    if split.exact:
        assert split.estimated_keys == split.seen_keys == len(listing.keys)
    if listing.keys:  # every listed object has size 1 here
        assert split.mean_size == 1 and split.estimated_bytes == split.estimated_keys
    else:
        assert split.estimated_bytes is None


def test_a_sampled_total_of_hash_named_keys_is_within_ten_percent_and_above_its_floor():
    rng = random.Random(7)
    keys = [f"{rng.getrandbits(64):016x}" for _ in range(50_000)]
    split = split_key_space(SortedKeys(keys), "", 8)
    assert not split.exact and 1_000 <= split.seen_keys < 50_000
    assert abs(split.estimated_keys - 50_000) / 50_000 < 0.1


@settings(max_examples=300, deadline=None)
@given(key_sets, st.data(), st.integers(1, 7))
def test_a_listing_implied_by_an_ancestor_page_is_what_the_listing_returns(keys, data, page):
    listing = SortedKeys(keys)
    near = st.text(key_chars, max_size=6)
    if listing.keys:
        near = st.one_of(st.sampled_from(listing.keys), near)
    key = data.draw(near)
    child = key[: data.draw(st.integers(0, len(key)))] + data.draw(st.sampled_from(["", TOP]))
    ancestor = child[: data.draw(st.integers(0, len(child)))]
    page_marker = data.draw(st.one_of(st.just(""), near, near.map(lambda k: k + TOP)))
    marker = data.draw(
        st.one_of(st.just(""), st.just(page_marker), near, near.map(lambda k: k + TOP))
    )
    ancestor_page = listing(ancestor, page_marker, page)
    listed = Listed(page_marker, ancestor_page, [o.key for o in ancestor_page.objects])
    got = implied(listed, child, marker)
    real = listing(child, marker, page)
    if got is None:
        return
    got_keys, real_keys = [o.key for o in got.objects], [o.key for o in real.objects]
    if got.truncated:  # the start of the real answer, never a key the listing would not give
        assert got_keys and got_keys == real_keys[: len(got_keys)]
    else:
        assert got_keys == real_keys and not real.truncated


@settings(max_examples=120, deadline=None)
@given(key_sets, st.integers(1, 12), st.integers(1, 7), st.integers(2, 4))
def test_concurrent_probes_still_put_every_key_in_exactly_one_range(keys, shards, page, parallel):
    listing = SortedKeys(keys)
    split = split_key_space(listing, "", shards, page_size=page, parallel=parallel)
    assert 1 <= len(split.ranges) <= shards
    assert all(len(held) == 1 for held in owners(listing.keys, split.ranges).values())
    ends = [r.end for r in split.ranges[:-1]]
    assert ends == sorted(ends) and len(set(ends)) == len(ends)
    # guesses stop at the budget; only walks already running may each finish one probe
    assert split.requests <= default_budget(shards) + 2 * page + 2 + 2 * parallel


class MeetingKeys(SortedKeys):
    """A listing whose probes wait a moment for ``parties`` of them to be in flight at once."""

    def __init__(self, keys, parties):
        super().__init__(keys)
        self.barrier = threading.Barrier(parties)
        self.met, self.tries = False, 0

    def __call__(self, prefix, marker, max_keys):
        if not self.met and self.tries < 20:  # probes one after another: give up after 20 s
            try:
                self.barrier.wait(timeout=1)
                self.met = True
            except threading.BrokenBarrierError:
                self.tries += 1
                self.barrier.reset()
        return super().__call__(prefix, marker, max_keys)


def test_the_probes_of_one_level_are_in_flight_together():
    listing = MeetingKeys([f"p/{i:06d}.bin" for i in range(20_000)], parties=4)
    split = split_key_space(listing, "p/", 4)
    assert listing.met is True
    alone = SortedKeys(listing.keys)
    one_by_one = split_key_space(alone, "p/", 4, parallel=1)
    # guesses listed ahead cost at most a quarter of the budget on top of the walk itself
    assert split.requests <= one_by_one.requests + default_budget(4) // 4
    assert [r.end for r in split.ranges] == [r.end for r in one_by_one.ranges]
