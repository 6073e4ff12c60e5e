"""Checks before a job starts (ossbatch.preflight): properties of what is accepted."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ossbatch import preflight
from ossbatch.cloud import ConfigError
from ossbatch.jobdocs import OssUrl


def any_case(word: str):
    return st.tuples(*[st.sampled_from([c.lower(), c.upper()]) for c in word]).map("".join)


@given(
    st.sampled_from(preflight.STORAGE_CLASSES).flatmap(lambda c: st.tuples(st.just(c), any_case(c)))
)
def test_a_storage_class_in_any_case_becomes_its_canonical_name(pair):
    canonical, spelled = pair
    assert preflight.storage_class(spelled) == canonical


@given(st.text(min_size=1, max_size=20))
def test_anything_else_is_refused_naming_every_valid_class(text):
    if text.lower() in {c.lower() for c in preflight.STORAGE_CLASSES}:
        return
    with pytest.raises(ConfigError) as refused:
        preflight.storage_class(text)
    assert all(c in str(refused.value) for c in preflight.STORAGE_CLASSES)


@given(st.from_regex(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", fullmatch=True))
def test_oss_bucket_names_are_accepted(name):
    assert preflight.bucket_name(name, "--dest") == name


@given(st.text(max_size=70))
def test_a_name_outside_the_rules_is_refused(name):
    valid = (
        3 <= len(name) <= 63
        and all(c in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in name)
        and name[0] != "-"
        and name[-1] != "-"
    )
    if valid:
        assert preflight.bucket_name(name, "x") == name
    else:
        with pytest.raises(ConfigError):
            preflight.bucket_name(name, "x")


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_page_seconds_must_be_finite_and_below_the_function_timeout(value):
    ok = math.isfinite(value) and 1 <= value < 60
    if ok:
        assert preflight.page_seconds(value, 60) == value
    else:
        with pytest.raises(ConfigError):
            preflight.page_seconds(value, 60)


@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=30), st.text(max_size=30))
def test_a_destination_is_nested_exactly_when_its_prefix_lies_inside_the_source(src, dst):
    source, dest = OssUrl("bkt", src), OssUrl("bkt", dst)
    nested = bool(dst) and dst.startswith(src)
    if nested:
        with pytest.raises(ConfigError, match="--allow-nested"):
            preflight.not_nested(dest, None, source, allow_nested=False)
    else:
        preflight.not_nested(dest, None, source, allow_nested=False)
    preflight.not_nested(dest, None, source, allow_nested=True)
    preflight.not_nested(dest, None, OssUrl("other", src), allow_nested=False)


@pytest.mark.parametrize(
    "klass, days, ok",
    [
        ("Archive", 7, True),
        ("Archive", 8, False),
        ("ColdArchive", 365, True),
        ("DeepColdArchive", 366, False),
        (None, 365, True),
        ("Archive", 0, False),
    ],
)
def test_restore_days_follow_the_sampled_class(klass, days, ok):
    if ok:
        preflight.restore_days(days, klass)
    else:
        with pytest.raises(ConfigError):
            preflight.restore_days(days, klass)
