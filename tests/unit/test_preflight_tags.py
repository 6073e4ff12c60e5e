"""--tags / --tags-directive are checked before anything starts, with OSS's limits."""

from __future__ import annotations

import pytest

from ossbatch.cloud import ConfigError
from ossbatch.preflight import tags


def test_tags_imply_replace_and_keep_their_order():
    assert tags("job=x 1,owner=ops,empty=", None) == (
        {"job": "x 1", "owner": "ops", "empty": ""},
        "Replace",
    )


def test_no_tags_keep_the_sources_unless_replace_is_asked():
    assert tags("", None) == (None, "Copy")
    assert tags("", "replace") == (None, "Replace")


@pytest.mark.parametrize(
    "value, directive, message",
    [
        ("novalue", None, "not key=value"),
        ("a=1,a=2", None, "twice"),
        ("bad%=1", None, "tag key"),
        (",".join(f"k{i}=v" for i in range(11)), None, "at most 10"),
        ("a=1", "Copy", "Replace"),
        ("", "Merge", "--tags-directive"),
    ],
)
def test_bad_tags_are_one_clear_line(value, directive, message):
    with pytest.raises(ConfigError, match=message):
        tags(value, directive)
