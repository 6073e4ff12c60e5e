"""Restore of 2,000 Archive objects with a 3 s restore time, through the real restore flow.

Side by side in one run on localcloud (`ossbatch local up`, restore clock Archive=3 s):
- listing: one pass over the 2,000 objects (LIST + HEAD each, 32 threads): the least any
  restore job must do to know its objects;
- the restore job (index source, 2 shards: one FC instance per core here): submit -> Wait (3 s, from the class) -> poll.
Targets: wall <= 1.5 x restore time + listing; HEAD requests per object <= 3
(from localcloud's request counters).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.record import write
from ossbatch import cloud, jobdocs_restore, sampledata
from ossbatch.config import load_environment
from ossbatch.jobs import Jobs, new_job_id
from ossbatch.local import bring_down, bring_up

OBJECTS = 2000
RESTORE_S = 3.0
SHARDS = 2


def counters(state: dict) -> dict:
    url = state["localcloud"]["admin_endpoint"] + "/counters"
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.load(answer).get("oss", {})


def reset(state: dict) -> None:
    url = state["localcloud"]["admin_endpoint"] + "/counters/reset"
    urllib.request.urlopen(urllib.request.Request(url, method="POST", data=b""), timeout=10)


def main() -> int:
    import oss2

    env = load_environment("local")
    data_dir = Path(tempfile.mkdtemp(prefix="bench-restore-"))
    try:
        state = bring_up(env, data_dir, ["--restore-seconds", f"Archive={RESTORE_S:g}"])
        conn = cloud.from_local_state(state)
        archive = conn.oss_bucket(conn.buckets["archive"])
        keys = sampledata.object_keys("restore-bench/", OBJECTS)

        def put(key):
            archive.put_object(key, b"x" * 256, headers={"x-oss-storage-class": "Archive"})

        with ThreadPoolExecutor(32) as pool:
            list(pool.map(put, keys))
        # the index lives in a Standard bucket: an object in the Archive bucket is unreadable
        conn.oss_bucket(conn.buckets["sources"]).put_object(
            "restore-bench.csv", sampledata.csv_index(conn.buckets["archive"], keys)
        )

        started = time.monotonic()
        listed = [o.key for o in oss2.ObjectIterator(archive, prefix="restore-bench/")]
        with ThreadPoolExecutor(32) as pool:
            list(pool.map(archive.head_object, listed))
        listing_s = time.monotonic() - started

        reset(state)
        doc = jobdocs_restore.restore_document(
            conn,
            new_job_id("restore"),
            index=f"oss://{conn.buckets['sources']}/restore-bench.csv",
            source=None,
            days=1,
            tier="Standard",
            concurrency=SHARDS,
            page_budget_s=50,
            poll_seconds=None,
            default_poll_seconds=5,
            deadline_hours=0.1,
            local_restore_seconds={"Archive": RESTORE_S},
        )
        jobs = Jobs(conn)
        started = time.monotonic()
        job_id = jobs.start("restore", doc)
        st = jobs.wait(job_id, interval=0.1, timeout=300)
        wall_s = time.monotonic() - started
        heads = int(counters(state).get("HeadObject", 0))
        unreadable = 0
        for key in keys[:: max(1, OBJECTS // 50)]:
            try:
                archive.get_object(key).read()
            except oss2.exceptions.OssError:
                unreadable += 1
    finally:
        bring_down(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)

    limit_s = 1.5 * RESTORE_S + listing_s
    heads_per_object = heads / OBJECTS
    print(f"listing pass (LIST + HEAD x {OBJECTS}): {listing_s:.2f} s")
    print(
        f"restore job {job_id}: {st.state} in {wall_s:.2f} s "
        f"(limit 1.5 x {RESTORE_S:g} + {listing_s:.2f} = {limit_s:.2f} s); "
        f"ratio wall / restore time = {wall_s / RESTORE_S:.2f}"
    )
    print(
        f"HEAD requests: {heads} for {OBJECTS} objects = {heads_per_object:.2f} per object (<= 3)"
    )
    write(
        "restore",
        {
            "objects": OBJECTS,
            "restore_seconds": RESTORE_S,
            "shards": SHARDS,
            "listing_s": round(listing_s, 2),
            "wall_s": round(wall_s, 2),
            "limit_s": round(limit_s, 2),
            "heads_per_object": round(heads_per_object, 2),
            "state": st.state,
            "unreadable_sampled": unreadable,
        },
    )
    ok = st.state == "succeeded" and wall_s <= limit_s and heads_per_object <= 3 and not unreadable
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
