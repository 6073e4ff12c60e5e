"""A stale unzip run never writes over a newer version's output (the package lease and the
version checks), and output objects another writer made are kept (unzip.on_existing).

The race is driven page by page (``tuning.max_items``): each step is one real handler
invocation against localcloud, so the interleaving is the same on every run.
"""

from __future__ import annotations

import json
import zipfile

import oss2
import pytest

from handlers import unzip as unzip_handler
from handlers.errors import PackageRejected
from handlers.events import UnzipEvent, parse_event
from handlers.packagelease import PackageBusy
from tests import zipcorpus
from tests.handlerkit import counter_delta, fc_context, oss_counters, read_report

KEY = "in/x.zip"


@pytest.fixture
def env(unzip_env):
    return unzip_env


def run(event: dict, cloud) -> dict:
    return unzip_handler.run(parse_event(UnzipEvent, event), fc_context(cloud))


def version(bucket, data: bytes) -> dict:
    etag = bucket.put_object(KEY, data).etag.strip('"').upper()
    return {
        "job_id": f"j-{etag[:8]}",
        "package": {"bucket": bucket.bucket_name, "key": KEY, "etag": etag},
    }


def old_package() -> bytes:
    files = [(f"big/{i:05d}.bin", bytes([i % 251]) * 2000) for i in range(3000)]
    return zipcorpus.build(files, method=zipfile.ZIP_STORED)


NEW_BYTES = b"the newer version" * 100


def new_package() -> bytes:
    return zipcorpus.build([("big/02999.bin", NEW_BYTES)], method=zipfile.ZIP_STORED)


def output(bucket) -> dict[str, tuple]:
    """Every output object's ETag and modification time: any write changes one of them."""
    return {o.key: (o.etag, o.last_modified) for o in oss2.ObjectIterator(bucket, prefix="out/")}


def test_a_stale_run_never_writes_after_the_newer_version_started(env, localcloud, bucket):
    old = version(bucket, old_package())
    page = {**old, "tuning": {"max_items": 100, "version_check_seconds": 0}}
    first = run(page, localcloud)  # the old version's first page: entries appear
    assert not first["done"] and bucket.object_exists("out/x/big/00000.bin")

    new = version(bucket, new_package())  # the same key uploaded again
    before = output(bucket)
    with pytest.raises(PackageBusy, match=old["package"]["etag"]):
        run(new, localcloud)  # the old run holds the lease: the new one waits (flow retry)
    assert output(bucket) == before

    calls = oss_counters(localcloud)
    with pytest.raises(PackageRejected, match="PackageChanged"):
        run({**page, "marker": first["marker"], "totals": first["totals"]}, localcloud)
    assert output(bucket) == before
    assert counter_delta(calls, oss_counters(localcloud)).get("UploadPart", 0) == 0

    done = run(new, localcloud)  # the stale run let go of the lease: the new one runs
    assert done["all_succeeded"]
    assert bucket.get_object("out/x/big/02999.bin").read() == NEW_BYTES
    with pytest.raises(PackageRejected, match="PackageChanged"):
        run({**old, "action": "confirm"}, localcloud)  # never announced as succeeded
    assert run({**new, "action": "confirm"}, localcloud) == {"confirmed": True}


def test_a_run_replaced_in_the_middle_of_a_page_stops_at_its_next_write(env, localcloud, bucket):
    # the version is checked before every write (version_check_seconds 0): after the
    # replacement the page writes nothing more, whatever its stream still delivers
    old = version(bucket, old_package())
    first = run({**old, "tuning": {"max_items": 10}}, localcloud)
    version(bucket, new_package())
    before = output(bucket)
    with pytest.raises(PackageRejected, match="PackageChanged"):
        run({**old, "marker": first["marker"], "tuning": {"version_check_seconds": 0}}, localcloud)
    assert output(bucket) == before


def test_a_crashed_holders_lease_expires(env, localcloud, bucket):
    old = version(bucket, old_package())
    run({**old, "tuning": {"max_items": 5}, "lease_seconds": 0.001}, localcloud)  # then "crashes"
    new = version(bucket, new_package())
    assert run(new, localcloud)["all_succeeded"]  # the old lease expired: no wait


def test_the_lease_is_released_by_the_flows_last_step(env, localcloud, bucket):
    first = version(bucket, new_package())
    assert run(first, localcloud)["done"]
    assert run({**first, "action": "release"}, localcloud) == {"released": True}
    second = version(bucket, zipcorpus.ordinary())
    assert run(second, localcloud)["all_succeeded"]  # no PackageBusy


def test_a_password_or_lease_body_holds_no_secret_and_names_the_version(env, localcloud, bucket):
    first = version(bucket, new_package())
    run(first, localcloud)
    leases = [o.key for o in oss2.ObjectIterator(bucket, prefix="reports/leases/unzip/")]
    assert len(leases) == 1
    body = json.loads(bucket.get_object(leases[0]).read())
    assert body["etag"] == first["package"]["etag"] and body["holder"] == first["job_id"]


# on_existing ----------------------------------------------------------------


def foreign(bucket, key="out/x/big/02999.bin", body=b"someone else's") -> str:
    bucket.put_object(key, body)
    return key


def test_an_object_another_writer_made_is_kept_and_reported_by_default(env, localcloud, bucket):
    key = foreign(bucket)
    result = run(version(bucket, new_package()), localcloud)
    assert bucket.get_object(key).read() == b"someone else's"
    lines = read_report(bucket, result["report_key"])
    assert [(r["status"], r["code"]) for r in lines] == [("failed", "OutputExists")]
    assert result["counters"]["failed"] == 1 and not result["all_succeeded"]


def test_on_existing_skip_keeps_it_and_counts_a_skip(env, localcloud, bucket):
    key = foreign(bucket)
    result = run({**version(bucket, new_package()), "on_existing": "skip"}, localcloud)
    assert bucket.get_object(key).read() == b"someone else's"
    assert result["counters"]["skipped"] == 1 and result["all_succeeded"]


def test_on_existing_overwrite_replaces_it(env, localcloud, bucket, monkeypatch):
    key = foreign(bucket)
    monkeypatch.setenv("OSSBATCH_ON_EXISTING", "overwrite")
    result = run(version(bucket, new_package()), localcloud)
    assert bucket.get_object(key).read() == NEW_BYTES and result["all_succeeded"]


def test_objects_an_earlier_run_of_the_same_package_wrote_are_overwritten(env, localcloud, bucket):
    first = version(bucket, zipcorpus.build([("big/02999.bin", b"v1")]))
    run(first, localcloud)
    run({**first, "action": "release"}, localcloud)
    result = run(version(bucket, new_package()), localcloud)
    assert result["all_succeeded"] and bucket.get_object("out/x/big/02999.bin").read() == NEW_BYTES
    head = bucket.head_object("out/x/big/02999.bin")
    assert head.headers["x-oss-meta-ossbatch-package"] == f"{bucket.bucket_name}/{KEY}"


def test_large_entries_check_the_key_before_their_multipart_upload(env, localcloud, bucket):
    key = foreign(bucket, "out/x/huge.bin")
    data = zipcorpus.build([("huge.bin", b"z" * 300_000)], method=zipfile.ZIP_STORED)
    result = run(
        {**version(bucket, data), "small_entry_bytes": 1000, "part_size": 102_400}, localcloud
    )
    assert bucket.get_object(key).read() == b"someone else's"
    assert [r["code"] for r in read_report(bucket, result["report_key"])] == ["OutputExists"]
