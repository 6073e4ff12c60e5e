"""Notification bodies decode whether the sender base64-encoded them or not."""

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ossbatch.notifications import NotificationBodyError, decode_body

json_objects = st.dictionaries(
    st.text(max_size=10),
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
    max_size=6,
)


@given(json_objects)
def test_a_plain_json_body_decodes_to_the_same_object(doc):
    assert decode_body(json.dumps(doc, ensure_ascii=False)) == doc


@given(json_objects)
def test_a_base64_json_body_decodes_to_the_same_object(doc):
    encoded = base64.b64encode(json.dumps(doc, ensure_ascii=False).encode()).decode()
    assert decode_body(encoded) == doc


def test_a_body_that_is_neither_names_what_it_got():
    with pytest.raises(NotificationBodyError, match="neither JSON nor base64"):
        decode_body("not json at all")


def test_a_json_array_is_not_a_notification():
    with pytest.raises(NotificationBodyError, match="not an object"):
        decode_body("[1, 2]")
