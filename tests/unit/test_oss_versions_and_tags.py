"""Versioning, tagging and symlink semantics without HTTP: which version a write keeps, delete
markers, ListObjectVersions paging, tag parsing."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localcloud.oss import errors, tagging
from localcloud.oss.listing import list_versions
from localcloud.oss.notifications import NotificationHub
from localcloud.oss.objects import Objects
from localcloud.oss.restore import RestoreClock
from localcloud.oss.storage import Storage


def _objects(root: Path, status: str = "Enabled") -> Objects:
    storage = Storage(root)
    hub = NotificationHub("cn-hangzhou", "1")
    return Objects(storage, RestoreClock(), hub, versioning_of=lambda bucket: status)


def _put(objects: Objects, key: str, data: bytes):
    return objects.commit("b", key, None, len(data), "E", 0, "t", {}, "Standard", "r", data=data)


def test_enabled_keeps_every_version_and_a_delete_only_adds_a_marker(tmp_path):
    objects = _objects(tmp_path)
    v1, v2 = _put(objects, "k", b"1"), _put(objects, "k", b"2")
    marker = objects.delete("b", "k")
    assert marker.delete_marker and marker.version_id not in (v1.version_id, v2.version_id)
    with pytest.raises(errors.NoSuchKey) as exc:
        objects.lookup("b", "k")
    assert exc.value.headers["x-oss-delete-marker"] == "true"
    assert objects.storage.read_all(objects.lookup("b", "k", v1.version_id)) == b"1"
    objects.delete("b", "k", marker.version_id)
    assert objects.lookup("b", "k").version_id == v2.version_id


def test_suspended_writes_share_the_null_version(tmp_path):
    objects = _objects(tmp_path, "Suspended")
    _put(objects, "k", b"1")
    _put(objects, "k", b"2")
    versions = list_versions(objects.storage, "b", "", "", "", None, 1000).entries
    assert [(r.version_id, latest) for r, latest in versions] == [("null", True)]
    assert objects.storage.read_all(versions[0][0]) == b"2"


def test_an_unversioned_bucket_replaces_and_deletes_for_good(tmp_path):
    objects = _objects(tmp_path, "")
    _put(objects, "k", b"1")
    _put(objects, "k", b"2")
    assert objects.delete("b", "k") is None
    assert list_versions(objects.storage, "b", "", "", "", None, 1000).entries == []


KEYS = st.sampled_from(["a", "a/b", "a/c", "b", "b/x/y", "c", "中"])
ACTIONS = st.lists(st.tuples(st.sampled_from(["put", "delete"]), KEYS), min_size=1, max_size=25)


@settings(max_examples=60, deadline=None)
@given(actions=ACTIONS, max_keys=st.integers(1, 5), delimiter=st.sampled_from(["", "/"]))
def test_paging_list_object_versions_sees_every_version_once_in_order(actions, max_keys, delimiter):
    with tempfile.TemporaryDirectory() as root:
        objects = _objects(Path(root))
        for action, key in actions:
            if action == "put":
                _put(objects, key, key.encode())
            else:
                objects.delete("b", key)
        whole = list_versions(objects.storage, "b", "", delimiter, "", None, 1000)
        seen, prefixes, key_marker, seq = [], [], "", None
        while True:
            page = list_versions(objects.storage, "b", "", delimiter, key_marker, seq, max_keys)
            assert len(page.entries) + len(page.prefixes) <= max_keys
            seen += [(r.key, r.version_id) for r, _ in page.entries]
            prefixes += page.prefixes
            if not page.truncated:
                break
            key_marker = page.next_key
            marker = page.next_version_id
            seq = objects.storage.get_version("b", key_marker, marker).seq if marker else None
        assert seen == [(r.key, r.version_id) for r, _ in whole.entries]
        assert prefixes == whole.prefixes
        latest = [r.key for r, is_latest in whole.entries if is_latest]
        assert len(latest) == len(set(latest))  # one current version per key


TAG_TEXT = st.text(
    alphabet=st.characters(
        whitelist_categories=("Lu", "Ll", "Nd", "Lo"), whitelist_characters=" +-=._:/"
    ),
    max_size=20,
)


@given(tags=st.dictionaries(TAG_TEXT.filter(bool), TAG_TEXT, max_size=tagging.MAX_TAGS))
def test_the_tagging_header_round_trips_any_valid_tag_set(tags):
    pairs = list(tags.items())
    assert tagging.from_header(tagging.to_header(pairs)) == pairs


@pytest.mark.parametrize(
    "header", ["a=b=c", "%ZZ=1", "&".join(f"k{i}=v" for i in range(11)), "k=v&k=w", "<=1"]
)
def test_a_malformed_tagging_header_is_invalid_tag(header):
    with pytest.raises(errors.InvalidTag):
        tagging.from_header(header)
