"""The flow engine inside a real `localcloud serve` process, through the real SDK:
the ready line carries fnf_endpoint, the event limit is configurable, and a kill -9 of
localcloud mid-execution is survived (the execution resumes when it starts again)."""

from __future__ import annotations

import json
import time

import pytest
from alibabacloud_fnf20190315 import models
from alibabacloud_fnf20190315.client import Client
from alibabacloud_tea_openapi.utils_models import Config
from flowkit import definition, named

from localcloud import launcher


def fnf_client(cloud) -> Client:
    return Client(
        Config(
            access_key_id=cloud.access_key_id,
            access_key_secret=cloud.access_key_secret,
            security_token=cloud.security_token,
            endpoint=cloud.fnf_endpoint.split("://", 1)[1],
            protocol="http",
            region_id=cloud.region,
        )
    )


@pytest.fixture
def clouds():
    started: list[launcher.LocalCloud] = []
    yield started
    for cloud in started:
        cloud.stop()


def describe(fnf: Client, flow: str, name: str, wait: int = 0):
    return fnf.describe_execution(
        models.DescribeExecutionRequest(flow_name=flow, execution_name=name, wait_time_seconds=wait)
    ).body


@pytest.mark.parametrize(
    "how", [{"args": ("--max-events", "30")}, {"env": {"LOCALCLOUD_FLOW_MAX_EVENTS": "30"}}]
)
def test_localcloud_serves_fnf_with_a_configurable_event_limit(clouds, tmp_path, how):
    cloud = launcher.start(tmp_path / "lc", *how.get("args", ()), env=how.get("env"))
    clouds.append(cloud)
    fnf = fnf_client(cloud)
    fnf.create_flow(
        models.CreateFlowRequest(
            name="loop",
            definition=named(definition("loop_counter.yaml"), "loop"),
            description="",
            type="FDL",
        )
    )
    fnf.start_execution(
        models.StartExecutionRequest(
            flow_name="loop", execution_name="long", input=json.dumps({"n": 0, "limit": 100})
        )
    )
    body = describe(fnf, "loop", "long", 10)
    assert body.status == "Failed"
    assert json.loads(body.output)["Error"] == "FnF.EventLimitExceeded"


def test_kill_9_of_localcloud_mid_execution_is_survived(clouds, tmp_path):
    data_dir = tmp_path / "lc"
    first = launcher.start(data_dir)
    clouds.append(first)
    fnf = fnf_client(first)
    fnf.create_flow(
        models.CreateFlowRequest(
            name="res",
            definition=named(definition("resumable.yaml"), "res"),
            description="",
            type="FDL",
        )
    )
    fnf.start_execution(
        models.StartExecutionRequest(
            flow_name="res", execution_name="e1", input=json.dumps({"delay": 3})
        )
    )
    time.sleep(1.0)  # inside the 3 s Wait
    assert describe(fnf, "res", "e1").status == "Running"
    first.kill()
    second = launcher.start(data_dir)
    clouds.append(second)
    fnf = fnf_client(second)
    body = describe(fnf, "res", "e1", 20)
    assert body.status == "Succeeded"
    assert json.loads(body.output) == {"stage": "after", "from": "before"}
    history = fnf.get_execution_history(
        models.GetExecutionHistoryRequest(flow_name="res", execution_name="e1", limit=100)
    ).body.events
    assert [e.type for e in history].count("ExecutionStarted") == 1
    assert [e.event_id for e in history] == list(range(1, len(history) + 1))
