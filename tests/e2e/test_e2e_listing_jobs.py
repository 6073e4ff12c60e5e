"""Listing jobs through the CLI on localcloud: key-range shards, filters, in-place conversion."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.test_e2e_cli import local, ossbatch  # noqa: F401 - the module's localcloud


def put_many(bucket, keys, headers=None):
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: bucket.put_object(k, k.encode(), headers=headers), keys))


def listing_job(data_dir, conn, prefix: str, count: int):
    sources = conn.oss_bucket(conn.buckets["sources"])
    keys = [f"{prefix}{i % 17:02d}/{i:06d}{'-é' if i % 97 == 0 else ''}.dat" for i in range(count)]
    put_many(sources, keys)
    code, doc = ossbatch(
        data_dir,
        "copy",
        "start",
        "--source",
        f"oss://{conn.buckets['sources']}/{prefix}",
        "--dest",
        f"oss://{conn.buckets['archive']}/{prefix}",
        "--concurrency",
        "4",
        "--wait",
        "--json",
    )
    assert code == 0, doc
    # every key handed to exactly one shard: a key in two ranges would be skipped once
    assert (doc["done"], doc["skipped"], doc["failed"]) == (count, 0, 0)
    assert doc["fraction"] == 1.0


def test_a_listing_job_runs_in_four_key_range_shards(local):  # noqa: F811
    listing_job(*local, "lj/", 2_000)


@pytest.mark.slow
@pytest.mark.skipif(os.cpu_count() < 2, reason="20,000 objects through the flow need 2 cores")
def test_a_listing_job_of_twenty_thousand_objects_in_four_shards(local):  # noqa: F811
    listing_job(*local, "lj20k/", 20_000)


def test_filters_and_an_in_place_conversion_through_the_cli(local):  # noqa: F811
    data_dir, conn = local
    archive = conn.oss_bucket(conn.buckets["archive"])
    keys = [f"inpl/{n}" for n in ("a.log", "b.dat", "c.dat", "tmp/d.dat")]
    put_many(archive, keys, headers={"x-oss-storage-class": "Standard"})
    url = f"oss://{conn.buckets['archive']}/inpl/"
    args = ["copy", "start", "--source", url, "--dest", url, "--storage-class", "IA"]
    code, doc = ossbatch(
        data_dir, *args, "--include", "*.dat", "--exclude", "/tmp/**", "--wait", "--json"
    )
    assert code == 0, doc
    assert (doc["done"], doc["skipped"]) == (2, 2)
    classes = {k: archive.head_object(k).headers["x-oss-storage-class"] for k in keys}
    assert classes == {
        "inpl/a.log": "Standard",
        "inpl/b.dat": "IA",
        "inpl/c.dat": "IA",
        "inpl/tmp/d.dat": "Standard",
    }
    code, again = ossbatch(data_dir, *args, "--include", "*.dat", "--wait", "--json")
    assert code == 0 and again["done"] == 1 and again["skipped"] == 3  # tmp/d.dat now; a, b, c skip
