"""Restore clock, checksums, faults, names and notifications without HTTP."""

from __future__ import annotations

import hashlib
import queue
import tempfile

import oss2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from localcloud.oss import errors
from localcloud.oss.checksums import crc64, crc64_combine, multipart_etag
from localcloud.oss.faults import FaultConfig, FaultInjector
from localcloud.oss.names import check_bucket_name, check_object_key, storage_class
from localcloud.oss.notifications import NotificationHub
from localcloud.oss.restore import RestoreClock, parse_restore_seconds
from localcloud.oss.storage import ObjectRecord, Storage


class FakeClock:
    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


# past a few hundred bytes the CRC takes its SIMD path: sizes reach well beyond it
@given(
    a=st.binary(max_size=300) | st.binary(min_size=1000, max_size=5000), b=st.binary(max_size=3000)
)
def test_crc64_matches_oss2_continues_and_combines(a, b):
    ref = oss2.utils.Crc64()
    ref.update(a + b)
    assert crc64(a + b) == ref.crc
    assert crc64(memoryview(b), crc64(a)) == ref.crc
    assert crc64_combine(crc64(a), crc64(b), len(b)) == ref.crc


def test_multipart_etag_is_md5_of_binary_part_md5s():
    parts = [b"a" * 10, b"b" * 5]
    etags = [hashlib.md5(p).hexdigest().upper() for p in parts]
    expected = (
        hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest().upper() + "-2"
    )
    assert multipart_etag(etags) == expected


def _archived(storage, cls="Archive"):
    rec = ObjectRecord("b", "k", "p", 1, "E", 0, "t", 0.0, storage_class=cls)
    storage.put_object(rec)
    return rec


def test_restore_lifecycle_on_a_fake_clock():
    clock = FakeClock()
    storage = Storage(tempfile.mkdtemp())
    restore = RestoreClock(parse_restore_seconds("Archive=60"), day_seconds=100, clock=clock)
    rec = _archived(storage)
    assert not restore.readable(rec) and restore.header(rec) is None
    assert restore.request(storage, rec, days=2, tier=None) == 202
    rec = storage.get_object("b", "k")
    assert restore.header(rec) == 'ongoing-request="true"'
    with pytest.raises(errors.RestoreAlreadyInProgress):
        restore.request(storage, rec, 2, None)
    clock.now += 60
    assert restore.readable(rec)
    assert restore.header(rec).startswith('ongoing-request="false", expiry-date="')
    clock.now += 150  # 2.1 "days" after the restore finished... not yet expired
    assert restore.readable(rec)
    assert restore.request(storage, rec, 2, None) == 200  # extends
    rec = storage.get_object("b", "k")
    clock.now += 150
    assert restore.readable(rec)
    clock.now += 100
    assert not restore.readable(rec) and restore.header(rec) is None


def test_restore_days_and_tiers_are_validated():
    storage = Storage(tempfile.mkdtemp())
    restore = RestoreClock(clock=FakeClock())
    with pytest.raises(errors.InvalidArgument):
        restore.request(storage, _archived(storage), days=8, tier=None)  # Archive: 1..7
    with pytest.raises(errors.InvalidArgument):
        restore.request(storage, _archived(storage, "DeepColdArchive"), days=1, tier="Fast")
    assert restore.request(storage, _archived(storage, "ColdArchive"), days=365, tier="Bulk") == 202


def test_restore_seconds_spec_parsing():
    table = parse_restore_seconds("Archive=1,ColdArchive=2,ColdArchive.Bulk=5")
    assert table[("Archive", "Standard")] == 1
    assert table[("ColdArchive", "Expedited")] == 2 and table[("ColdArchive", "Bulk")] == 5
    for bad in ("Archive", "Glacier=1", "Archive=-1", "Archive=x", "ColdArchive.Warp=1"):
        with pytest.raises(ValueError):
            parse_restore_seconds(bad)


def test_faults_are_seeded_per_operation():
    def draws(seed):
        inj = FaultInjector(FaultConfig(fault_rate=0.5, seed=seed))
        return [inj.decide("PutObject").failure for _ in range(50)]

    assert draws(1) == draws(1)
    assert draws(1) != draws(2)
    inj = FaultInjector(FaultConfig(fault_rate=1.0, ops=["GetObject"], kinds=["reset"]))
    assert inj.decide("PutObject").failure is None and inj.decide("GetObject").failure == "reset"
    with pytest.raises(ValueError):
        FaultConfig(fault_rate=1.5).validate()
    with pytest.raises(ValueError):
        FaultConfig(kinds=["meteor"]).validate()


@pytest.mark.parametrize("key", ["", "/abs", "\\win", "x" * 1024, "nul\x00"])
def test_invalid_keys(key):
    with pytest.raises(errors.InvalidObjectName):
        check_object_key(key)


@pytest.mark.parametrize("name", ["ab", "UPPER", "under_score", "-dash", "dash-", "a" * 64])
def test_invalid_bucket_names(name):
    with pytest.raises(errors.InvalidBucketName):
        check_bucket_name(name)


def test_storage_class_spelling():
    assert storage_class("coldarchive", "Standard") == "ColdArchive"
    assert storage_class(None, "IA") == "IA"
    with pytest.raises(errors.InvalidArgument):
        storage_class("Glacier", "Standard")


def test_notification_filters_and_shape():
    hub = NotificationHub("cn-hangzhou", "123")
    got = queue.Queue()
    hub.subscribe("b", "in/", ".zip", ["oss:ObjectCreated:PutObject"], got.put)
    hub.publish("ObjectCreated:PutObject", "b", "in/x.zip", 10, "E", 10, "RID")
    hub.publish("ObjectCreated:CopyObject", "b", "in/y.zip", 10, "E", 10, "RID")  # event filter
    hub.publish("ObjectCreated:PutObject", "other", "in/x.zip", 10, "E", 10, "RID")  # bucket filter
    event = got.get(timeout=5)["events"][0]
    assert event["eventName"] == "ObjectCreated:PutObject"
    assert event["oss"]["object"] == {"deltaSize": 10, "eTag": "E", "key": "in/x.zip", "size": 10}
    assert event["oss"]["bucket"]["arn"] == "acs:oss:cn-hangzhou:123:b"
    with pytest.raises(queue.Empty):
        got.get(timeout=0.2)
    hub.close()
