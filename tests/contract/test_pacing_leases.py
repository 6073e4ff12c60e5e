"""Job-wide request budget against localcloud: shards share it through lease objects."""

from __future__ import annotations

import json
import uuid

import oss2

from handlers import copy as copy_handler
from handlers.clients import Credentials, OssClients
from handlers.events import CopyEvent, parse_event
from handlers.pacing import PaceConfig, start_pace
from tests.handlerkit import counter_delta, fc_context, oss_counters


def clients(cloud) -> OssClients:
    return OssClients(cloud.oss_endpoint, Credentials(cloud.access_key_id, cloud.access_key_secret))


def test_live_shards_split_the_budget_and_a_finished_one_gives_its_share_back(localcloud, bucket):
    prefix = f"reports/{uuid.uuid4().hex[:8]}/pace/"
    paces = [
        start_pace(clients(localcloud), PaceConfig(bucket.bucket_name, prefix, f"s{i}", 900.0))
        for i in range(3)
    ]
    for pace in paces[:2]:  # the earlier ones started with fewer leases: they see all now
        pace.refresh()
    assert [p.active for p in paces] == [3, 3, 3]
    assert [p.pacer.rate for p in paces] == [300.0, 300.0, 300.0]
    paces[2].finish(done=True)
    paces[0].refresh()
    assert paces[0].pacer.rate == 450.0
    paces[1].finish(done=False)  # an unfinished page keeps its lease for the next page
    paces[0].refresh()
    assert paces[0].active == 2


def test_a_copy_page_under_a_budget_leaves_no_lease_once_its_shard_is_done(
    monkeypatch, localcloud, bucket, dest
):
    monkeypatch.setenv("OSSBATCH_OSS_ENDPOINT", localcloud.oss_endpoint)
    for i in range(30):
        bucket.put_object(f"src/{i:03d}", b"x")
    bucket.put_object(
        "index.jsonl", "".join(json.dumps({"key": f"src/{i:03d}"}) + "\n" for i in range(30))
    )
    event = {
        "job_id": "paced",
        "index": {"bucket": bucket.bucket_name, "key": "index.jsonl"},
        "dest": {"bucket": dest.bucket_name},
        "report_prefix": "reports/",
        "tuning": {"max_qps": 5000, "processes": 1},
    }
    before = oss_counters(localcloud)
    result = copy_handler.run(parse_event(CopyEvent, event), fc_context(localcloud))
    delta = counter_delta(before, oss_counters(localcloud))
    assert result["done"] and result["counters"]["done"] == 30
    assert list(oss2.ObjectIterator(dest, prefix="reports/paced/pace/")) == []
    # the lease: one PUT, one LIST to count shards, one DELETE at the end
    assert delta.get("DeleteObject") == 1 and delta.get("CopyObject") == 30, delta
