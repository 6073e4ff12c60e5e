"""The reads that extract a plan: which entries share one ranged GET, and how each is read.

Pure: from the plan, the central directory's offsets and where the previous read
stopped, decide the next read. ``planned_reads`` is a generator the page's dispatcher
drives with ``send(next_index)``, because a stream run can end early (an entry failed,
the page is full) and the next read starts wherever it stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from enum import Enum

from .zipplan import DEFLATE64, STORED, PlannedEntry

DESCRIPTOR_LOOKAHEAD = 16
BLOCK_BYTES = 8 * 1024 * 1024  # one GET for a run of small stored entries
INFLATE64_IN_RUN_BYTES = 16 * 1024


class ReadKind(Enum):
    SKIP = "skip"  # planned as skipped or failed: nothing to read
    DIRECTORY = "directory"  # a directory marker: an empty PUT, nothing to read
    BY_DIRECTORY = "by_directory"  # one entry read with the central directory's sizes and CRC
    STORED_BLOCK = "stored_block"  # small stored-with-descriptor entries from one GET
    STREAM_RUN = "stream_run"  # consecutive entries streamed with stream-unzip from one GET


@dataclass(frozen=True, slots=True)
class PlannedRead:
    kind: ReadKind
    first: int  # plan index of the first entry
    end: int  # plan index after the last entry
    start: int = 0  # byte range of the GET (STORED_BLOCK, STREAM_RUN)
    stop: int = 0


def inflate64_path(p: PlannedEntry) -> bool:
    # stream-unzip inflates Deflate64 in pure Python (~0.3 MB/s); inflate64 does ~75 MB/s
    return p.entry.method == DEFLATE64 and not p.entry.encrypted


def inflate64_alone(p: PlannedEntry) -> bool:
    """A Deflate64 entry inside a run that is worth its own GETs: past ~16 KiB, stream-unzip's
    pure-Python inflate costs more time than the round trip that lets inflate64 take it."""
    return inflate64_path(p) and p.entry.uncompressed_size > INFLATE64_IN_RUN_BYTES


def stored_with_descriptor(p: PlannedEntry) -> bool:
    """A stored entry whose local header leaves its size to a data descriptor (zips written
    front to back): stream-unzip cannot tell where it ends; the central directory can."""
    e = p.entry
    return e.method == STORED and e.has_data_descriptor and not e.encrypted and not e.is_dir


def _in_run(p: PlannedEntry) -> bool:
    return (
        p.extractable
        and not p.entry.is_dir
        and not stored_with_descriptor(p)
        and not inflate64_alone(p)
    )


@dataclass(frozen=True)
class ReadLayout:
    """What the reads need besides the plan: where the directory starts, the package size
    and the biggest entry a stored block may hold."""

    cd_offset: int
    size: int
    small_entry_bytes: int

    def header_at(self, plan: list[PlannedEntry], j: int) -> int:
        """Where entry ``j``'s local header starts (the directory's start after the last)."""
        return plan[j].entry.local_header_offset if j < len(plan) else self.cd_offset


def stream_run(plan: list[PlannedEntry], i: int, layout: ReadLayout) -> PlannedRead:
    end = i
    while end < len(plan) and _in_run(plan[end]):
        end += 1
    # stream-unzip reads 28 bytes after an entry's data to tell which of the four data
    # descriptor forms follows: 16 past the next header covers the shortest (12 bytes)
    stop = min(layout.header_at(plan, end) + DESCRIPTOR_LOOKAHEAD, layout.size)
    return PlannedRead(ReadKind.STREAM_RUN, i, end, plan[i].entry.local_header_offset, stop)


def stored_block(
    plan: list[PlannedEntry], i: int, layout: ReadLayout, room: int | None
) -> PlannedRead:
    """Small stored-with-descriptor entries from ``i`` that one GET of at most BLOCK_BYTES
    covers (at most ``room`` of them); a single BY_DIRECTORY read when ``plan[i]`` stands
    alone or the headers are out of directory order."""
    start = plan[i].entry.local_header_offset
    j = i + 1
    while j < len(plan) and (room is None or j - i < room):
        p = plan[j]
        if not (p.extractable and stored_with_descriptor(p)):
            break
        if p.entry.local_header_offset <= plan[j - 1].entry.local_header_offset:
            break  # headers out of directory order: not one contiguous range
        if p.entry.uncompressed_size > layout.small_entry_bytes:
            break
        if layout.header_at(plan, j + 1) - start > BLOCK_BYTES:
            break
        j += 1
    stop = layout.header_at(plan, j)
    if j == i + 1 or stop <= plan[j - 1].entry.local_header_offset:
        return PlannedRead(ReadKind.BY_DIRECTORY, i, i + 1)
    return PlannedRead(ReadKind.STORED_BLOCK, i, j, start, min(stop, layout.size))


def read_at(plan: list[PlannedEntry], i: int, layout: ReadLayout, room: int | None) -> PlannedRead:
    """The read that extracts ``plan[i]`` (and, for runs and blocks, the entries after it)."""
    p = plan[i]
    if not p.extractable:
        return PlannedRead(ReadKind.SKIP, i, i + 1)
    if inflate64_path(p):
        return PlannedRead(ReadKind.BY_DIRECTORY, i, i + 1)
    if stored_with_descriptor(p):
        return stored_block(plan, i, layout, room)
    if p.entry.is_dir:  # directories == "marker"
        return PlannedRead(ReadKind.DIRECTORY, i, i + 1)
    return stream_run(plan, i, layout)


def planned_reads(
    plan: list[PlannedEntry], marker: int, layout: ReadLayout, room: Callable[[], int | None]
) -> Generator[PlannedRead, int, None]:
    """Reads from ``marker`` to the end; send each read's next index back (it may be less
    than the read's ``end`` when the read stopped early)."""
    i = marker
    while i < len(plan):
        i = yield read_at(plan, i, layout, room())
