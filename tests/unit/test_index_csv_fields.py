"""CSV index lines are `bucket,key[,versionId]` with URL-encoded keys (as S3 manifests): properties."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.index import IndexLineError, parse_line

buckets = st.from_regex(r"[a-z0-9][a-z0-9-]{1,20}[a-z0-9]", fullmatch=True)
keys = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\n"), min_size=1
)


@given(buckets, keys)
def test_a_url_encoded_key_comes_back_exactly(bucket, key):
    ref = parse_line(f"{bucket},{quote(key, safe='/')}".encode(), default_bucket="dflt")
    assert (ref.bucket, ref.key) == (bucket, key)


not_version_ids = st.from_regex(r"[A-Za-z0-9._/-]{1,12}", fullmatch=True).filter(
    lambda s: s != "null" and not s.startswith("CAEQ")
)


@given(buckets, st.lists(not_version_ids, min_size=2))
def test_a_line_with_more_fields_than_bucket_key_version_is_malformed(bucket, parts):
    line = ",".join([bucket, *parts]).encode()
    with pytest.raises(IndexLineError, match=f"{len(parts) + 1} fields"):
        parse_line(line, default_bucket="dflt")


@given(buckets, keys, st.from_regex(r"CAEQ[A-Za-z0-9_-]{8,40}", fullmatch=True) | st.just("null"))
def test_a_third_field_names_the_version_as_in_s3_manifests(bucket, key, version_id):
    ref = parse_line(f"{bucket},{quote(key, safe='/')},{version_id}".encode(), default_bucket="d")
    assert (ref.bucket, ref.key, ref.version_id) == (bucket, key, version_id)


def test_jsonl_names_the_version_in_version_id():
    ref = parse_line(b'{"key": "k", "version_id": "CAEQabcdefgh"}', default_bucket="b")
    assert ref.version_id == "CAEQabcdefgh"
    with pytest.raises(IndexLineError, match="version id"):
        parse_line(b'{"key": "k", "version_id": 7}', default_bucket="b")


def test_a_quoted_field_may_hold_a_comma():
    ref = parse_line(b'bkt,"a,b.txt"', default_bucket="dflt")
    assert ref.key == "a,b.txt"
