"""FC and MNS inside `localcloud serve`: endpoints on the ready line, and an oss2 upload
that fires an OSS trigger end to end (oss2 put -> NotificationHub -> async invocation)."""

from __future__ import annotations

import json
import time
import uuid

import oss2
import pytest
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi import models as open_api_models
from mns.account import Account
from mns.queue import Message, QueueMeta

from localcloud import launcher
from tests.contract.ramkit import allow, make_role
from tests.fc_handlers import code_location

H = "basic."


@pytest.fixture
def cloud(tmp_path):
    started = []

    def start():
        c = launcher.start(tmp_path / "data", env={"LOCALCLOUD_FC_ASYNC_RETRY_BASE_DELAY": "0.05"})
        started.append(c)
        return c

    yield start
    for c in started:
        c.stop()


def fc_client(cloud) -> Client:
    return Client(
        open_api_models.Config(
            access_key_id=cloud.access_key_id,
            access_key_secret=cloud.access_key_secret,
            endpoint=cloud.fc_endpoint.removeprefix("http://"),
            protocol="http",
            region_id=cloud.region,
        )
    )


def invocation_role(cloud, function: str) -> str:
    """A role the OSS trigger invokes through: trusts OSS, may invoke only `function`."""
    arn = f"acs:fc:{cloud.region}:{cloud.account_id}:functions/{function}"
    return make_role(
        cloud,
        f"{function}-invoker-{uuid.uuid4().hex[:6]}",
        "oss.aliyuncs.com",
        allow("fc:InvokeFunction", [arn, arn + "/*"]),
    )


def wait_for(predicate, timeout=30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def attempt_lines(record_dir) -> list[dict]:
    lines = []
    for path in sorted(record_dir.glob("*")):
        lines += [json.loads(line) for line in path.read_text().splitlines()]
    return lines


def test_ready_line_carries_mns_and_fc_endpoints(cloud):
    c = cloud()
    assert c.mns_endpoint.startswith("http://127.0.0.1:")
    assert c.fc_endpoint.startswith("http://127.0.0.1:")
    queue = Account(c.mns_endpoint, c.access_key_id, c.access_key_secret).get_queue("ready")
    queue.create(QueueMeta())
    queue.send_message(Message("hello"))
    assert queue.receive_message(wait_seconds=1).message_body == b"hello"


def test_oss_upload_fires_the_trigger_and_a_failure_is_delivered_again(cloud, tmp_path):
    record = tmp_path / "record"
    record.mkdir()
    c = cloud()
    fc = fc_client(c)
    bucket_name = f"uploads-{uuid.uuid4().hex[:8]}"
    fc.create_function(
        fc_models.CreateFunctionRequest(
            body=fc_models.CreateFunctionInput(
                code=code_location(),
                function_name="on-upload",
                handler=H + "record_attempt",
                runtime="python3.10",
                environment_variables={"FCTEST_RECORD_DIR": str(record), "FCTEST_FAILURES": "1"},
            )
        )
    )
    fc.create_trigger(
        "on-upload",
        fc_models.CreateTriggerRequest(
            body=fc_models.CreateTriggerInput(
                trigger_name="zip-uploads",
                trigger_type="oss",
                source_arn=f"acs:oss:{c.region}:{c.account_id}:{bucket_name}",
                invocation_role=invocation_role(c, "on-upload"),
                trigger_config=json.dumps(
                    {
                        "events": ["oss:ObjectCreated:PutObject"],
                        "filter": {"key": {"prefix": "in/", "suffix": ".zip"}},
                    }
                ),
            )
        ),
    )
    bucket = oss2.Bucket(
        oss2.Auth(c.access_key_id, c.access_key_secret), c.oss_endpoint, bucket_name
    )
    bucket.create_bucket()
    bucket.put_object("in/skip.txt", b"not a zip")
    bucket.put_object("in/package.zip", b"PK fake zip")
    # first attempt fails on purpose, FC's async retry delivers the same event again
    assert wait_for(lambda: len(attempt_lines(record)) == 2)
    first, second = attempt_lines(record)
    assert first == second
    (event,) = first["events"]
    assert event["eventName"] == "ObjectCreated:PutObject"
    assert event["oss"]["bucket"]["name"] == bucket_name
    assert event["oss"]["object"]["key"] == "in/package.zip"
    time.sleep(0.3)
    assert len(attempt_lines(record)) == 2  # the .txt never matched


def test_functions_and_triggers_survive_a_restart(cloud, tmp_path):
    record = tmp_path / "record"
    record.mkdir()
    first = cloud()
    fc = fc_client(first)
    bucket_name = f"durable-{uuid.uuid4().hex[:8]}"
    fc.create_function(
        fc_models.CreateFunctionRequest(
            body=fc_models.CreateFunctionInput(
                code=code_location(),
                function_name="kept",
                handler=H + "record_attempt",
                runtime="python3.10",
                environment_variables={"FCTEST_RECORD_DIR": str(record)},
            )
        )
    )
    fc.create_trigger(
        "kept",
        fc_models.CreateTriggerRequest(
            body=fc_models.CreateTriggerInput(
                trigger_name="t",
                trigger_type="oss",
                source_arn=f"acs:oss:{first.region}:{first.account_id}:{bucket_name}",
                invocation_role=invocation_role(first, "kept"),
                trigger_config=json.dumps({"events": ["oss:ObjectCreated:*"]}),
            )
        ),
    )
    auth = oss2.Auth(first.access_key_id, first.access_key_secret)
    oss2.Bucket(auth, first.oss_endpoint, bucket_name).create_bucket()
    assert first.stop() == 0
    second = cloud()
    assert fc_client(second).get_trigger("kept", "t").body.trigger_type == "oss"
    oss2.Bucket(auth, second.oss_endpoint, bucket_name).put_object("after-restart", b"x")
    assert wait_for(lambda: len(attempt_lines(record)) == 1)
    assert attempt_lines(record)[0]["events"][0]["oss"]["object"]["key"] == "after-restart"


def test_sts_tokens_are_accepted_when_they_match_the_configured_one(cloud):
    from alibabacloud_tea_openapi.exceptions import ClientException
    from mns.mns_exception import MNSServerException

    c = cloud()
    good = Account(
        c.mns_endpoint, c.access_key_id, c.access_key_secret, security_token=c.security_token
    )
    good.get_queue("sts").create(QueueMeta())
    bad = Account(
        c.mns_endpoint, c.access_key_id, c.access_key_secret, security_token="not-the-token"
    )
    with pytest.raises(MNSServerException) as caught:
        bad.get_queue("sts").get_attributes()
    assert caught.value.type == "AccessDenied"

    def fc_with(token):
        return Client(
            open_api_models.Config(
                access_key_id=c.access_key_id,
                access_key_secret=c.access_key_secret,
                security_token=token,
                endpoint=c.fc_endpoint.removeprefix("http://"),
                protocol="http",
                region_id=c.region,
            )
        )

    assert (
        fc_with(c.security_token).list_functions(fc_models.ListFunctionsRequest()).status_code
        == 200
    )
    with pytest.raises(ClientException) as caught:
        fc_with("not-the-token").list_functions(fc_models.ListFunctionsRequest())
    assert caught.value.status_code == 403
