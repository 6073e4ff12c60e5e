"""The inventory writer's semantics without HTTP (the wire and SDK side is in
tests/contract/test_oss_inventory.py): any filter keeps exactly the objects a predicate written
here independently keeps, and any split puts every record in exactly one file."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import time
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localcloud.oss import inventory_run
from localcloud.oss.auth import Credentials
from localcloud.oss.inventory_config import (
    InventoryConfig,
    InventoryDestination,
    InventoryFilter,
)
from localcloud.oss.names import STORAGE_CLASSES
from localcloud.oss.service import OssConfig, OssService
from localcloud.oss.storage import ObjectRecord

NOW = time.time()
_BUCKETS = itertools.count()  # a fresh source bucket per example


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    service = OssService(OssConfig(tmp_path_factory.mktemp("oss"), Credentials("id", "secret")))
    service.buckets.create("dst", None, None)
    yield service
    service.close()


def _fill(svc, bucket: str, objects: list[tuple[str, int, str, float]]) -> None:
    svc.buckets.create(bucket, None, None)
    for key, size, sclass, modified in objects:
        rec = ObjectRecord(bucket, key, "", size, "E" * 32, 0, "text/plain", modified, sclass)
        svc.storage.put_object(rec, b"x" * size)


def _config(f: InventoryFilter) -> InventoryConfig:
    return InventoryConfig(
        id="inv",
        enabled=True,
        destination=InventoryDestination("dst", "1", "acs:ram::1:role/r", "p"),
        frequency="Daily",
        included_versions="Current",
        filter=f,
        optional_fields=("Size", "StorageClass"),
    )


def _rows(svc, written: dict) -> list[dict]:
    manifest = json.loads(
        svc.storage.read_all(svc.storage.get_object("dst", written["manifest_key"]))
    )
    columns = [c.strip() for c in manifest["fileSchema"].split(",")]
    rows = []
    for f in manifest["files"]:
        data = svc.storage.read_all(svc.storage.get_object("dst", f["key"]))
        text = gzip.decompress(data).decode()
        rows += [dict(zip(columns, r, strict=True)) for r in csv.reader(io.StringIO(text))]
    return rows


OBJECTS = st.lists(
    st.tuples(
        st.sampled_from(["a/", "a/b/", "b/", "", "ä/"]).flatmap(
            lambda p: st.text("xyz,\"' +%é", min_size=1, max_size=6).map(lambda s: p + s)
        ),
        st.integers(0, 300),
        st.sampled_from(STORAGE_CLASSES),
        st.floats(NOW - 86400 * 30, NOW - 1),
    ),
    max_size=25,
    unique_by=lambda o: o[0],
)
FILTERS = st.builds(
    InventoryFilter,
    prefix=st.sampled_from(["", "a/", "a/b/", "ä/", "zz"]),
    last_modify_begin=st.none() | st.integers(int(NOW) - 86400 * 30, int(NOW)),
    last_modify_end=st.none() | st.integers(int(NOW) - 86400 * 30, int(NOW)),
    lower_size=st.none() | st.integers(0, 300),
    upper_size=st.none() | st.integers(0, 300),
    storage_classes=st.none()
    | st.sets(st.sampled_from(STORAGE_CLASSES), min_size=1).map(lambda s: ",".join(sorted(s))),
)


def _kept(f: InventoryFilter, key: str, size: int, sclass: str, modified: float) -> bool:
    return (
        key.startswith(f.prefix)
        and (f.last_modify_begin is None or modified >= f.last_modify_begin)
        and (f.last_modify_end is None or modified <= f.last_modify_end)
        and (f.lower_size is None or size >= f.lower_size)
        and (f.upper_size is None or size <= f.upper_size)
        and (f.storage_classes is None or sclass in f.storage_classes.split(","))
    )


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(objects=OBJECTS, f=FILTERS, per_file=st.integers(1, 7))
def test_an_inventory_lists_exactly_the_objects_its_filter_keeps(svc, objects, f, per_file):
    bucket = f"src-{next(_BUCKETS)}"
    _fill(svc, bucket, objects)
    svc.storage.insert_inventory(bucket, "inv", _config(f).to_json(), 1000)
    written = inventory_run.run(svc, bucket, "inv", per_file)
    expected = {k: (s, c) for k, s, c, m in objects if _kept(f, k, s, c, m)}
    if not expected:
        assert written["written"] is False
        return
    rows = _rows(svc, written)
    got = {unquote(r["Key"]): (int(r["Size"]), r["StorageClass"]) for r in rows}
    assert got == expected and len(rows) == len(expected)  # each record exactly once
    assert len(written["files"]) == -(-len(expected) // per_file)
    keys = [unquote(r["Key"]) for r in rows]
    assert keys == sorted(keys, key=lambda k: k.encode())  # in key order across the files
