"""Index paging: every line is handed out exactly once, whatever the page boundaries."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.index import BOM, IndexLineError, IndexPage, ObjectRef, parse_line


def fetcher(data: bytes, log: list | None = None):
    def fetch(start: int, end: int) -> bytes:
        assert 0 <= start < end <= len(data), (start, end, len(data))
        if log is not None:
            log.append((start, end))
        return data[start:end]

    return fetch


def expected_lines(data: bytes) -> list[tuple[int, bytes]]:
    """Reference: split on LF; a line starts at 0 or after a LF and is not empty-at-EOF."""
    out, pos = [], 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        stop = len(data) if nl < 0 else nl
        raw = data[pos:stop]
        if pos == 0 and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        out.append((pos, raw.removesuffix(b"\r")))
        pos = len(data) if nl < 0 else nl + 1
    return out


line_text = st.text(
    alphabet=st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=12
)


@st.composite
def indexes(draw):
    lines = draw(st.lists(line_text, max_size=25))
    endings = draw(
        st.lists(st.sampled_from(["\n", "\r\n"]), min_size=len(lines), max_size=len(lines))
    )
    body = "".join(line + end for line, end in zip(lines, endings, strict=True))
    if draw(st.booleans()) and body:
        body = body[: -len(endings[-1])]  # no trailing newline
    data = body.encode("utf-8")
    if draw(st.booleans()):
        data = BOM + data
    return data


@settings(max_examples=300, deadline=None)
@given(data=indexes(), cuts=st.lists(st.integers(0, 400), max_size=6), chunk=st.integers(1, 16))
def test_every_line_belongs_to_exactly_one_page(data, cuts, chunk):
    bounds = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    seen = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        for line in IndexPage(fetcher(data), len(data), start, end, chunk_size=chunk):
            assert start <= line.offset < end, "a line is owned by the page holding its first byte"
            seen.append((line.offset, line.raw))
    assert seen == expected_lines(data)


@settings(max_examples=200, deadline=None)
@given(data=indexes(), stop_after=st.integers(0, 30), chunk=st.integers(1, 64))
def test_resuming_at_next_offset_continues_without_gap_or_repeat(data, stop_after, chunk):
    first = []
    page = IndexPage(fetcher(data), len(data), 0, chunk_size=chunk)
    next_offset = 0
    for line in page:
        if len(first) == stop_after:
            break
        first.append((line.offset, line.raw))
        next_offset = line.next_offset
    rest = [
        (ln.offset, ln.raw)
        for ln in IndexPage(fetcher(data), len(data), next_offset, chunk_size=chunk)
    ]
    assert first + rest == expected_lines(data)


def test_page_reads_only_a_little_past_its_end():
    data = b"".join(b'{"key":"k%05d"}\n' % i for i in range(2000))
    log: list = []
    lines = list(IndexPage(fetcher(data, log), len(data), 1000, 2000, chunk_size=256))
    assert lines[0].offset >= 1000 and lines[-1].offset < 2000
    assert max(end for _, end in log) <= 2000 + 256 + 16


def test_last_line_without_trailing_newline_ends_the_page():
    data = b'{"key":"a"}\n{"key":"b"}'
    lines = list(IndexPage(fetcher(data), len(data)))
    assert [ln.raw for ln in lines] == [b'{"key":"a"}', b'{"key":"b"}']
    assert lines[-1].next_offset == len(data)


def test_bom_crlf_and_blank_lines():
    data = BOM + b"b1,k%201\r\n\r\n\nb2,k2"
    refs = [parse_line(ln.raw, default_bucket="d") for ln in IndexPage(fetcher(data), len(data))]
    assert refs == [ObjectRef("b1", "k 1"), None, None, ObjectRef("b2", "k2")]


def test_jsonl_line_with_optional_fields():
    ref = parse_line(b'{"key": "a/b", "size": 5, "etag": "\\"abc\\""}', default_bucket="src")
    assert ref == ObjectRef("src", "a/b", 5, "ABC")


def test_csv_key_is_url_decoded_and_may_contain_commas_when_quoted():
    assert parse_line(b'bkt,"a%2Cb%2F%E4%B8%AD"', default_bucket="x") == ObjectRef("bkt", "a,b/中")


@pytest.mark.parametrize(
    "raw,needle",
    [
        (b'{"key": 1}', "key"),
        (b"{not json", "invalid JSON"),
        (b"only-one-column", "bucket,key"),
        (b"\xff\xfe", "UTF-8"),
        (b'{"key": "a", "size": -1}', "size"),
    ],
)
def test_malformed_lines_raise_a_clear_error(raw, needle):
    with pytest.raises(IndexLineError, match=needle):
        parse_line(raw, default_bucket="d")


@settings(max_examples=200, deadline=None)
@given(
    bucket=st.from_regex(r"[a-z0-9][a-z0-9-]{2,20}", fullmatch=True),
    key=st.text(min_size=1, max_size=40),
)
def test_csv_roundtrip_of_url_encoded_keys(bucket, key):
    from urllib.parse import quote

    if not key.strip() or "\x00" in key:
        return
    raw = f"{bucket},{quote(key, safe='')}".encode()
    assert parse_line(raw, fmt="csv", default_bucket="x") == ObjectRef(bucket, key)


# destination view (listing windows instead of HEADs) ----------------------------

import threading  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

from handlers.destview import DestinationView  # noqa: E402
from handlers.listing import ListedObject, ListingPage, iter_listing  # noqa: E402


def fake_list_page(keys: list[str], calls: list | None = None):
    ordered = sorted(keys)

    def list_page(prefix, marker, max_keys):
        if calls is not None:
            calls.append(marker)
        hits = [k for k in ordered if k.startswith(prefix) and k > marker]
        page = hits[:max_keys]
        return ListingPage(
            [ListedObject(k, 1, "E", "Standard") for k in page],
            len(hits) > max_keys,
            page[-1] if page else "",
        )

    return list_page


@settings(max_examples=300, deadline=None)
@given(
    present=st.sets(st.text(alphabet="abc/", min_size=1, max_size=5), max_size=40),
    asked=st.lists(st.text(alphabet="abc/", min_size=1, max_size=5), max_size=40),
    page=st.integers(1, 7),
)
def test_destination_view_answers_exactly_like_a_head_per_key(present, asked, page):
    view = DestinationView(fake_list_page(list(present)), "", page_size=page)
    for key in asked:
        assert (view.lookup(key) is not None) == (key in present)


def test_destination_view_needs_one_listing_per_page_of_sorted_keys():
    calls: list = []
    keys = [f"k{i:05d}" for i in range(2500)]
    view = DestinationView(fake_list_page(keys[::2], calls), "", page_size=1000)
    assert sum(view.lookup(k) is not None for k in keys) == 1250
    assert len(calls) <= 4


def test_a_lookup_that_hits_is_answered_while_another_worker_lists():
    keys = [f"k{i:04d}" for i in range(20)]
    inner = fake_list_page(keys)
    listing, release = threading.Event(), threading.Event()

    def list_page(prefix, marker, max_keys):
        if marker >= "k0009":  # the second window's LIST stalls until released
            listing.set()
            assert release.wait(30), "the test never released the LIST"
        return inner(prefix, marker, max_keys)

    view = DestinationView(list_page, "", page_size=10)
    assert view.lookup("k0003") is not None  # first window: k0000..k0009
    with ThreadPoolExecutor(1) as pool:
        miss = pool.submit(view.lookup, "k0015")
        assert listing.wait(30)
        # answered from the first window while the LIST for the second is in flight
        assert view.lookup("k0005") is not None and view.lookup("k00051") is None
        assert not miss.done()
        release.set()
        assert miss.result(30) is not None
    assert view.lists == 2


@settings(max_examples=50, deadline=None)
@given(
    present=st.sets(st.text(alphabet="abc", min_size=1, max_size=4), max_size=40),
    asked=st.lists(st.text(alphabet="abc", min_size=1, max_size=4), max_size=60),
    page=st.integers(1, 7),
)
def test_concurrent_lookups_answer_exactly_like_a_head_per_key(present, asked, page):
    view = DestinationView(fake_list_page(list(present)), "", page_size=page)
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(view.lookup, asked))
    assert [f is not None for f in found] == [k in present for k in asked]


@settings(max_examples=100, deadline=None)
@given(
    keys=st.sets(st.text(alphabet="ab", min_size=1, max_size=6), max_size=30),
    marker=st.text(alphabet="ab", max_size=6),
    page=st.integers(1, 5),
)
def test_listing_yields_every_key_after_the_marker_once(keys, marker, page):
    got = [o.key for o in iter_listing(fake_list_page(list(keys)), "", marker, page_size=page)]
    assert got == sorted(k for k in keys if k > marker)


@settings(max_examples=200, deadline=None)
@given(
    keys=st.sets(st.text(alphabet="ab", min_size=1, max_size=6), max_size=30),
    marker=st.text(alphabet="ab", max_size=6),
    end=st.one_of(st.none(), st.text(alphabet="ab", max_size=6)),
    page=st.integers(1, 5),
    prefetch=st.booleans(),
)
def test_a_bounded_listing_yields_its_range_once_and_lists_no_page_past_its_end(
    keys, marker, end, page, prefetch
):
    calls: list = []
    listed = iter_listing(
        fake_list_page(list(keys), calls), "", marker, end, page_size=page, prefetch=prefetch
    )
    got = [o.key for o in listed]
    assert got == sorted(k for k in keys if k > marker and (end is None or k <= end))
    # every page but the first starts at a key the range still needed
    assert all(end is None or m < end for m in calls[1:])
    in_range = len(got)
    assert len(calls) <= in_range // page + 2


def test_a_prefetching_listing_abandoned_mid_page_lists_at_most_one_page_ahead():
    calls: list = []
    keys = [f"k{i:04d}" for i in range(50)]
    listed = iter_listing(fake_list_page(keys, calls), "", "", page_size=10, prefetch=True)
    taken = [next(listed).key for _ in range(15)]
    listed.close()
    assert taken == keys[:15]
    assert len(calls) <= 3  # the page in hand, the one after it, and nothing more
