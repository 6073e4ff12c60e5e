"""The fnf 2019-03-15 API through the unmodified alibabacloud-fnf20190315 SDK."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from alibabacloud_fnf20190315 import models
from alibabacloud_fnf20190315.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.utils_models import Config

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "flows"))

from flowkit import ACCESS_KEY_ID, ACCESS_KEY_SECRET, ApiServer, definition, named  # noqa: E402

from localcloud.flow.engine import FlowEngine  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    engine = FlowEngine(data_dir=tmp_path_factory.mktemp("fnf"))
    with ApiServer(engine) as srv:
        yield srv
    engine.close()


def client_for(server, secret=ACCESS_KEY_SECRET, key_id=ACCESS_KEY_ID) -> Client:
    return Client(
        Config(
            access_key_id=key_id,
            access_key_secret=secret,
            endpoint=server.endpoint,
            protocol="http",
            region_id="cn-hangzhou",
        )
    )


@pytest.fixture
def fnf(server):
    return client_for(server)


def error_of(call) -> ClientException:
    with pytest.raises(ClientException) as info:
        call()
    return info.value


def test_flow_lifecycle_create_describe_update_list_delete(fnf):
    text = named(definition("fail.yaml"), "life")
    created = fnf.create_flow(
        models.CreateFlowRequest(name="life", definition=text, description="d1", type="FDL")
    ).body
    assert (created.name, created.description, created.type) == ("life", "d1", "FDL")
    assert fnf.describe_flow(models.DescribeFlowRequest(name="life")).body.definition == text
    updated = fnf.update_flow(models.UpdateFlowRequest(name="life", description="d2")).body
    assert updated.description == "d2"
    names = [f.name for f in fnf.list_flows(models.ListFlowsRequest(limit=100)).body.flows]
    assert "life" in names
    fnf.delete_flow(models.DeleteFlowRequest(name="life"))
    err = error_of(lambda: fnf.describe_flow(models.DescribeFlowRequest(name="life")))
    assert (err.status_code, err.code) == (404, "FlowNotExists")


def test_create_flow_with_an_invalid_definition_names_state_and_field(fnf):
    bad = "Type: StateMachine\nName: b\nSpecVersion: v1\nStartAt: X\nStates:\n  - {Name: X, Type: Pass}\n"
    err = error_of(
        lambda: fnf.create_flow(
            models.CreateFlowRequest(name="bad", definition=bad, description="", type="FDL")
        )
    )
    assert (err.status_code, err.code) == (400, "InvalidArgument")
    assert "state 'X', field Next" in err.message


def test_duplicate_flow_is_rejected(fnf):
    request = models.CreateFlowRequest(
        name="dup", definition=named(definition("fail.yaml"), "dup"), description="", type="FDL"
    )
    fnf.create_flow(request)
    err = error_of(lambda: fnf.create_flow(request))
    assert (err.status_code, err.code) == (409, "FlowAlreadyExists")


def test_start_describe_and_history_of_an_execution(fnf):
    fnf.create_flow(
        models.CreateFlowRequest(
            name="loop",
            definition=named(definition("loop_counter.yaml"), "loop"),
            description="",
            type="FDL",
        )
    )
    started = fnf.start_execution(
        models.StartExecutionRequest(
            flow_name="loop", execution_name="run_1", input=json.dumps({"n": 0, "limit": 40})
        )
    ).body
    assert (started.name, started.flow_name) == ("run_1", "loop")
    done = fnf.describe_execution(
        models.DescribeExecutionRequest(
            flow_name="loop", execution_name="run_1", wait_time_seconds=10
        )
    ).body
    assert done.status == "Succeeded"
    assert json.loads(done.output) == {"n": 40, "limit": 40}
    assert done.stopped_time.endswith("Z")
    # history pages: 330 events, 60 per page by default
    events, token = [], None
    while True:
        page = fnf.get_execution_history(
            models.GetExecutionHistoryRequest(
                flow_name="loop", execution_name="run_1", next_token=token
            )
        ).body
        events += page.events
        token = page.next_token
        if not token:
            break
    assert len(events) == (40 * 2 + 2) * 4 + 2
    assert [e.event_id for e in events] == list(range(1, len(events) + 1))
    assert events[0].type == "ExecutionStarted" and events[-1].type == "ExecutionSucceeded"
    assert events[1].step_name == "Check"


def test_duplicate_execution_name_is_execution_already_exists(fnf):
    fnf.create_flow(
        models.CreateFlowRequest(
            name="dupx",
            definition=named(definition("fail.yaml"), "dupx"),
            description="",
            type="FDL",
        )
    )
    request = models.StartExecutionRequest(flow_name="dupx", execution_name="once", input="{}")
    fnf.start_execution(request)
    err = error_of(lambda: fnf.start_execution(request))
    assert (err.status_code, err.code) == (409, "ExecutionAlreadyExists")


@pytest.mark.parametrize(
    "name", ["1starts-with-digit", "has space", "dot.ted", "x" * 129, "ümlaut"]
)
def test_invalid_execution_names_are_rejected(fnf, name):
    try:
        fnf.create_flow(
            models.CreateFlowRequest(
                name="names",
                definition=named(definition("fail.yaml"), "names"),
                description="",
                type="FDL",
            )
        )
    except ClientException:
        pass
    err = error_of(
        lambda: fnf.start_execution(
            models.StartExecutionRequest(flow_name="names", execution_name=name, input="{}")
        )
    )
    assert (err.status_code, err.code) == (400, "InvalidArgument")


def test_input_must_be_a_json_object(fnf):
    fnf.create_flow(
        models.CreateFlowRequest(
            name="inp", definition=named(definition("fail.yaml"), "inp"), description="", type="FDL"
        )
    )
    err = error_of(
        lambda: fnf.start_execution(
            models.StartExecutionRequest(flow_name="inp", execution_name="e", input="[1, 2]")
        )
    )
    assert err.code == "InvalidArgument"


def test_stop_and_list_executions(fnf):
    fnf.create_flow(
        models.CreateFlowRequest(
            name="slow",
            definition=named(definition("wait_dynamic.yaml"), "slow"),
            description="",
            type="FDL",
        )
    )
    for i in range(3):
        fnf.start_execution(
            models.StartExecutionRequest(
                flow_name="slow", execution_name=f"w{i}", input=json.dumps({"delay": 100})
            )
        )
    stopped = fnf.stop_execution(
        models.StopExecutionRequest(
            flow_name="slow", execution_name="w0", error="Manual", cause="test"
        )
    ).body
    assert stopped.status == "Stopped"
    running = fnf.list_executions(
        models.ListExecutionsRequest(flow_name="slow", status="Running")
    ).body.executions
    assert sorted(e.name for e in running) == ["w1", "w2"]
    first = fnf.list_executions(models.ListExecutionsRequest(flow_name="slow", limit=2)).body
    assert [e.name for e in first.executions] == ["w0", "w1"] and first.next_token
    rest = fnf.list_executions(
        models.ListExecutionsRequest(flow_name="slow", limit=2, next_token=first.next_token)
    ).body
    assert [e.name for e in rest.executions] == ["w2"] and not rest.next_token
    for name in ("w1", "w2"):
        fnf.stop_execution(models.StopExecutionRequest(flow_name="slow", execution_name=name))


def test_unknown_execution_is_execution_not_exists(fnf):
    fnf.create_flow(
        models.CreateFlowRequest(
            name="ne", definition=named(definition("fail.yaml"), "ne"), description="", type="FDL"
        )
    )
    err = error_of(
        lambda: fnf.describe_execution(
            models.DescribeExecutionRequest(flow_name="ne", execution_name="nope")
        )
    )
    assert (err.status_code, err.code) == (404, "ExecutionNotExists")


def test_a_wrong_secret_is_rejected_by_the_signature_check(server):
    bad = client_for(server, secret="not-the-secret")
    err = error_of(lambda: bad.list_flows(models.ListFlowsRequest()))
    assert (err.status_code, err.code) == (400, "SignatureDoesNotMatch")


def test_an_unknown_access_key_is_rejected(server):
    bad = client_for(server, key_id="LTAIsomeoneelse")
    err = error_of(lambda: bad.list_flows(models.ListFlowsRequest()))
    assert err.code == "InvalidAccessKeyId.NotFound"


def test_signature_holds_for_unicode_spaces_and_symbols_in_parameters(fnf):
    fnf.create_flow(
        models.CreateFlowRequest(
            name="uni",
            definition=named(definition("pass_constructors.yaml"), "uni"),
            description="说明 with spaces & symbols +/=~*",
            type="FDL",
        )
    )
    payload = {"a": 1, "b": 2, "job": "任务 #1 & more +/=~*'"}
    fnf.start_execution(
        models.StartExecutionRequest(
            flow_name="uni", execution_name="u1", input=json.dumps(payload, ensure_ascii=False)
        )
    )
    done = fnf.describe_execution(
        models.DescribeExecutionRequest(flow_name="uni", execution_name="u1", wait_time_seconds=10)
    ).body
    assert json.loads(done.output)["job"] == payload["job"]
