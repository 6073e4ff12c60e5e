"""The restore flow's next step, decided by the function (handlers/restorestep.py): for any
sequence of page outcomes the shard ends done, never waits 0 s, polls only what it submitted,
submits again what a poll found never submitted, and expires only when its polls ran out."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.events import RestoreEvent
from handlers.restorestep import advance
from handlers.shards import (
    IndexRange,
    ListingRange,
    RestoreCounters,
    RestorePageResult,
    RestoreShard,
)

INDEX = {"bucket": "src-bucket", "key": "index.csv"}


def event(shard: RestoreShard, listing: bool = False) -> RestoreEvent:
    where = {"listing": {"bucket": "src-bucket", "prefix": "p/"}} if listing else {"index": INDEX}
    return RestoreEvent(
        job_id="restore-1",
        mode="step",
        shard=shard,
        steps_left=100,
        first_wait_seconds=7,
        poll_seconds=3,
        **where,
    )


class Cloud:
    """Page outcomes drawn by hypothesis, in the order the steps ask for them."""

    def __init__(self, draws, pages: int):
        self.draws, self.pages_left, self.calls = draws, pages, []

    def __call__(self, sub: RestoreEvent) -> RestorePageResult:
        self.calls.append(sub)
        if sub.mode == "submit":
            position = (sub.index.offset if sub.index else 0) + 10
            done = self.pages_left <= 1
            self.pages_left -= 1
            submitted = self.draws.draw(st.integers(0, 3))
            counters = RestoreCounters(submitted=submitted, done=submitted)
            return RestorePageResult(
                done=done, next_offset=position, counters=counters, totals=counters
            )
        pending = self.draws.draw(st.integers(0, 2))
        lost = self.draws.draw(st.integers(0, 1))
        counters = RestoreCounters(pending=pending, not_submitted=lost)
        return RestorePageResult(done=True, counters=counters, totals=counters)


@settings(max_examples=200)
@given(st.data(), st.integers(1, 5), st.integers(1, 6))
def test_every_shard_ends_done_and_only_waits_before_polls(data, pages, polls):
    shard = RestoreShard(id=0, index=IndexRange(offset=0, end=10 * pages), polls_left=polls)
    cloud = Cloud(data, pages)
    for _ in range(200):
        if shard.done:
            break
        result = advance(event(shard), cloud)
        shard = result.shard
        assert result.steps_left == 99
        if shard.waiting:
            assert shard.next_wait in (7, 3) and shard.phase == "poll"
        if shard.phase == "resubmit":
            assert cloud.calls[-1].mode == "poll", "only a poll finds objects never submitted"
        if shard.expired:
            assert shard.polls_left == 0 and shard.done
        shard.waiting = False  # the flow waited
    assert shard.done, shard
    polled = [c for c in cloud.calls if c.mode == "poll"]
    assert all(c.index.end is not None for c in polled), "a poll covers the submitted range only"


def test_a_poll_that_finds_objects_never_submitted_submits_the_range_again():
    shard = RestoreShard(
        id=3, index=IndexRange(offset=40, end=80), phase="poll", poll=IndexRange(offset=20, end=40)
    )
    lost = RestorePageResult(
        done=True, counters=RestoreCounters(not_submitted=2), totals=RestoreCounters()
    )
    step = advance(event(shard), lambda sub: lost)
    assert (step.shard.phase, step.shard.waiting) == ("resubmit", False)
    calls = []

    def submit(sub):
        calls.append(sub)
        return RestorePageResult(done=True, counters=RestoreCounters(), totals=RestoreCounters())

    again = advance(event(step.shard), submit)
    assert (calls[0].mode, calls[0].index.offset, calls[0].index.end) == ("submit", 20, 40)
    assert (again.shard.phase, again.shard.waiting, again.shard.next_wait) == ("poll", True, 3)
    assert again.shard.index == IndexRange(offset=40, end=80), "resubmitting keeps the position"


def test_a_listing_shard_polls_the_keys_its_page_submitted():
    shard = RestoreShard(id=0, listing=ListingRange(marker="a", end_marker="z"))
    page = RestorePageResult(
        done=False,
        next_marker="m",
        counters=RestoreCounters(submitted=4, done=4),
        totals=RestoreCounters(submitted=4, done=4),
    )
    calls = []
    step = advance(event(shard, listing=True), lambda sub: calls.append(sub) or page)
    assert (calls[0].listing.marker, calls[0].listing.end_marker) == ("a", "z")
    assert step.shard.poll == ListingRange(marker="a", end_marker="m")
    assert step.shard.listing == ListingRange(marker="m", end_marker="z")
    assert (step.shard.waiting, step.shard.next_wait, step.shard.more) == (True, 7, True)


INVENTORY = {
    "bucket": "inv-bucket",
    "manifest_key": "inv/src/id/2026-12-01T00-00Z/manifest.json",
    "source_bucket": "src-bucket",
}


def test_an_inventory_shard_polls_exactly_the_rows_its_submit_page_took():
    from handlers.shards import InventoryRange

    shard = RestoreShard(id=0, inventory=InventoryRange(file=0, offset=40, end_file=2, end=None))
    step = RestoreEvent(
        job_id="restore-1", mode="step", shard=shard, steps_left=9, first_wait_seconds=7,
        poll_seconds=3, inventory=INVENTORY,
    )  # fmt: skip
    seen = []

    def page(sub: RestoreEvent) -> RestorePageResult:
        seen.append(sub.inventory)
        counters = RestoreCounters(submitted=2, done=2)
        # the page ended at the last row of file 0: it continues at the start of file 1
        return RestorePageResult(
            done=False, next_file=1, next_offset=0, counters=counters, totals=counters
        )

    after = advance(step, page).shard
    assert (seen[0].file, seen[0].offset, seen[0].end_file, seen[0].end) == (0, 40, 2, None)
    assert (after.inventory.file, after.inventory.offset) == (1, 0)
    # the poll covers the rest of file 0, never reaches into file 1
    assert after.poll == InventoryRange(file=0, offset=40, end_file=0, end=None)
    assert after.phase == "poll" and after.waiting and after.next_wait == 7
    again = after.model_copy(update={"waiting": False})
    advance(step.model_copy(update={"shard": again}), page)
    assert (seen[1].file, seen[1].offset, seen[1].end_file, seen[1].end) == (0, 40, 0, None)
