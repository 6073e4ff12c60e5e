"""Range header rules (no HTTP): OSS legacy (invalid -> whole) and x-oss-range-behavior: standard."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localcloud.oss import errors
from localcloud.oss.ranges import parse_range


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-499", 1000, (0, 499)),
        ("bytes=500-", 1000, (500, 999)),
        ("bytes=-500", 1000, (500, 999)),
        ("bytes=0-1999", 1000, None),  # end past the object: whole object
        ("bytes=1000-2000", 1000, None),
        ("bytes=5-1", 1000, None),
        ("bytes=0-1,3-4", 1000, None),  # multiple ranges are not supported: whole object
        ("items=0-1", 1000, None),
        ("bytes=-0", 1000, None),
        ("bytes=-", 1000, None),
        (None, 10, None),
    ],
)
def test_legacy_rules(header, size, expected):
    assert parse_range(header, size) == expected


def test_standard_behavior_clips_and_rejects():
    assert parse_range("bytes=0-1999", 1000, standard=True) == (0, 999)
    assert parse_range("bytes=-2000", 1000, standard=True) == (0, 999)
    with pytest.raises(errors.InvalidRange):
        parse_range("bytes=1000-2000", 1000, standard=True)


@given(header=st.text(max_size=30), size=st.integers(0, 10_000), standard=st.booleans())
def test_any_header_gives_none_or_a_range_inside_the_object(header, size, standard):
    try:
        result = parse_range(header, size, standard)
    except errors.InvalidRange:
        assert standard
        return
    if result is not None:
        start, end = result
        assert 0 <= start <= end < size
