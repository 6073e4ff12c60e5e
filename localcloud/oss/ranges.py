"""The Range header as OSS reads it: one `bytes=` range; an invalid one means the whole object.

With `x-oss-range-behavior: standard` OSS follows RFC 7233 instead: the end is clipped to the
object, and a start past the end is 416 InvalidRange.
"""

from __future__ import annotations

from . import errors
from .names import is_uint


def parse_range(header: str | None, size: int, standard: bool = False) -> tuple[int, int] | None:
    """(start, end inclusive) to answer 206 with, or None to answer the whole object with 200."""
    if not header:
        return None
    header = header.strip()
    if not header.startswith("bytes=") or "," in header:
        return None
    first, sep, last = header[6:].strip().partition("-")
    first, last = first.strip(), last.strip()
    if (
        not sep
        or (first and not is_uint(first))
        or (last and not is_uint(last))
        or not (first or last)
    ):
        return None
    if not first:  # suffix range: the last N bytes
        n = int(last)
        if n == 0:
            return _unsatisfiable(size) if standard else None
        if n > size:
            return (0, size - 1) if standard and size else None
        return size - n, size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start > end:
        return None
    if start >= size:
        return _unsatisfiable(size) if standard else None
    if end >= size:
        if not standard:
            return None
        end = size - 1
    return start, end


def _unsatisfiable(size: int):
    raise errors.InvalidRange(
        f"The requested range is not satisfiable for an object of {size} bytes.",
        ActualObjectSize=str(size),
    )
