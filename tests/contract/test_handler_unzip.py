"""unzip handler against localcloud through oss2, with the hostile-zip corpus built in tests/zipcorpus.py."""

from __future__ import annotations

import io
import json
import os
import re
import zipfile

import oss2
import pytest

from handlers import unzip as unzip_handler
from handlers.errors import PackageRejected
from handlers.events import UnzipEvent, parse_event
from tests import zipcorpus
from tests.handlerkit import counter_delta, fc_context, oss_counters, read_report


@pytest.fixture
def env(unzip_env):
    return unzip_env


def run(event: dict, cloud):
    return unzip_handler.run(parse_event(UnzipEvent, event), fc_context(cloud))


def upload(bucket, data: bytes, key="in/pkg.zip") -> dict:
    bucket.put_object(key, data)
    return {"job_id": "u1", "package": {"bucket": bucket.bucket_name, "key": key}}


def outputs(bucket, prefix="out/") -> dict[str, bytes]:
    return {
        o.key: bucket.get_object(o.key).read() for o in oss2.ObjectIterator(bucket, prefix=prefix)
    }


def entries(data: bytes) -> dict[str, bytes]:
    zf = zipfile.ZipFile(io.BytesIO(data))
    return {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}


def report_by_code(bucket, result) -> dict[str, list]:
    out: dict[str, list] = {}
    for r in read_report(bucket, result["report_key"]):
        out.setdefault(r.get("code") or r["status"], []).append(r)
    return out


def test_ordinary_package_is_extracted_under_prefix_and_package_name(env, localcloud, bucket):
    data = zipcorpus.ordinary()
    result = run(upload(bucket, data), localcloud)
    assert result["done"] and result["all_succeeded"]
    assert outputs(bucket) == {f"out/pkg/{k}": v for k, v in entries(data).items()}
    assert result["counters"]["extracted"] == 4 and result["counters"]["skipped"] == 1
    statuses = [r["status"] for r in read_report(bucket, result["report_key"])]
    assert statuses.count("extracted") == 4


def test_resume_from_marker_reads_only_the_remaining_entries(env, localcloud, bucket):
    files = [(f"f{i:02d}.bin", bytes([i]) * 50_000) for i in range(20)]
    data = zipcorpus.build(files, method=zipfile.ZIP_STORED)
    ev = upload(bucket, data)
    first = run({**ev, "tuning": {"max_items": 18}}, localcloud)
    assert not first["done"] and first["marker"] == 18
    second = run({**ev, "marker": first["marker"], "totals": first["totals"]}, localcloud)
    assert second["done"] and second["totals"]["extracted"] == 20 and second["all_succeeded"]
    info = zipfile.ZipFile(io.BytesIO(data)).infolist()
    remaining = len(data) - info[18].header_offset  # entries 18, 19 and the directory
    tail_read = min(len(data), 65_557 + 76)
    assert second["counters"]["bytes_read"] <= remaining * 1.05 + tail_read
    assert len(outputs(bucket)) == 20


def test_zip_slip_and_absolute_paths_never_leave_the_prefix(env, localcloud, bucket):
    result = run(upload(bucket, zipcorpus.zip_slip()), localcloud)
    assert set(outputs(bucket)) == {"out/pkg/ok.txt"}
    keys = [o.key for o in oss2.ObjectIterator(bucket)]
    assert all(k.startswith(("out/pkg/", "in/", "reports/")) for k in keys)
    assert len(report_by_code(bucket, result)["UnsafePath"]) == 2 and not result["all_succeeded"]
    result = run(upload(bucket, zipcorpus.absolute_paths(), "in/abs.zip"), localcloud)
    assert set(outputs(bucket, "out/abs/")) == {"out/abs/ok.txt"}
    assert len(report_by_code(bucket, result)["UnsafePath"]) == 2


def test_sanitize_mode_keeps_absolute_entries_inside(env, localcloud, bucket):
    run({**upload(bucket, zipcorpus.absolute_paths()), "unsafe_paths": "sanitize"}, localcloud)
    assert set(outputs(bucket)) == {
        "out/pkg/etc/passwd",
        "out/pkg/Windows/win.ini",
        "out/pkg/ok.txt",
    }


def test_duplicate_names_first_wins_and_the_rest_are_reported(env, localcloud, bucket):
    result = run(upload(bucket, zipcorpus.duplicate_names()), localcloud)
    assert outputs(bucket)["out/pkg/same.txt"] == b"first"
    assert len(report_by_code(bucket, result)["DuplicateName"]) == 1


def test_bad_crc_fails_that_entry_only(env, localcloud, bucket):
    result = run(upload(bucket, zipcorpus.bad_crc()), localcloud)
    assert set(outputs(bucket)) == {"out/pkg/good.txt", "out/pkg/after.txt"}
    assert report_by_code(bucket, result)["CrcMismatch"][0]["name"] == "corrupt.txt"
    assert result["done"] and not result["all_succeeded"]


def test_encrypted_entry_without_password_is_reported_clearly(env, localcloud, bucket):
    result = run(upload(bucket, zipcorpus.encrypted_without_password()), localcloud)
    assert set(outputs(bucket)) == {"out/pkg/plain.txt"}
    assert "password" in report_by_code(bucket, result)["EncryptedEntry"][0]["message"]


def test_ratio_bomb_entry_is_refused_without_inflating_it(env, localcloud, bucket):
    data = zipcorpus.bomb_by_ratio(200 * 1024 * 1024)
    result = run({**upload(bucket, data), "limits": {"max_ratio": 100}}, localcloud)
    assert set(outputs(bucket)) == {"out/pkg/small.txt"}
    assert "CompressionRatioExceeded" in report_by_code(bucket, result)
    assert result["counters"]["bytes_read"] < len(data) / 2  # the bomb's data was never fetched


def test_count_bomb_rejects_the_package(env, localcloud, bucket):
    with pytest.raises(PackageRejected, match="TooManyEntries"):
        run(
            {**upload(bucket, zipcorpus.bomb_by_count(300)), "limits": {"max_entries": 100}},
            localcloud,
        )


@pytest.mark.parametrize(
    "data,reason",
    [(zipcorpus.not_a_zip(), "NotAZipArchive"), (zipcorpus.truncated(), "TruncatedArchive")],
)
def test_broken_packages_are_rejected_by_name(env, localcloud, bucket, data, reason):
    with pytest.raises(PackageRejected) as info:
        run(upload(bucket, data), localcloud)
    assert info.value.reason == reason
    assert list(outputs(bucket)) == []


def test_empty_zip_is_done_with_nothing_written(env, localcloud, bucket):
    result = run(upload(bucket, zipcorpus.empty()), localcloud)
    assert result["done"] and result["all_succeeded"] and result["entries_total"] == 0
    assert list(outputs(bucket)) == []


def test_gbk_names_without_utf8_flag(env, localcloud, bucket):
    run(upload(bucket, zipcorpus.gbk_names()), localcloud)
    assert set(outputs(bucket)) == {"out/pkg/中文.txt", "out/pkg/报告/二月.csv"}


def test_unsupported_method_is_reported_per_entry(env, localcloud, bucket):
    result = run(upload(bucket, zipcorpus.unsupported_method()), localcloud)
    assert set(outputs(bucket)) == {"out/pkg/ok.txt"}
    assert "UnsupportedMethod" in report_by_code(bucket, result)


def test_large_entries_stream_as_multipart(env, localcloud, bucket):
    import os

    big = os.urandom(700_000)
    data = zipcorpus.build([("big.bin", big), ("small.txt", b"s")])
    before = oss_counters(localcloud)
    result = run(
        {**upload(bucket, data), "small_entry_bytes": 200_000, "part_size": 204_800}, localcloud
    )
    delta = counter_delta(before, oss_counters(localcloud))
    assert result["all_succeeded"] and outputs(bucket)["out/pkg/big.bin"] == big
    assert delta.get("UploadPart") == 4 and delta.get("CompleteMultipartUpload") == 1


def test_package_replaced_mid_extraction_fails_cleanly(env, localcloud, bucket):
    ev = upload(bucket, zipcorpus.ordinary())
    first = run({**ev, "tuning": {"max_items": 1}}, localcloud)
    bucket.put_object("in/pkg.zip", zipcorpus.zip_slip())  # a new upload under the same key
    with pytest.raises(PackageRejected, match="PackageChanged"):
        run(
            {**ev, "package": {**ev["package"], "etag": first["package"]["etag"]}, "marker": 1},
            localcloud,
        )


def test_missing_package_is_named(env, localcloud, bucket):
    with pytest.raises(PackageRejected, match="PackageMissing"):
        run(
            {"job_id": "u", "package": {"bucket": bucket.bucket_name, "key": "in/absent.zip"}},
            localcloud,
        )


def test_handler_adapter(env, localcloud, bucket):
    ev = upload(bucket, zipcorpus.ordinary())
    out = json.loads(unzip_handler.handler(json.dumps(ev).encode(), fc_context(localcloud)))
    assert out["done"] and out["report_key"].startswith("reports/u1/unzip/")


@pytest.mark.slow
def test_zip64_package_with_more_than_65535_entries(env, localcloud, bucket):
    data = zipcorpus.many_entries(65_600)
    ev = {**upload(bucket, data), "tuning": {"concurrency": 64}}
    totals, marker = {}, 0
    while True:
        result = run({**ev, "marker": marker, "totals": totals}, localcloud)
        marker, totals = result["marker"], result["totals"]
        if result["done"]:
            break
    assert totals["extracted"] == 65_600
    assert bucket.get_object("out/pkg/e/065599.txt").read() == b"65599"


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_entry_larger_than_4_gib_is_streamed_without_holding_it(
    env, localcloud, bucket, monkeypatch
):
    import resource

    # zeros compress ~1000:1; the environment's limit is the ceiling an event cannot raise
    monkeypatch.setenv("OSSBATCH_UNZIP_MAX_RATIO", "100000")
    size = 4 * 1024**3 + 1_000_000
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        info = zipfile.ZipInfo("huge.bin")
        info.compress_type = zipfile.ZIP_DEFLATED  # a bare ZipInfo would be stored: 4 GiB in memory
        with zf.open(info, "w", force_zip64=True) as out:
            block = b"\0" * (8 * 1024 * 1024)
            written = 0
            while written < size:
                n = min(len(block), size - written)
                out.write(block[:n])
                written += n
    data = buf.getvalue()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = run(
        {
            **upload(bucket, data),
            "part_size": 64 * 1024**2,
            "tuning": {"max_buffered_mb": 256},
        },
        localcloud,
    )
    rss_growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert result["all_succeeded"] and result["counters"]["bytes_out"] == size, read_report(
        bucket, result["report_key"]
    )
    assert bucket.head_object("out/pkg/huge.bin").content_length == size
    assert rss_growth_mb < 600


def test_deflate64_entries_are_inflated_with_inflate64(env, localcloud, bucket):
    import os

    text = b"deflate64 " * 200_000
    data = zipcorpus.deflate64([("a.txt", text), ("b.bin", os.urandom(50_000)), ("empty", b"")])
    corrupt = bytearray(zipcorpus.deflate64([("bad.txt", text)]))
    corrupt[200] ^= 0xFF
    result = run(upload(bucket, data), localcloud)
    assert result["all_succeeded"] and outputs(bucket)["out/pkg/a.txt"] == text
    assert len(outputs(bucket)) == 3
    bad = run(upload(bucket, bytes(corrupt), "in/bad.zip"), localcloud)
    assert bad["counters"]["failed"] == 1 and "out/bad/bad.txt" not in outputs(bucket)


def test_deflated_entries_with_data_descriptors_extract_up_to_the_last(env, localcloud, bucket):
    # what Java and Go write: the last entry and the one before a directory end a run, and
    # their data descriptors are only told apart by the bytes after them
    files = [
        ("a.txt", b"alpha " * 500, zipfile.ZIP_DEFLATED),
        ("b.txt", b"beta " * 300, zipfile.ZIP_DEFLATED),
        ("dir/", b"", zipfile.ZIP_STORED),
        ("dir/c.txt", b"gamma " * 200, zipfile.ZIP_DEFLATED),
        ("d.txt", b"", zipfile.ZIP_DEFLATED),
        ("e.txt", b"last " * 100, zipfile.ZIP_DEFLATED),
    ]
    data = zipcorpus.streamed(files)
    assert all(i.flag_bits & 0x08 for i in zipfile.ZipFile(io.BytesIO(data)).infolist()[:2])
    result = run(upload(bucket, data), localcloud)
    assert result["all_succeeded"], report_by_code(bucket, result)
    got = outputs(bucket)
    assert {k: got[f"out/pkg/{k}"] for k, v, _ in files if not k.endswith("/")} == {
        k: v for k, v, _ in files if not k.endswith("/")
    }


def streamed_stored_package(n_small: int = 200, big: bytes = b"") -> tuple[bytes, list]:
    files = [
        (f"img/{i:04d}.jpg", os.urandom(50 + i % 700), zipfile.ZIP_STORED) for i in range(n_small)
    ]
    files.insert(
        n_small // 2, ("notes.txt", b"deflated between stored runs " * 40, zipfile.ZIP_DEFLATED)
    )
    files.insert(n_small // 3, ("raw/", b"", zipfile.ZIP_STORED))
    if big:
        files.append(("big.bin", big, zipfile.ZIP_STORED))
    files.append(("tail.jpg", b"last stored entry", zipfile.ZIP_STORED))
    return zipcorpus.streamed(files), files


def test_stored_entries_with_data_descriptors_extract_from_the_directory(env, localcloud, bucket):
    # Go's archive/zip and zipfile on a stream write stored entries with size 0 in the local
    # header: stream-unzip cannot find their end, the central directory can
    big = os.urandom(700_000)
    data, files = streamed_stored_package(big=big)
    stored = [i for i in zipfile.ZipFile(io.BytesIO(data)).infolist() if i.compress_type == 0]
    assert all(i.flag_bits & 0x08 for i in stored if not i.is_dir())
    before = oss_counters(localcloud)
    result = run(
        {**upload(bucket, data), "small_entry_bytes": 200_000, "part_size": 204_800}, localcloud
    )
    delta = counter_delta(before, oss_counters(localcloud))
    assert result["all_succeeded"], report_by_code(bucket, result)
    got = outputs(bucket)
    want = {f"out/pkg/{k}": v for k, v, _ in files if not k.endswith("/")}
    assert {k: got[k] for k in want} == want
    # small stored entries come a block per GET, not a GET or two per entry
    assert delta.get("GetObject", 0) < 20, delta
    assert delta.get("UploadPart") == 4  # the big one streams as multipart


def test_stored_entries_with_data_descriptors_resume_and_fail_one_by_one(env, localcloud, bucket):
    data, files = streamed_stored_package(n_small=60)
    damaged = bytearray(data)
    zf = zipfile.ZipFile(io.BytesIO(data))
    victim = zf.getinfo("img/0007.jpg")
    damaged[victim.header_offset + 30 + len(victim.filename) + 5] ^= 0xFF  # data, not header
    event = {**upload(bucket, bytes(damaged)), "tuning": {"max_items": 9}}
    seen, failed, pages = [], [], 0
    while True:
        result = run(event, localcloud)
        pages += 1
        for r in read_report(bucket, result["report_key"]):
            (failed if r["status"] == "failed" else seen).append(r)
        if result["done"]:
            break
        event = {**event, "marker": result["marker"]}
    assert pages >= 7
    assert [(r["name"], r["code"]) for r in failed] == [("img/0007.jpg", "CrcMismatch")]
    names = sorted(r["name"] for r in seen + failed)
    assert names == sorted(i.filename for i in zf.infolist())  # every entry exactly once
    assert "out/pkg/img/0007.jpg" not in outputs(bucket)
    assert (
        outputs(bucket)["out/pkg/img/0008.jpg"] == dict((k, v) for k, v, _ in files)["img/0008.jpg"]
    )


def test_large_deflate64_entries_after_deflate_ones_still_use_inflate64(env, localcloud, bucket):
    # stream-unzip would inflate this one in pure Python at ~0.3 MB/s (minutes for 100 MB)
    text = b"deflate64 in the middle of a run " * 60_000
    files = [("a.txt", b"deflate first " * 50), ("big.txt", text), ("c.txt", b"and after")]
    data = zipcorpus.deflate64(files, deflate=("a.txt", "c.txt"))
    before = oss_counters(localcloud)
    result = run(upload(bucket, data), localcloud)
    delta = counter_delta(before, oss_counters(localcloud))
    assert result["all_succeeded"]
    assert outputs(bucket) == {f"out/pkg/{name}": body for name, body in files}
    # directory reads, a run for a.txt, big.txt's header and data, a run for c.txt
    assert delta.get("GetObject", 0) >= 4, delta


def test_encrypted_entries_extract_with_the_password_from_the_environment(
    env, localcloud, bucket, monkeypatch
):
    data = zipcorpus.zipcrypto([("secret.txt", b"top secret"), ("two.txt", b"second")], b"pw")
    assert zipfile.ZipFile(io.BytesIO(data)).read("secret.txt", pwd=b"pw") == b"top secret"
    monkeypatch.setenv("OSSBATCH_UNZIP_PASSWORD", "pw")
    result = run(upload(bucket, data), localcloud)
    assert result["all_succeeded"] and outputs(bucket) == {
        "out/pkg/secret.txt": b"top secret",
        "out/pkg/two.txt": b"second",
    }
    monkeypatch.setenv("OSSBATCH_UNZIP_PASSWORD", "nope")
    wrong = run(upload(bucket, data, "in/w.zip"), localcloud)
    assert wrong["counters"]["failed"] == 2
    assert {r["code"] for r in read_report(bucket, wrong["report_key"])} == {"WrongPassword"}


def test_a_password_in_the_unzip_input_is_refused_by_name():
    from handlers.errors import InvalidEvent

    event = {"job_id": "u1", "package": {"bucket": "bkt", "key": "k.zip"}, "password": "pw"}
    with pytest.raises(InvalidEvent, match="unzip.password in the environment"):
        parse_event(UnzipEvent, event)


def test_unzip_makes_progress_even_with_no_budget_left(env, localcloud, bucket):
    ev = upload(bucket, zipcorpus.ordinary())
    result = run({**ev, "tuning": {"time_budget_seconds": 0.000001}}, localcloud)
    assert result["marker"] >= 1 and not result["done"]


def test_delete_package_removes_only_the_extracted_version(env, localcloud, bucket):
    ev = upload(bucket, zipcorpus.ordinary())
    done = run(ev, localcloud)
    pinned = {**ev, "package": {k: done["package"][k] for k in ("bucket", "key", "etag")}}
    bucket.put_object("in/pkg.zip", zipcorpus.empty())  # re-uploaded after the extraction
    with pytest.raises(PackageRejected, match="PackageChanged"):
        run({**pinned, "action": "delete_package"}, localcloud)
    assert bucket.object_exists("in/pkg.zip")
    assert run({**pinned, "action": "release"}, localcloud)["released"]  # the flow's last step
    current = run(ev, localcloud)["package"]
    deleted = run(
        {
            **ev,
            "package": {k: current[k] for k in ("bucket", "key", "etag")},
            "action": "delete_package",
        },
        localcloud,
    )
    assert deleted["deleted"] and not bucket.object_exists("in/pkg.zip")
    again = run({**ev, "action": "delete_package"}, localcloud)  # a retried delete is fine
    assert again["deleted"] and again["already_gone"]


def test_delete_package_refuses_while_the_output_is_incomplete(env, localcloud, bucket):
    ev = upload(bucket, zipcorpus.ordinary())
    delete = {**ev, "action": "delete_package"}
    with pytest.raises(PackageRejected, match="ExtractionIncomplete"):
        run(delete, localcloud)  # never extracted
    assert bucket.object_exists("in/pkg.zip")
    run(ev, localcloud)
    extracted = sorted(outputs(bucket))
    bucket.delete_object(extracted[0])  # one entry lost after the extraction
    with pytest.raises(PackageRejected, match=f"ExtractionIncomplete.*{re.escape(extracted[0])}"):
        run(delete, localcloud)
    assert bucket.object_exists("in/pkg.zip")
    run(ev, localcloud)  # extracting again restores it; now the delete may go ahead
    assert run(delete, localcloud)["deleted"] and not bucket.object_exists("in/pkg.zip")
