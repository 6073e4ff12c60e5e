"""ListObjects paging semantics against a brute-force model (no HTTP)."""

from __future__ import annotations

import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from localcloud.oss.listing import list_objects
from localcloud.oss.storage import ObjectRecord, Storage

_keys = st.lists(st.text(alphabet="ab/中-", min_size=1, max_size=6), max_size=40, unique=True)


def _store(keys) -> Storage:
    storage = Storage(tempfile.mkdtemp(prefix="oss-unit-"))
    for k in keys:
        storage.put_object(ObjectRecord("b", k, "x/none", 1, "E", 0, "t", 0.0))
    return storage


def _model(keys, prefix, delimiter, after):
    """What a full listing must contain: objects and common prefixes in byte order, > after."""
    entries = set()
    for k in keys:
        if not k.startswith(prefix):
            continue
        pos = k.find(delimiter, len(prefix)) if delimiter else -1
        entries.add(k[: pos + len(delimiter)] if pos >= 0 else k)
    return sorted((e for e in entries if e > after), key=lambda e: e.encode())


@settings(max_examples=150, deadline=None)
@given(
    keys=_keys,
    prefix=st.sampled_from(["", "a", "a/", "中"]),
    delimiter=st.sampled_from(["", "/", "-"]),
    max_keys=st.integers(1, 7),
)
def test_paging_with_markers_yields_exactly_the_model_listing(keys, prefix, delimiter, max_keys):
    storage = _store(keys)
    seen, after = [], ""
    for _ in range(100):
        page = list_objects(storage, "b", prefix, delimiter, after, max_keys)
        assert len(page.objects) + len(page.prefixes) <= max_keys
        entries = [o.key for o in page.objects] + page.prefixes
        seen.extend(sorted(entries, key=lambda e: e.encode()))
        if not page.truncated:
            break
        assert page.next_marker
        after = page.next_marker
    assert seen == _model(keys, prefix, delimiter, "")
    storage.close()


def test_marker_equal_to_a_common_prefix_skips_that_prefix():
    storage = _store(["a/1", "a/2", "b/1", "c"])
    page = list_objects(storage, "b", "", "/", "a/", 10)
    assert page.prefixes == ["b/"] and [o.key for o in page.objects] == ["c"]


def test_zero_max_keys_returns_nothing_and_truncated_when_more_exist():
    storage = _store(["a"])
    page = list_objects(storage, "b", "", "", "", 0)
    assert page.objects == [] and page.truncated
