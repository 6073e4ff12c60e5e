"""Admin endpoint (counters, runtime faults), CLI fault options, restart persistence, shutdown."""

from __future__ import annotations

import base64
import hashlib
import signal

import oss2
import pytest
import requests

from handlers.integrity import crc64_of


def _bucket(cloud, name="adm"):
    b = oss2.Bucket(
        oss2.Auth(cloud.access_key_id, cloud.access_key_secret), cloud.oss_endpoint, name
    )
    b.create_bucket()
    return b


def test_counters_count_each_operation_and_reset(localcloud_factory):
    cloud = localcloud_factory()
    b = _bucket(cloud)
    b.put_object("k", b"x")
    b.get_object("k").read()
    b.head_object("k")
    b.copy_object("adm", "k", "k2")
    counters = requests.get(cloud.admin_endpoint + "/counters", timeout=5).json()["oss"]
    assert counters["PutObject"] == 1 and counters["GetObject"] == 1
    assert (
        counters["HeadObject"] == 1 and counters["CopyObject"] == 1 and counters["PutBucket"] == 1
    )
    requests.post(cloud.admin_endpoint + "/counters/reset", timeout=5)
    assert requests.get(cloud.admin_endpoint + "/counters", timeout=5).json()["oss"] == {}


def test_runtime_faults_per_operation_then_off(localcloud_factory):
    cloud = localcloud_factory()
    b = _bucket(cloud)
    r = requests.post(
        cloud.admin_endpoint + "/faults",
        timeout=5,
        json={"fault_rate": 1.0, "kinds": ["slowdown"], "ops": ["PutObject"]},
    )
    assert r.json()["fault_rate"] == 1.0
    with pytest.raises(oss2.exceptions.OssError) as err:
        b.put_object("k", b"x")
    assert (err.value.status, err.value.code) == (503, "SlowDown")
    assert b.list_objects().object_list == []  # other operations untouched; the put never happened
    assert requests.get(cloud.admin_endpoint + "/faults", timeout=5).json()["oss"]["injected"] == {
        "slowdown": 1
    }
    requests.post(cloud.admin_endpoint + "/faults", json={"kinds": ["internal"]}, timeout=5)
    with pytest.raises(oss2.exceptions.OssError) as err:
        b.put_object("k", b"x")
    assert (err.value.status, err.value.code) == (500, "InternalError")
    requests.post(
        cloud.admin_endpoint + "/faults", json={"kinds": ["reset"], "ops": ["GetObject"]}, timeout=5
    )
    b.put_object("k", b"0123456789" * 1000)
    with pytest.raises((oss2.exceptions.RequestError, requests.exceptions.RequestException)):
        b.get_object("k").read()  # cut mid-body: requests reports the short read
    requests.post(cloud.admin_endpoint + "/faults", json={"ops": ["PutObject"]}, timeout=5)
    with pytest.raises(oss2.exceptions.RequestError):
        b.put_object("after-reset", b"x")  # connection dropped before the answer...
    requests.post(cloud.admin_endpoint + "/faults", json={"fault_rate": 0.0}, timeout=5)
    assert b.get_object("after-reset").read() == b"x"  # ...after the operation ran (a lost ack)
    assert b.get_object("k").read() == b"0123456789" * 1000


def test_bad_fault_settings_are_400(localcloud):
    r = requests.post(localcloud.admin_endpoint + "/faults", json={"fault_rate": 2}, timeout=5)
    assert r.status_code == 400
    r = requests.post(localcloud.admin_endpoint + "/faults", json={"no_such": 1}, timeout=5)
    assert r.status_code == 400 and "no_such" in r.json()["error"]
    assert (
        requests.get(localcloud.admin_endpoint + "/faults", timeout=5).json()["oss"]["fault_rate"]
        == 0
    )


def test_seeded_fault_rate_is_reproducible(localcloud_factory):
    cloud = localcloud_factory(
        "--fault-rate",
        "0.3",
        "--fault-kinds",
        "slowdown",
        "--fault-seed",
        "7",
        "--fault-ops",
        "PutObject",
    )
    b = _bucket(cloud)

    def outcomes():
        result = []
        for i in range(40):
            try:
                b.put_object(f"k{i}", b"x")
                result.append(True)
            except oss2.exceptions.OssError:
                result.append(False)
        return result

    first = outcomes()
    requests.post(
        cloud.admin_endpoint + "/faults", json={"seed": 7}, timeout=5
    )  # restarts the streams
    assert outcomes() == first
    assert 3 < first.count(False) < 25
    requests.post(cloud.admin_endpoint + "/faults", json={"seed": 8}, timeout=5)
    assert outcomes() != first


def test_latency_setting_slows_only_the_chosen_operation(localcloud, bucket):
    import time

    bucket.put_object("k", b"x")
    admin = localcloud.admin_endpoint + "/faults"
    requests.post(admin, json={"latency_ms": 1000, "ops": ["GetObject"]}, timeout=5)
    try:
        started = time.monotonic()
        bucket.get_object("k").read()
        assert time.monotonic() - started >= 1.0
        started = time.monotonic()
        bucket.head_object("k")
        assert time.monotonic() - started < 1.0
    finally:
        requests.post(admin, json={"latency_ms": 0, "ops": []}, timeout=5)


def test_state_survives_restart_and_kill(localcloud_factory, tmp_path):
    data = tmp_path / "persist"
    cloud = localcloud_factory(data_dir=data)
    b = _bucket(cloud, "persist")
    b.put_object("a", b"alpha", headers={"x-oss-meta-k": "v", "x-oss-storage-class": "IA"})
    assert cloud.stop() == 0  # SIGTERM: clean exit
    cloud = localcloud_factory(data_dir=data)
    b = oss2.Bucket(
        oss2.Auth(cloud.access_key_id, cloud.access_key_secret), cloud.oss_endpoint, "persist"
    )
    head = b.head_object("a")
    assert head.headers["x-oss-meta-k"] == "v" and head.headers["x-oss-storage-class"] == "IA"
    b.put_object("b", b"beta")
    cloud.kill()
    cloud = localcloud_factory(data_dir=data)
    b = oss2.Bucket(
        oss2.Auth(cloud.access_key_id, cloud.access_key_secret), cloud.oss_endpoint, "persist"
    )
    assert [o.key for o in oss2.ObjectIterator(b)] == ["a", "b"]
    assert b.get_object("b").read() == b"beta"


def test_sigint_also_shuts_down_cleanly(localcloud_factory):
    cloud = localcloud_factory()
    cloud.process.send_signal(signal.SIGINT)
    assert cloud.process.wait(15) == 0


def test_ready_line_has_the_documented_keys(localcloud):
    for key in (
        "oss_endpoint",
        "admin_endpoint",
        "access_key_id",
        "access_key_secret",
        "security_token",
        "region",
        "account_id",
        "data_dir",
        "pid",
    ):
        assert key in localcloud.info
    assert localcloud.oss_endpoint.startswith("http://127.0.0.1:")


def test_admin_clock_advance_finishes_restores_and_expires_copies(localcloud_factory):
    cloud = localcloud_factory("--restore-seconds", "DeepColdArchive=3600")
    b = _bucket(cloud)
    b.put_object("deep", b"x", headers={"x-oss-storage-class": "DeepColdArchive"})
    assert b.restore_object("deep").status == 202
    clock = cloud.admin_endpoint + "/clock"
    r = requests.post(clock, json={"advance_seconds": 3600}, timeout=5)
    assert r.json() == {"oss": {"offset_seconds": 3600.0}}
    assert 'ongoing-request="false"' in b.head_object("deep").headers["x-oss-restore"]
    assert b.get_object("deep").read() == b"x"
    requests.post(clock, json={"advance_seconds": 86400 + 1}, timeout=5)  # Days=1 has passed
    assert "x-oss-restore" not in b.head_object("deep").headers
    assert requests.post(clock, json={"advance_seconds": -1}, timeout=5).status_code == 400


def test_a_taken_port_is_a_clear_error_not_a_traceback(localcloud, tmp_path):
    import subprocess
    import sys

    port = localcloud.oss_endpoint.rsplit(":", 1)[1]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "localcloud",
            "serve",
            "--data-dir",
            str(tmp_path / "d"),
            "--oss-port",
            port,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert (
        f"cannot listen on 127.0.0.1:{port} for oss" in proc.stderr and "--oss-port" in proc.stderr
    )
    assert "Traceback" not in proc.stderr


def test_damage_fault_stores_flipped_bytes_that_md5_refuses_and_crc64_shows(localcloud_factory):
    cloud = localcloud_factory()
    b = _bucket(cloud)
    assert "damage" not in cloud.set_faults(fault_rate=1.0)["kinds"]  # only when named
    cloud.set_faults(fault_rate=1.0, kinds=["damage"], ops=["PutObject"])
    body = b"0123456789" * 100
    md5 = {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}
    with pytest.raises(oss2.exceptions.OssError) as err:
        b.put_object("with-md5", body, headers=md5)
    assert (err.value.status, err.value.code) == (400, "InvalidDigest")
    with pytest.raises(oss2.exceptions.InconsistentError):
        b.put_object("oss2-crc", body)  # oss2 compares the answer's CRC-64 with its own
    plain = oss2.Bucket(b.auth, cloud.oss_endpoint, b.bucket_name, enable_crc=False)
    stored = plain.put_object("no-check", body).headers["x-oss-hash-crc64ecma"]
    cloud.set_faults(fault_rate=0.0, kinds=["slowdown"], ops=[])
    assert stored != str(crc64_of(body))
    assert plain.get_object("no-check").read() == b"1" + body[1:]  # "0" ^ 0x01
    assert stored == str(crc64_of(b"1" + body[1:]))
    assert not b.object_exists("with-md5")
