"""Object filters: rclone-style globs, class/size/time windows, reasons."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.events import ObjectFilter
from handlers.filters import ObjectFacts, glob_regex, needs_head, rejection
from ossbatch.cloud import ConfigError
from ossbatch.jobfilters import object_filter


def facts(key="a/b.txt", size=10, cls="Standard", mtime=1000.0):
    return ObjectFacts(key, size, cls, mtime)


@pytest.mark.parametrize(
    "pattern, path, matches",
    [
        ("*.jpg", "a.jpg", True),
        ("*.jpg", "dir/a.jpg", True),  # unanchored: matches the last path element
        ("*.jpg", "dir/a.jpg.bak", False),
        ("/*.jpg", "dir/a.jpg", False),  # anchored at the source prefix
        ("/*.jpg", "a.jpg", True),
        ("dir/**", "dir/x/y/z", True),
        ("dir/*", "dir/x/y", False),
        ("a?c", "abc", True),
        ("a?c", "a/c", False),
        ("file[0-9].txt", "file7.txt", True),
        ("*.{jpg,png}", "x/y.png", True),
        ("*.{jpg,png}", "x/y.gif", False),
        ("中文/*", "根/中文/文件", True),
        ("c.txt", "abc.txt", False),  # whole path elements only
    ],
)
def test_globs_follow_rclone(pattern, path, matches):
    assert bool(glob_regex(pattern).match(path)) is matches


@given(
    st.text(
        st.characters(blacklist_characters="*?[]{}/\\", blacklist_categories=("Cs",)), min_size=1
    )
)
def test_a_plain_name_matches_itself_at_any_depth_and_nothing_longer(name):
    assert glob_regex(name).match(name) and glob_regex(name).match("d/e/" + name)
    assert not glob_regex(name).match(name + "x") and not glob_regex(name).match("x" + name)


def test_each_filter_names_its_reason():
    assert rejection(ObjectFilter(storage_classes=["Archive"]), facts()) == "storage_class"
    assert rejection(ObjectFilter(modified_after=2000), facts()) == "modified"
    assert rejection(ObjectFilter(modified_before=1000), facts()) == "modified"  # exclusive
    assert rejection(ObjectFilter(modified_before=1001), facts()) is None
    assert rejection(ObjectFilter(min_size=11), facts()) == "size"
    assert rejection(ObjectFilter(max_size=9), facts()) == "size"
    assert rejection(ObjectFilter(key_regex=r"\.png$"), facts()) == "key"
    assert (
        rejection(ObjectFilter(include=["*.png"]), facts()) == "key"
    )  # include implies the rest out
    assert rejection(ObjectFilter(include=["*.txt"]), facts()) is None


def test_an_exclude_wins_over_an_include_whatever_the_order():
    spec = ObjectFilter(include=["a/**"], exclude=["*.txt"])
    assert rejection(spec, facts("a/b.txt")) == "key"
    assert rejection(spec, facts("a/b.bin")) is None


def test_facts_an_index_lacks_ask_for_a_head_only_when_a_filter_needs_them():
    bare = ObjectFacts("k", None, None, None)
    assert not needs_head(ObjectFilter(include=["*"]), bare)
    assert needs_head(ObjectFilter(min_size=1), bare)
    assert needs_head(ObjectFilter(storage_classes=["IA"]), bare)
    assert not needs_head(ObjectFilter(min_size=1), facts())


def test_cli_filters_are_checked_before_the_job_starts():
    assert object_filter() is None
    assert object_filter(size_range=(0, None)) == {"min_size": 0}
    with pytest.raises(ConfigError, match="--modified-after"):
        object_filter(modified_after="last tuesday")
    with pytest.raises(ConfigError, match="key_regex"):
        object_filter(key_regex="(unclosed")
    with pytest.raises(ConfigError, match="storage_classes"):
        object_filter(only_class=["Glacier"])
    with pytest.raises(ConfigError, match="min_size"):
        object_filter(size_range=(10, 5))
    assert object_filter(modified_after="2024-06-01")["modified_after"] == 1717200000.0
