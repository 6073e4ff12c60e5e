"""Listing shards against localcloud through oss2: the split's ranges, listed by the copy
handler's own listing with an end bound, hand out every key exactly once."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.listing import iter_listing, oss_list_page
from ossbatch.keysplit import split_key_space
from ossbatch.retrying import call


class Retry:
    call = staticmethod(call)


key_chars = st.sampled_from(list("ab/0-9é中 ") + ["\U0001f600", "~"])
key_sets = st.one_of(
    st.lists(st.text(key_chars, min_size=1, max_size=10), min_size=0, max_size=40, unique=True),
    st.lists(st.text(key_chars, min_size=1, max_size=3), max_size=40, unique=True).map(
        lambda ks: ["d/" + "deep/" * 30 + k for k in ks]
    ),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(keys=key_sets, shards=st.integers(1, 6), page=st.integers(1, 5))
def test_listing_shards_of_a_real_bucket_hand_out_every_key_once(bucket, keys, shards, page):
    prefix = f"t{uuid.uuid4().hex[:8]}/"
    for key in keys:
        bucket.put_object(prefix + key, b"x")
    list_page = oss_list_page(bucket, Retry())
    split = split_key_space(list_page, prefix, shards, page_size=page, parallel=2)
    handed_out = []
    for r in split.ranges:
        listed = iter_listing(list_page, prefix, r.start_after, r.end, page_size=page)
        handed_out.extend(o.key for o in listed)
    assert sorted(handed_out) == sorted(prefix + k for k in keys)
    assert len(split.ranges) <= shards
