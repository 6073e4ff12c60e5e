"""Duplicate OSS events for one upload (FC async retries, replays) -> exactly one
extraction run of that package version."""

from __future__ import annotations

import io
import json
import time

import pytest

from ossbatch import cloud, sampledata
from ossbatch.config import load_environment
from ossbatch.local import bring_down, bring_up


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("dup-lc")
    try:
        state = bring_up(load_environment("local"), data_dir)
        yield cloud.from_local_state(state)
    finally:
        bring_down(data_dir)


def oss_event(bucket: str, key: str, etag: str, size: int) -> bytes:
    return json.dumps(
        {
            "events": [
                {
                    "eventName": "ObjectCreated:PutObject",
                    "eventSource": "acs:oss",
                    "eventTime": "2026-11-26T00:00:00.000Z",
                    "region": "cn-hangzhou",
                    "oss": {
                        "bucket": {"name": bucket, "arn": f"acs:oss:cn-hangzhou:1:{bucket}"},
                        "object": {"key": key, "size": size, "eTag": etag, "deltaSize": size},
                    },
                    "responseElements": {"requestId": "dup"},
                }
            ]
        }
    ).encode()


def unzip_runs_of(conn, key: str) -> list:
    from alibabacloud_fnf20190315 import models as fnf

    body = (
        conn.fnf()
        .list_executions(fnf.ListExecutionsRequest(flow_name=conn.flow_name("unzip"), limit=100))
        .body
    )
    return [
        e
        for e in body.executions or []
        if json.loads(e.input or "{}").get("package", {}).get("key") == key
    ]


def test_duplicate_oss_events_start_exactly_one_extraction(conn):
    from alibabacloud_fc20230330 import models as fc

    packages = conn.oss_bucket(conn.buckets["packages"])
    payload, _ = sampledata.build_zip(20)
    key = "incoming/duplicated.zip"
    etag = packages.put_object(key, payload).etag.strip('"')
    deadline = time.monotonic() + 30
    while not unzip_runs_of(conn, key):  # the real trigger delivery
        assert time.monotonic() < deadline, "the upload started no extraction"
        time.sleep(0.3)

    event = oss_event(conn.buckets["packages"], key, etag, len(payload))
    answers = []
    for _ in range(3):  # FC's async retries / replays deliver the same event again
        result = conn.fc().invoke_function(
            conn.functions["trigger"], fc.InvokeFunctionRequest(body=io.BytesIO(event))
        )
        answers.append(json.loads(result.body.read()))
    # StartExecution returns a RUNNING execution of that name as if started, and answers
    # ExecutionAlreadyExists once it finished (doc-detail/122628): either way, one run
    assert all(len(a["started"]) + len(a["duplicates"]) == 1 for a in answers), answers
    runs = unzip_runs_of(conn, key)
    assert len(runs) == 1, [r.name for r in runs]
