"""Reading OSS bucket inventories: manifest, gzipped CSV rows, URL-encoded keys, and the
(file, offset) ranges that shard them. Fixtures are built here as OSS writes them
(https://www.alibabacloud.com/help/en/oss/user-guide/bucket-inventory)."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.inventory import (
    InventoryError,
    InventoryRowError,
    csv_lines,
    decode_key,
    gunzip,
    inventory_root,
    parse_manifest,
    parse_row,
    range_lines,
)
from ossbatch.inventoryplan import split_ranges

SCHEMA = (
    "Bucket, Key, Size, StorageClass, LastModifiedDate, ETag, IsMultipartUploaded, EncryptionStatus"
)
FIELDS = tuple(f.strip() for f in SCHEMA.split(","))

keys = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40)


def csv_row(values: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow(values)
    return out.getvalue().encode()


def row_for(key: str, size: int = 3) -> bytes:
    return csv_row(
        [
            "src",
            quote(key, safe=""),
            str(size),
            "Standard",
            "2026-11-30T10:00:00Z",
            "ABCDEF",
            "false",
            "false",
        ]
    )


def manifest(files: list[tuple[str, bytes]], **overrides) -> bytes:
    doc = {
        "creationTimestamp": "1764496800",
        "destinationBucket": "inv",
        "fileFormat": "CSV",
        "fileSchema": SCHEMA,
        "files": [
            {"key": k, "size": len(b), "MD5checksum": hashlib.md5(b).hexdigest().upper()}
            for k, b in files
        ],
        "sourceBucket": "src",
        "version": "2019-09-01",
    }
    doc.update(overrides)
    return json.dumps(doc).encode()


# --- keys ---------------------------------------------------------------------------------


@given(keys)
def test_a_percent_encoded_key_decodes_to_itself(key):
    assert decode_key(quote(key, safe="")) == key


@given(keys)
def test_a_form_encoded_key_decodes_to_itself_when_plus_is_space(key):
    assert decode_key(quote_plus(key, safe=""), plus_is_space=True) == key


def test_plus_is_a_plus_by_default_and_a_space_when_chosen():
    assert decode_key("a+b%20c") == "a+b c"
    assert decode_key("a+b%20c", plus_is_space=True) == "a b c"


def test_a_key_that_is_not_utf8_after_decoding_is_a_row_error():
    with pytest.raises(InventoryRowError, match="UTF-8"):
        decode_key("%FF%FE")


@given(keys, st.integers(0, 2**50))
def test_a_row_of_any_key_reads_back_with_its_fields(key, size):
    row = parse_row(row_for(key, size).rstrip(b"\n"), FIELDS, "fallback")
    assert (row.bucket, row.key, row.size, row.storage_class) == ("src", key, size, "Standard")
    assert row.last_modified == 1796032800.0 and row.etag == "ABCDEF" and row.current


def test_versioned_rows_say_which_are_current():
    fields = ("Bucket", "Key", "VersionId", "IsLatest", "IsDeleteMarker", "Size")
    old = parse_row(csv_row(["b", "k", "CAEQ1", "false", "false", "1"]), fields, "b")
    marker = parse_row(csv_row(["b", "k", "CAEQ2", "true", "true", ""]), fields, "b")
    latest = parse_row(csv_row(["b", "k2", "CAEQ3", "true", "false", "5"]), fields, "b")
    assert (old.current, marker.current, latest.current) == (False, False, True)
    assert latest.version_id == "CAEQ3" and marker.size is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'"src","k","x","Standard","2026-11-30T10:00:00Z","E","false","false"', "Size"),
        (b'"src","k","1","Standard","yesterday","E","false","false"', "LastModifiedDate"),
        (b'"src","k","1","Standard","2026-11-30T10:00:00","E","false","false"', "time zone"),
        (b'"src","k","1"', "3 fields"),
        (b'"src","","1","Standard","2026-11-30T10:00:00Z","E","false","false"', "empty"),
        (b'"src","k\xff","1","S","2026-11-30T10:00:00Z","E","false","false"', "UTF-8"),
    ],
)
def test_a_row_that_does_not_fit_the_schema_names_the_field(raw, message):
    with pytest.raises(InventoryRowError, match=message):
        parse_row(raw, FIELDS, "src")


# --- manifest -----------------------------------------------------------------------------


def test_the_manifest_names_its_files_and_columns():
    m = parse_manifest(manifest([("inv/src/id/data/a.csv.gz", b"x" * 20)]), "m")
    assert m.source_bucket == "src" and m.fields == FIELDS
    assert m.files[0].key == "inv/src/id/data/a.csv.gz" and m.files[0].size == 20


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "is not JSON"),
        (manifest([], fileFormat="ORC"), "fileFormat 'ORC'"),
        (manifest([], fileSchema="Bucket, Size"), "no Key"),
        (manifest([], fileSchema="Bucket, Key, Key"), "repeated"),
        (json.dumps({"fileFormat": "CSV"}).encode(), "sourceBucket"),
    ],
)
def test_a_manifest_oss_would_not_write_is_refused_by_name(raw, message):
    with pytest.raises(InventoryError, match=message) as caught:
        parse_manifest(raw, "oss://inv/m.json")
    assert "oss://inv/m.json" in str(caught.value) and "\n" not in str(caught.value)


def test_the_inventory_root_holds_every_run_of_the_inventory():
    assert inventory_root("pre/src/id/2026-11-30T10-00Z/manifest.json") == "pre/src/id/"
    assert inventory_root("manifest.json") is None


# --- gzip data files ----------------------------------------------------------------------


def gz_members(data: bytes, cuts: list[int]) -> bytes:
    """data compressed as several gzip members cut at ``cuts`` (OSS may concatenate)."""
    bounds = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    return b"".join(gzip.compress(data[a:b]) for a, b in zip(bounds, bounds[1:], strict=False))


def chunked(blob: bytes, size: int):
    return (blob[i : i + size] for i in range(0, len(blob), size))


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(keys, min_size=1, max_size=30),
    st.lists(st.integers(0, 10**6), max_size=3),
    st.integers(1, 64),
)
def test_gunzip_reads_every_member_in_any_chunking(names, cuts, chunk):
    data = b"".join(row_for(k) for k in names)
    blob = gz_members(data, cuts)
    md5 = hashlib.md5(blob).hexdigest()
    assert b"".join(gunzip(chunked(blob, chunk), "f", md5)) == data


def test_a_data_file_whose_md5_differs_from_the_manifest_names_the_file():
    blob = gzip.compress(row_for("a"))
    with pytest.raises(
        InventoryError, match=r"oss://inv/data/a.csv.gz has MD5 .* manifest says 0+"
    ):
        list(gunzip(iter([blob]), "oss://inv/data/a.csv.gz", "0" * 32))


@pytest.mark.parametrize(
    "blob",
    [b"", gzip.compress(b'"a"\n', mtime=0)[:-3], b"plain text, not gzip"],
    ids=["empty", "truncated", "plain"],
)
def test_a_truncated_empty_or_plain_data_file_is_refused(blob):
    with pytest.raises(InventoryError, match="oss://inv/d.csv.gz"):
        list(gunzip(iter([blob]), "oss://inv/d.csv.gz"))


# --- ranges: every row in exactly one shard ----------------------------------------------


def test_csv_lines_give_offsets_and_mark_the_last_row():
    lines = list(csv_lines(iter([b"ab\nc", b"d\r\nef"])))
    assert [(x.offset, x.next_offset, x.raw, x.last) for x in lines] == [
        (0, 3, b"ab", False),
        (3, 7, b"cd", False),
        (7, 9, b"ef", True),
    ]


@settings(max_examples=300)
@given(
    st.binary(max_size=80).map(lambda b: bytes(b"ab\r\n"[x % 4] for x in b)),
    st.integers(1, 9),
    st.integers(0, 90),
    st.one_of(st.none(), st.integers(0, 90)),
)
def test_rows_from_an_offset_are_the_whole_files_rows_from_there_in_any_chunking(
    data, chunk, start, end
):
    # a page deep in a file skips to its start without building the rows before it
    whole = [(x.offset, x.next_offset, x.raw, x.last) for x in csv_lines(iter([data]))]
    expected = [r for r in whole if r[0] >= start and (end is None or r[0] < end)]
    got = csv_lines(chunked(data, chunk), start, end)
    assert [(x.offset, x.next_offset, x.raw, x.last) for x in got] == expected


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(keys, max_size=12), min_size=0, max_size=5),
    st.lists(st.integers(0, 4000), min_size=5, max_size=5),
    st.integers(1, 12),
    st.integers(1, 9),
)
def test_every_row_lies_in_exactly_one_shard_whatever_the_size_estimates(
    files, guesses, count, chunk
):
    """The plan cuts by *estimated* decompressed sizes (gzip trailers, or a guess); the
    rows every shard reads must still be each row exactly once, in order."""
    datas = [b"".join(row_for(k) for k in names) for names in files]
    estimates = [guesses[n] for n in range(len(datas))]  # deliberately unrelated to the truth
    ranges = split_ranges(estimates, count)

    def open_file(n):
        return chunked(datas[n], chunk)

    seen = []
    for r in ranges:
        for number, line in range_lines(open_file, len(datas), r.file, r.offset, r.end_file, r.end):
            seen.append((number, line.offset))
    expected = [(n, x.offset) for n, d in enumerate(datas) for x in csv_lines(iter([d]))]
    assert seen == expected


@given(st.lists(st.integers(0, 10**7), min_size=1, max_size=30), st.integers(1, 40))
def test_the_split_makes_ordered_ranges_that_tile_the_files(inflated, count):
    ranges = split_ranges(inflated, count)
    assert 1 <= len(ranges) <= count
    assert (ranges[0].file, ranges[0].offset) == (0, 0)
    assert (ranges[-1].end_file, ranges[-1].end) == (len(inflated) - 1, None)
    for a, b in zip(ranges, ranges[1:], strict=False):
        end = (a.end_file + 1, 0) if a.end is None else (a.end_file, a.end)
        assert end == (b.file, b.offset) or (
            a.end is None and b.offset == 0 and b.file == a.end_file + 1
        )
        assert (a.file, a.offset) < (b.file, b.offset)


def test_a_large_file_is_cut_into_byte_ranges_and_small_files_are_grouped():
    one_big = split_ranges([40 * 2**20], 4)
    assert [(r.file, r.offset, r.end_file, r.end) for r in one_big] == [
        (0, 0, 0, 10 * 2**20),
        (0, 10 * 2**20, 0, 20 * 2**20),
        (0, 20 * 2**20, 0, 30 * 2**20),
        (0, 30 * 2**20, 0, None),
    ]
    many_small = split_ranges([2**20] * 8, 4)
    assert [(r.file, r.offset, r.end_file, r.end) for r in many_small] == [
        (0, 0, 1, None),
        (2, 0, 3, None),
        (4, 0, 5, None),
        (6, 0, 7, None),
    ]


def test_an_empty_inventory_is_one_shard_with_nothing_to_read():
    (only,) = split_ranges([], 8)
    assert (
        list(range_lines(lambda n: iter([]), 0, only.file, only.offset, only.end_file, only.end))
        == []
    )
