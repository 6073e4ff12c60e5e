"""The restore flow's next step for one shard, decided here so the flow only routes.

A shard cycles: submit one page -> wait (first_wait) -> poll that page's range until every
object is readable (poll_seconds between polls; `resubmit` when a poll finds objects never
submitted) -> the next page, until no page is left (`done`) or the polls allowed before the
job deadline run out (`expired`, `done`). The flow waits while `waiting` is true.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import InvalidEvent
from .events import RestoreEvent
from .shards import (
    IndexRange,
    InventoryRange,
    ListingRange,
    RestorePageResult,
    RestoreShard,
    RestoreStepResult,
)

Page = Callable[[RestoreEvent], RestorePageResult]


def advance(event: RestoreEvent, page: Page) -> RestoreStepResult:
    shard = event.shard.model_copy(deep=True)
    if shard.phase == "submit":
        result = _submit(event, shard, page)
    elif shard.phase == "resubmit":
        result = page(_sub_event(event, "submit", shard.poll, shard))
        shard.phase, shard.waiting, shard.next_wait = "poll", True, event.poll_seconds
    else:
        result = _poll(event, shard, page)
    return RestoreStepResult(shard=shard, steps_left=(event.steps_left or 1) - 1, page=result)


def _submit(event: RestoreEvent, shard: RestoreShard, page: Page) -> RestorePageResult:
    here = shard.index or shard.listing or shard.inventory
    result = page(_sub_event(event, "submit", here, shard, totals=True))
    if shard.index is not None:
        polled = IndexRange(offset=shard.index.offset, end=result.next_offset)
        shard.index = shard.index.model_copy(update={"offset": result.next_offset})
    elif shard.inventory is not None:
        # the page's rows: from where it started up to before where the next page starts
        after = {"file": result.next_file, "offset": result.next_offset}
        end = {"end_file": result.next_file, "end": result.next_offset}
        if result.next_offset == 0 and result.next_file > shard.inventory.file:
            end = {"end_file": result.next_file - 1, "end": None}  # a file's end, not the next
        polled = shard.inventory.model_copy(update=end)
        shard.inventory = shard.inventory.model_copy(update=after)
    else:
        polled = ListingRange(marker=shard.listing.marker, end_marker=result.next_marker)
        shard.listing = shard.listing.model_copy(update={"marker": result.next_marker})
    shard.more, shard.pages, shard.totals = not result.done, shard.pages + 1, result.totals
    if result.counters.submitted > 0:
        shard.phase, shard.poll = "poll", polled
        shard.waiting, shard.next_wait = True, event.first_wait_seconds
    elif not shard.more:
        shard.done = True
    return result


def _poll(event: RestoreEvent, shard: RestoreShard, page: Page) -> RestorePageResult:
    result = page(_sub_event(event, "poll", shard.poll, shard))
    shard.polls, shard.polls_left = shard.polls + 1, max(0, shard.polls_left - 1)
    shard.pending = result.counters.pending
    if result.counters.not_submitted > 0:
        shard.phase = "resubmit"  # a lost request: submit the range again, then poll
    elif result.counters.pending > 0 or not result.done:
        if shard.polls_left == 0:
            shard.expired = shard.done = True
        else:
            shard.waiting, shard.next_wait = True, event.poll_seconds
    else:
        shard.phase, shard.poll, shard.pending = "submit", None, 0
        shard.done = not shard.more
    return result


def _sub_event(event: RestoreEvent, mode: str, where, shard: RestoreShard, totals=False):
    """A submit/poll page over `where` (a range of the job's index or listing)."""
    update: dict = {"mode": mode, "shard": None, "steps_left": None, "totals": {}}
    if totals:
        update["totals"] = shard.totals.model_dump()
    kinds = {IndexRange: "index", ListingRange: "listing", InventoryRange: "inventory"}
    kind = kinds[type(where)]
    location = getattr(event, kind)
    if location is None:
        raise InvalidEvent(f"shard {shard.id} has a {kind} range but the request names no {kind!r}")
    update[kind] = location.model_copy(update=where.model_dump())
    return event.model_copy(update=update)
