"""OSS triggers: CreateTrigger subscribes to the OSS NotificationHub; events become async
invocations (with FC's retries, so a failing handler sees the same event again)."""

from __future__ import annotations

import json
import time

import pytest

from localcloud.fc.errors import InvalidArgument, TriggerAlreadyExists
from localcloud.fc.runtime import FcRuntime
from localcloud.oss.notifications import NotificationHub
from tests.fc_handlers import CODE_ROOT

H = "basic."
CONFIG = {
    "events": ["oss:ObjectCreated:PutObject", "oss:ObjectCreated:CompleteMultipartUpload"],
    "filter": {"key": {"prefix": "incoming/", "suffix": ".zip"}},
}


@pytest.fixture
def hub():
    hub = NotificationHub("cn-hangzhou", "1777")
    yield hub
    hub.close()


def make_runtime(hub, data_dir) -> FcRuntime:
    return FcRuntime(
        hub,
        {"access_key_id": "a", "access_key_secret": "b", "security_token": ""},
        region="cn-hangzhou",
        account_id="1777",
        data_dir=data_dir,
        async_retry_base_delay=0.01,
        code_root=CODE_ROOT,
    )


def put(hub, key: str, event="ObjectCreated:PutObject", bucket="uploads"):
    hub.publish(event, bucket, key, size=10, etag="E" * 32, delta_size=10, request_id="r-1")


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def events_seen(record_dir) -> list[dict]:
    seen = []
    for path in sorted(record_dir.iterdir()):
        seen += [json.loads(line) for line in path.read_text().splitlines()]
    return seen


def test_matching_upload_invokes_the_function_with_the_oss_event(hub, tmp_path):
    record = tmp_path / "record"
    record.mkdir()
    runtime = make_runtime(hub, tmp_path / "d")
    try:
        runtime.create_function(
            {
                "name": "unzip",
                "handler": H + "record_attempt",
                "environment_variables": {"FCTEST_RECORD_DIR": str(record)},
            }
        )
        runtime.create_trigger(
            "unzip",
            name="on-zip",
            trigger_type="oss",
            source_arn="acs:oss:cn-hangzhou:1777:uploads",
            trigger_config=CONFIG,
        )
        put(hub, "incoming/a.zip")
        put(hub, "incoming/a.txt")  # wrong suffix
        put(hub, "other/b.zip")  # wrong prefix
        put(hub, "incoming/c.zip", bucket="elsewhere")  # other bucket
        put(hub, "incoming/d.zip", event="ObjectCreated:CopyObject")  # event not subscribed
        put(hub, "incoming/e.zip", event="ObjectCreated:CompleteMultipartUpload")
        assert wait_for(lambda: len(runtime.async_tasks("unzip")) == 2)
        assert runtime.wait_async_idle(20)
        keys = sorted(e["events"][0]["oss"]["object"]["key"] for e in events_seen(record))
        assert keys == ["incoming/a.zip", "incoming/e.zip"]
        assert {t.source for t in runtime.async_tasks("unzip")} == {"oss:on-zip"}
        assert {t.status for t in runtime.async_tasks("unzip")} == {"Succeeded"}
    finally:
        runtime.close()


def test_a_failing_trigger_handler_receives_the_same_event_four_times(hub, tmp_path):
    record = tmp_path / "record"
    record.mkdir()
    runtime = make_runtime(hub, tmp_path / "d")
    try:
        runtime.create_function(
            {
                "name": "fails",
                "handler": H + "record_attempt",
                "environment_variables": {
                    "FCTEST_RECORD_DIR": str(record),
                    "FCTEST_FAILURES": "always",
                },
            }
        )
        runtime.create_trigger(
            "fails",
            name="t",
            trigger_type="oss",
            source_arn="acs:oss:cn-hangzhou:1777:uploads",
            trigger_config={"events": ["oss:ObjectCreated:*"]},
        )
        put(hub, "x.zip")
        assert wait_for(lambda: len(runtime.async_tasks("fails")) == 1)
        assert runtime.wait_async_idle(20)
        seen = events_seen(record)
        assert len(seen) == 4 and all(e == seen[0] for e in seen)
    finally:
        runtime.close()


def test_triggers_survive_restart_and_resubscribe(hub, tmp_path):
    record = tmp_path / "record"
    record.mkdir()
    first = make_runtime(hub, tmp_path / "d")
    first.create_function(
        {
            "name": "kept",
            "handler": H + "record_attempt",
            "environment_variables": {"FCTEST_RECORD_DIR": str(record)},
        }
    )
    first.create_trigger(
        "kept",
        name="t",
        trigger_type="oss",
        source_arn="acs:oss:cn-hangzhou:1777:uploads",
        trigger_config=CONFIG,
    )
    first.close()  # unsubscribes: no delivery while it is down
    put(hub, "incoming/while-down.zip")
    time.sleep(0.2)
    second = make_runtime(hub, tmp_path / "d")
    try:
        assert second.get_trigger("kept", "t").bucket == "uploads"
        put(hub, "incoming/after.zip")
        assert wait_for(lambda: len(second.async_tasks("kept")) == 1)
        assert second.wait_async_idle(20)
        keys = [e["events"][0]["oss"]["object"]["key"] for e in events_seen(record)]
        assert keys == ["incoming/after.zip"]
    finally:
        second.close()


def test_deleting_the_trigger_or_function_stops_deliveries(hub, tmp_path):
    runtime = make_runtime(hub, tmp_path / "d")
    try:
        runtime.create_function({"name": "f", "handler": H + "echo"})
        runtime.create_trigger(
            "f",
            name="t",
            trigger_type="oss",
            source_arn="acs:oss:cn-hangzhou:1777:uploads",
            trigger_config=CONFIG,
        )
        with pytest.raises(TriggerAlreadyExists):
            runtime.create_trigger(
                "f",
                name="t",
                trigger_type="oss",
                source_arn="acs:oss:cn-hangzhou:1777:uploads",
                trigger_config=CONFIG,
            )
        runtime.delete_trigger("f", "t")
        put(hub, "incoming/late.zip")
        time.sleep(0.3)
        assert runtime.async_tasks("f") == []
        runtime.create_trigger(
            "f",
            name="t2",
            trigger_type="oss",
            source_arn="acs:oss:cn-hangzhou:1777:uploads",
            trigger_config=CONFIG,
        )
        runtime.delete_function("f")
        put(hub, "incoming/later.zip")
        time.sleep(0.3)
        assert runtime.async_tasks() == []
    finally:
        runtime.close()


@pytest.mark.parametrize(
    "config",
    [
        "[]",
        "{}",
        json.dumps({"events": []}),
        json.dumps({"events": ["ObjectCreated:PutObject"]}),
        json.dumps({"events": ["oss:ObjectCreated:*"], "filter": {"key": "x"}}),
    ],
)
def test_malformed_trigger_configs_are_invalid(hub, tmp_path, config):
    runtime = make_runtime(hub, tmp_path / "d")
    try:
        runtime.create_function({"name": "f", "handler": H + "echo"})
        with pytest.raises(InvalidArgument):
            runtime.create_trigger(
                "f",
                name="t",
                trigger_type="oss",
                source_arn="acs:oss:cn-hangzhou:1777:uploads",
                trigger_config=config,
            )
    finally:
        runtime.close()


def test_updating_a_trigger_changes_what_it_matches(hub, tmp_path):
    runtime = make_runtime(hub, tmp_path / "d")
    try:
        runtime.create_function({"name": "f", "handler": H + "echo"})
        runtime.create_trigger(
            "f",
            name="t",
            trigger_type="oss",
            source_arn="acs:oss:cn-hangzhou:1777:uploads",
            trigger_config=CONFIG,
        )
        runtime.update_trigger(
            "f",
            "t",
            trigger_config={
                "events": ["oss:ObjectCreated:*"],
                "filter": {"key": {"suffix": ".tar"}},
            },
        )
        put(hub, "incoming/a.zip")
        put(hub, "x.tar")
        assert wait_for(lambda: len(runtime.async_tasks("f")) == 1)
        time.sleep(0.3)
        assert len(runtime.async_tasks("f")) == 1
    finally:
        runtime.close()
