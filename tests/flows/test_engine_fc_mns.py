"""FC:InvokeFunction and MNS:SendMessage against the real local FC runtime and MNS service."""

from __future__ import annotations

import json
import textwrap
import time

import pytest
from flowkit import definition, events, run_flow
from jobkit import READINGS

from localcloud.fc.runtime import FcRuntime
from localcloud.fc.spec import FunctionSpec
from localcloud.mns.service import MnsService

HANDLERS = """
import json, os, time

class SystemicError(Exception):
    pass

def handler(event, context):
    e = json.loads(event)
    counter = e["counter"]
    n = int(open(counter).read()) if os.path.exists(counter) else 0
    open(counter, "w").write(str(n + 1))
    if e.get("systemic"):
        raise SystemicError("bucket is gone")
    if n < e.get("fail_times", 0):
        raise RuntimeError("transient failure %d" % (n + 1))
    if e.get("sleep"):
        time.sleep(e["sleep"])
    return json.dumps({"attempt": n + 1, "echo": e.get("echo")})

def plain(event, context):
    return "not json"
"""


@pytest.fixture(scope="module")
def fc(tmp_path_factory):
    code = tmp_path_factory.mktemp("code")
    (code / "flowtest_fn.py").write_text(textwrap.dedent(HANDLERS))
    runtime = FcRuntime(
        data_dir=tmp_path_factory.mktemp("fc"), code_root=code, account_id="1000000000000001"
    )
    runtime.create_function(FunctionSpec(name="flaky", handler="flowtest_fn.handler", timeout=2))
    runtime.create_function(FunctionSpec(name="plain", handler="flowtest_fn.plain"))
    runtime.create_function(FunctionSpec(name="slow", handler="flowtest_fn.handler", timeout=60))
    yield runtime
    runtime.close()


@pytest.fixture(params=READINGS)
def reading(request) -> str:
    return request.param


@pytest.fixture
def fc_engine(make_engine, fc, reading):
    return make_engine(fc=fc, compat=reading == "compat")


def exception(reading: str, name: str) -> str:
    """A handler exception's name: `FC.<Name>` (strict) or bare (--flow-compat)."""
    return name if reading == "compat" else f"FC.{name}"


NO_OUTPUT = (
    "    OutputConstructor:\n"
    '      attempt.$: \'get(get(jsonMerge({"Body": $Output}, $Output), "Body"), "attempt")\'\n'
    '      echo.$: \'get(get(jsonMerge({"Body": $Output}, $Output), "Body"), "echo")\'\n'
)


def test_task_output_is_the_function_result(fc_engine, tmp_path):
    payload = {"counter": str(tmp_path / "c"), "echo": "hi"}
    record = run_flow(fc_engine, definition("fc_retry.yaml"), payload)
    assert json.loads(record.output) == {"attempt": 1, "echo": "hi"}
    types = [e.type for e in events(fc_engine)]
    assert types == [
        "ExecutionStarted",
        "StepEntered",
        "StepStarted",
        "TaskScheduled",
        "TaskSubmitted",
        "TaskStarted",
        "TaskSucceeded",
        "StepSucceeded",
        "StepExited",
        "ExecutionSucceeded",
    ]


def test_retry_on_the_handler_error_type_then_success(fc_engine, tmp_path):
    payload = {"counter": str(tmp_path / "c"), "fail_times": 2}
    record = run_flow(fc_engine, definition("fc_retry.yaml"), payload)
    assert json.loads(record.output)["attempt"] == 3
    types = [e.type for e in events(fc_engine)]
    assert types.count("TaskScheduled") == 3 and types.count("TaskFailed") == 2


def test_retry_exhausted_goes_to_catch_with_the_error(fc_engine, tmp_path, reading):
    payload = {"counter": str(tmp_path / "c"), "fail_times": 5}
    record = run_flow(fc_engine, definition("fc_retry.yaml"), payload)
    output = json.loads(record.output)
    assert output["code"] == exception(reading, "RuntimeError")
    assert "transient failure 3" in output["detail"]
    assert (tmp_path / "c").read_text() == "3"


def test_a_systemic_error_is_not_retried(fc_engine, tmp_path, reading):
    payload = {"counter": str(tmp_path / "c"), "systemic": True}
    record = run_flow(fc_engine, definition("fc_retry.yaml"), payload)
    assert json.loads(record.output)["code"] == exception(reading, "SystemicError")
    assert (tmp_path / "c").read_text() == "1"


def test_a_function_timeout_is_fc_unknown(fc_engine, tmp_path):
    payload = {"counter": str(tmp_path / "c"), "sleep": 5}
    record = run_flow(fc_engine, definition("fc_retry.yaml"), payload)
    output = json.loads(record.output)
    assert output["code"] == "FC.Unknown"
    assert "timed out" in output["detail"]


def test_a_missing_function_is_fc_function_not_found(fc_engine):
    text = definition("fc_retry.yaml").replace("functions/flaky/", "functions/nope/")
    record = run_flow(fc_engine, text, {})
    assert json.loads(record.output)["code"] == "FC.FunctionNotFound"


def test_a_non_json_result_is_wrapped_as_body_in_both_readings(fc_engine):
    text = definition("fc_retry.yaml").replace("functions/flaky/", "functions/plain/")
    assert NO_OUTPUT in text
    record = run_flow(fc_engine, text.replace(NO_OUTPUT, ""), {})
    assert json.loads(record.output) == {"Body": "not json"}


def test_a_json_result_is_wrapped_as_body_unless_compat(fc_engine, tmp_path, reading):
    text = definition("fc_retry.yaml").replace(NO_OUTPUT, "")
    record = run_flow(fc_engine, text, {"counter": str(tmp_path / "c"), "echo": "x"})
    result = {"attempt": 1, "echo": "x"}
    assert json.loads(record.output) == (result if reading == "compat" else {"Body": result})


def test_async_invocation_returns_at_once_with_an_empty_output(fc_engine, tmp_path):
    text = definition("fc_retry.yaml").replace("invocationType: Sync", "invocationType: Async")
    record = run_flow(fc_engine, text.replace(NO_OUTPUT, ""), {"counter": str(tmp_path / "c")})
    assert (record.status, json.loads(record.output)) == ("Succeeded", {})


def test_without_an_fc_runtime_the_task_fails_with_a_named_error(engine):
    record = run_flow(
        engine, definition("fc_retry.yaml").replace("Errors: [FnF.ALL]", "Errors: [X]"), {}
    )
    assert (record.status, record.error_code) == ("Failed", "FnF.IntegrationUnavailable")


@pytest.fixture
def mns(tmp_path):
    service = MnsService(data_dir=tmp_path / "mns", account_id="1000000000000001")
    service.create_queue("results")
    yield service
    service.close()


def test_send_message_puts_the_json_message_on_the_queue(make_engine, mns):
    engine = make_engine(mns=mns)
    record = run_flow(
        engine,
        definition("mns_notify.yaml"),
        {"queue": "results", "key": "pkg/a.zip", "entries": 3},
    )
    output = json.loads(record.output)
    assert output["MessageId"]
    messages = mns.receive("results", 1)
    assert len(messages) == 1
    body = messages[0].body
    assert json.loads(body) == {"status": "succeeded", "key": "pkg/a.zip", "entries": 3}


def test_send_message_to_a_missing_queue_is_mns_queue_not_exist(make_engine, mns):
    engine = make_engine(mns=mns)
    record = run_flow(
        engine, definition("mns_notify.yaml"), {"queue": "nope", "key": "k", "entries": 0}
    )
    assert json.loads(record.output) == {"missing": "MNS.QueueNotExist"}


THROTTLE = """
Type: StateMachine
Name: throttle
SpecVersion: v1
StartAt: Both
States:
  - Name: Both
    Type: Parallel
    Branches:
      - StartAt: A
        States:
          - Name: A
            Type: Task
            Action: FC:InvokeFunction
            Parameters:
              resourceArn: acs:fc:cn-hangzhou:1000000000000001:functions/single/LATEST
              invocationType: Sync
              body.$: $Input
            Catch:
              - Description: no instance free
                Errors: [FC.ResourceThrottled]
                Next: AThrottled
                OutputConstructor:
                  Code.$: $Context.Current.Error.Code
            End: true
          - Name: AThrottled
            Type: Pass
            End: true
      - StartAt: B
        States:
          - Name: B
            Type: Task
            Action: FC:InvokeFunction
            Parameters:
              resourceArn: acs:fc:cn-hangzhou:1000000000000001:functions/single/LATEST
              invocationType: Sync
              body.$: $Input
            Catch:
              - Description: no instance free
                Errors: [FC.ResourceThrottled]
                Next: BThrottled
                OutputConstructor:
                  Code.$: $Context.Current.Error.Code
            End: true
          - Name: BThrottled
            Type: Pass
            End: true
    End: true
"""


def test_throttling_is_fc_resource_throttled(fc, make_engine, tmp_path):
    fc.create_function(
        FunctionSpec(
            name="single", handler="flowtest_fn.handler", timeout=5, reserved_concurrency=1
        )
    )
    engine = make_engine(fc=fc)
    record = run_flow(engine, THROTTLE, {"counter": str(tmp_path / "c"), "sleep": 1})
    branches = json.loads(record.output)
    codes = sorted(b.get("Code", "ok") for b in branches.values())
    assert codes == ["FC.ResourceThrottled", "ok"]


TIMED_TASK = """
Type: StateMachine
Name: timed-task
SpecVersion: v1
StartAt: Invoke
States:
  - Name: Invoke
    Type: Task
    Action: FC:InvokeFunction
    TaskMode: RequestComplete
    Timeout: 1
    Parameters:
      resourceArn: acs:fc:cn-hangzhou:1000000000000001:functions/slow/LATEST
      invocationType: Sync
      body.$: $Input
    End: true
"""


def test_a_task_fails_with_fnf_timeout_at_its_deadline_while_the_function_still_runs(
    fc_engine, tmp_path
):
    counter = tmp_path / "c"
    started = time.monotonic()
    record = run_flow(fc_engine, TIMED_TASK, {"counter": str(counter), "sleep": 45})
    waited = time.monotonic() - started
    assert record.status == "Failed" and record.error_code == "FnF.Timeout", record
    assert counter.read_text() == "1"  # the function was invoked and is still sleeping
    assert waited < 40, f"the flow waited {waited:.0f}s for a call past its 1s Timeout"
