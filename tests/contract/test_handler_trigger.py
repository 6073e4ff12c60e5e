"""trigger handler against localcloud's CloudFlow (fnf 2019-03-15) through alibabacloud-fnf20190315."""

from __future__ import annotations

import json
import uuid

import pytest
from alibabacloud_fnf20190315 import models
from alibabacloud_fnf20190315.client import Client
from alibabacloud_tea_openapi.models import Config

from handlers import trigger
from handlers.errors import StartExecutionFailed
from handlers.jobinput import UnzipJob
from tests.handlerkit import fc_context

PASS_FLOW = """Type: StateMachine
Name: {name}
SpecVersion: v1
StartAt: Done
States:
  - Name: Done
    Type: Pass
    End: true
"""


@pytest.fixture
def fnf(localcloud):
    host = localcloud.fnf_endpoint.split("://", 1)[1]
    return Client(
        Config(
            access_key_id=localcloud.access_key_id,
            access_key_secret=localcloud.access_key_secret,
            security_token=localcloud.security_token,
            endpoint=host,
            protocol="http",
            region_id=localcloud.region,
        )
    )


@pytest.fixture
def flow(fnf, localcloud, monkeypatch):
    name = f"unzip_{uuid.uuid4().hex[:10]}"
    fnf.create_flow(
        models.CreateFlowRequest(
            name=name,
            definition=PASS_FLOW.format(name=name),
            description="trigger test",
            type="FDL",
        )
    )
    monkeypatch.setenv("OSSBATCH_FNF_ENDPOINT", localcloud.fnf_endpoint)
    monkeypatch.setenv("OSSBATCH_UNZIP_FLOW", name)
    monkeypatch.setenv("OSSBATCH_WATCH_PREFIX", "in/")
    monkeypatch.setenv("OSSBATCH_WATCH_SUFFIX", ".zip")
    monkeypatch.setenv("OSSBATCH_OUTPUT_PREFIX", "out/")
    return name


def event(*keys, etag="0123ABCD"):
    return json.dumps(
        {
            "events": [
                {
                    "eventName": "ObjectCreated:PutObject",
                    "eventSource": "acs:oss",
                    "region": "cn-hangzhou",
                    "eventTime": "2024-01-01T00:00:00.000Z",
                    "oss": {
                        "bucket": {"name": "bkt", "arn": "acs:oss:cn-hangzhou:1:bkt"},
                        "object": {"key": k, "eTag": etag, "size": 10, "deltaSize": 10},
                    },
                    "responseElements": {"requestId": "r"},
                }
                for k in keys
            ]
        }
    ).encode()


def executions(fnf, flow):
    return (
        fnf.list_executions(models.ListExecutionsRequest(flow_name=flow, limit=100)).body.executions
        or []
    )


def test_duplicate_deliveries_start_exactly_one_execution(fnf, flow, localcloud):
    ctx = fc_context(localcloud)
    first = json.loads(trigger.handler(event("in/a b/报表.zip"), ctx))
    again = json.loads(trigger.handler(event("in/a b/报表.zip"), ctx))  # FC async retry
    # while the first execution runs, StartExecution answers it again (doc-detail/122628),
    # which reads as a start; once it finished, ExecutionAlreadyExists: a duplicate
    assert len(first["started"]) == 1
    assert again["started"] + again["duplicates"] == first["started"]
    listed = executions(fnf, flow)
    assert [e.name for e in listed] == first["started"]
    described = fnf.describe_execution(
        models.DescribeExecutionRequest(flow_name=flow, execution_name=first["started"][0])
    ).body
    assert json.loads(described.input)["package"] == {
        "bucket": "bkt",
        "key": "in/a b/报表.zip",
        "etag": "0123ABCD",
    }


def test_outputs_and_unwatched_keys_start_nothing(fnf, flow, localcloud):
    result = json.loads(
        trigger.handler(
            event("out/pkg/inner.zip", "elsewhere/a.zip", "in/a.txt"), fc_context(localcloud)
        )
    )
    assert result["started"] == [] and len(result["ignored"]) == 3
    assert executions(fnf, flow) == []


def test_a_new_version_of_the_same_key_is_a_new_execution(fnf, flow, localcloud):
    ctx = fc_context(localcloud)
    trigger.handler(event("in/p.zip", etag="AAAA"), ctx)
    trigger.handler(event("in/p.zip", etag="BBBB"), ctx)
    assert len(executions(fnf, flow)) == 2


def test_unknown_flow_fails_with_a_catchable_name(flow, localcloud, monkeypatch):
    monkeypatch.setenv("OSSBATCH_UNZIP_FLOW", "no_such_flow")
    with pytest.raises(StartExecutionFailed, match="no_such_flow"):
        trigger.handler(event("in/x.zip"), fc_context(localcloud))


def test_the_flow_input_carries_resources_and_settings(fnf, flow, localcloud, monkeypatch):
    monkeypatch.setenv("OSSBATCH_UNZIP_FUNCTION", "ossbatch-unzip-fn")
    monkeypatch.setenv("OSSBATCH_NOTIFICATION_QUEUE", "unzip-done")
    monkeypatch.setenv("OSSBATCH_DELETE_AFTER_SUCCESS", "true")
    started = json.loads(trigger.handler(event("in/r.zip"), fc_context(localcloud)))["started"]
    described = fnf.describe_execution(
        models.DescribeExecutionRequest(flow_name=flow, execution_name=started[0])
    ).body
    doc = json.loads(described.input)
    region, account = localcloud.region, localcloud.account_id
    assert doc["resources"] == {
        "function": f"acs:fc:{region}:{account}:functions/ossbatch-unzip-fn/LATEST",
        "flow": f"acs:fnf:{region}:{account}:flow/{flow}",
        "queue": f"acs:mns:{region}:{account}:/queues/unzip-done/messages",
    }
    assert doc["settings"]["delete_after_success"] is True and doc["job_id"] == started[0]
    UnzipJob.model_validate(doc)  # the unzip flow's typed input
