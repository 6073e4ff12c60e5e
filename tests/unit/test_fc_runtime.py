"""FcRuntime semantics without HTTP: handler loading, instances, timeouts, limits, async."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile

import pytest

from localcloud.fc.errors import (
    FunctionError,
    FunctionNotFound,
    FunctionThrottled,
    FunctionTimeout,
    InvalidArgument,
)
from localcloud.fc.runtime import FcRuntime
from tests.fc_handlers import CODE_ROOT

CREDENTIALS = {
    "access_key_id": "LTAIlocal",
    "access_key_secret": "s3cret",
    "security_token": "sts-token",
}
H = "basic."


@pytest.fixture
def runtime(tmp_path):
    rt = FcRuntime(
        None,
        CREDENTIALS,
        region="cn-shanghai",
        account_id="1888",
        data_dir=tmp_path,
        async_retry_base_delay=0.01,
        code_root=CODE_ROOT,
    )
    yield rt
    rt.close()


def fn(name: str, handler: str, **extra) -> dict:
    return {"name": name, "handler": H + handler, **extra}


def test_handler_runs_with_the_event_bytes_and_returns_bytes(runtime):
    runtime.create_function(fn("echo", "echo"))
    assert runtime.invoke("echo", b"\x00\xffhello") == b"\x00\xffhello"
    runtime.create_function(fn("upper", "upper_text"))
    assert runtime.invoke("upper", "abc") == b"ABC"
    runtime.create_function(fn("dict", "returns_dict"))
    assert json.loads(runtime.invoke("dict", b"12345")) == {"size": 5}


def test_instances_are_reused_between_invocations(runtime):
    runtime.create_function(fn("pid", "pid"))
    first = json.loads(runtime.invoke("pid"))
    second = json.loads(runtime.invoke("pid"))
    assert first["pid"] == second["pid"]
    assert second["invocations"] == 2  # module state survives, as on an FC instance
    assert runtime.instances_started("pid") == 1


def test_handler_exception_is_a_function_error_with_type_message_and_stack(runtime):
    runtime.create_function(fn("boom", "boom"))
    with pytest.raises(FunctionError) as caught:
        runtime.invoke("boom", b"payload")
    assert caught.value.error_type == "ValueError"
    assert caught.value.message == "boom: payload"
    assert caught.value.stack_trace[-1][2] == "in boom"
    assert caught.value.to_body()["errorType"] == "ValueError"


def test_timeout_kills_the_instance_and_the_next_invocation_gets_a_fresh_one(runtime):
    runtime.create_function(fn("slow", "sleep_seconds", timeout=1))
    pid_before = runtime.invoke("slow", b"0")
    started = time.monotonic()
    with pytest.raises(FunctionTimeout) as caught:
        runtime.invoke("slow", b"30")
    assert 0.9 < time.monotonic() - started < 5
    assert caught.value.to_body() == {"errorMessage": "Function timed out after 1 seconds"}
    pid_after = runtime.invoke("slow", b"0")
    assert pid_after != pid_before
    assert runtime.instances_started("slow") == 2


def test_sleep_forever_is_stopped_by_a_fractional_timeout(runtime):
    runtime.create_function(fn("forever", "sleep_forever", timeout=0.5))
    with pytest.raises(FunctionTimeout):
        runtime.invoke("forever")


def test_an_instance_that_exits_fails_its_invocation_and_is_replaced(runtime):
    runtime.create_function(fn("exit", "exit_process"))
    with pytest.raises(FunctionError) as caught:
        runtime.invoke("exit")
    assert caught.value.error_type == "ProcessExited"
    runtime.update_function("exit", handler=H + "echo")
    assert runtime.invoke("exit", b"back") == b"back"


def test_unknown_function_and_bad_handler(runtime):
    with pytest.raises(FunctionNotFound):
        runtime.invoke("nope")
    runtime.create_function(fn("missing", "no_such_handler"))
    with pytest.raises(FunctionError) as caught:
        runtime.invoke("missing")
    assert caught.value.error_type == "AttributeError"
    runtime.create_function({"name": "nomod", "handler": "no_such_module.handler"})
    with pytest.raises(FunctionError) as caught:
        runtime.invoke("nomod")
    assert caught.value.error_type == "ModuleNotFoundError"


def test_invalid_specs_are_rejected(runtime):
    for bad in (
        {"name": "1bad", "handler": "a.b"},
        {"name": "ok", "handler": "nodot"},
        {"name": "ok", "handler": "a.b", "runtime": "nodejs18"},
        {"name": "ok", "handler": "a.b", "timeout": 0},
        {"name": "ok", "handler": "a.b", "environment_variables": {"A": 1}},
    ):
        with pytest.raises(InvalidArgument):
            runtime.create_function(bad)


def test_sync_invocations_over_the_concurrency_limit_are_throttled(runtime):
    runtime.create_function(fn("one", "sleep_seconds", reserved_concurrency=1))
    runner = threading.Thread(target=runtime.invoke, args=("one", b"1"))
    runner.start()
    time.sleep(0.3)
    with pytest.raises(FunctionThrottled) as caught:
        runtime.invoke("one", b"0")
    assert caught.value.status == 429 and caught.value.code == "ResourceThrottled"
    # a caller that prefers to queue waits for the slot instead
    assert runtime.invoke("one", b"0", wait_for_slot=10)
    runner.join()


def test_reserved_concurrency_zero_disables_the_function(runtime):
    runtime.create_function(fn("off", "echo"))
    runtime.put_concurrency("off", 0)
    with pytest.raises(FunctionThrottled):
        runtime.invoke("off")


def test_context_mirrors_fc_python310(runtime):
    runtime.create_function(
        fn(
            "ctx",
            "read_context",
            memory_size=1024,
            timeout=7,
            environment_variables={"FCTEST_X": "y"},
        )
    )
    info = json.loads(runtime.invoke("ctx", request_id="req-1"))
    assert info["request_id"] == "req-1"
    assert info["credentials"] == CREDENTIALS
    assert info["function"] == {
        "name": "ctx",
        "handler": H + "read_context",
        "memory": 1024,
        "timeout": 7,
    }
    assert info["region"] == "cn-shanghai" and info["account_id"] == "1888"
    assert info["attributes"] == [
        "account_id",
        "credentials",
        "function",
        "region",
        "request_id",
        "service",
        "tracing",
    ]
    assert info["env"]["FCTEST_X"] == "y"
    assert info["env"]["FC_FUNCTION_NAME"] == "ctx"
    assert info["env"]["ALIBABA_CLOUD_SECURITY_TOKEN"] == "sts-token"


def test_context_mirrors_fc_python312_without_credentials(runtime):
    runtime.create_function(fn("ctx12", "read_context", runtime="python3.12"))
    info = json.loads(runtime.invoke("ctx12"))
    assert "credentials" not in info
    assert info["attributes"] == [
        "account_id",
        "function",
        "log_project",
        "log_store",
        "logger",
        "region",
        "request_id",
    ]
    assert info["function"]["qualifier"] == "LATEST"
    assert info["env"]["ALIBABA_CLOUD_ACCESS_KEY_ID"] == "LTAIlocal"


def test_print_and_logging_go_to_the_function_log_not_the_answer(runtime):
    runtime.create_function(fn("logs", "print_and_log"))
    assert runtime.invoke("logs", request_id="req-log") == b"ok"
    text = runtime.log_path("logs").read_text()
    assert "printed to the function log" in text
    assert "req-log [INFO] logged with the request id" in text


def _code_zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


def test_code_zip_is_the_code_root(runtime):
    code = _code_zip(
        {
            "index.py": "import os\ndef handler(event, context):\n"
            "    return os.getcwd() + '|' + event.decode()\n"
        }
    )
    spec = runtime.create_function({"name": "zipped", "handler": "index.handler"}, code)
    assert spec.code_size == len(code) and spec.code_checksum
    cwd, event = runtime.invoke("zipped", b"x").decode().split("|")
    assert cwd == spec.code_dir and event == "x"
    new_code = _code_zip({"index.py": "def handler(event, context):\n    return 'v2'\n"})
    runtime.update_function("zipped", code_zip=new_code)
    assert runtime.invoke("zipped") == b"v2"


def test_a_bad_code_zip_is_rejected(runtime):
    with pytest.raises(InvalidArgument):
        runtime.create_function({"name": "badzip", "handler": "index.handler"}, b"not a zip")


def test_update_retires_instances_and_applies_new_environment(runtime):
    runtime.create_function(fn("env", "read_context", environment_variables={"FCTEST_V": "1"}))
    assert json.loads(runtime.invoke("env"))["env"]["FCTEST_V"] == "1"
    runtime.update_function("env", environment_variables={"FCTEST_V": "2"})
    assert json.loads(runtime.invoke("env"))["env"]["FCTEST_V"] == "2"
    assert runtime.instances_started("env") == 2


def _attempts(record_dir, request_id) -> int:
    path = record_dir / request_id
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_async_invocation_that_always_fails_is_tried_four_times(runtime, tmp_path):
    # FC: a failed async invocation is retried 3 times by default -> 4 attempts in all
    record = tmp_path / "record"
    record.mkdir()
    runtime.create_function(
        fn(
            "flaky",
            "record_attempt",
            environment_variables={"FCTEST_RECORD_DIR": str(record), "FCTEST_FAILURES": "always"},
        )
    )
    request_id = runtime.invoke_async("flaky", b"event")
    assert runtime.wait_async_idle(30)
    assert _attempts(record, request_id) == 4
    task = runtime.async_task(request_id)
    assert task.status == "Failed" and task.attempts == 4
    assert "attempt 4 fails on purpose" in task.last_error


def test_async_invocation_succeeds_on_a_retry_so_the_handler_sees_duplicates(runtime, tmp_path):
    record = tmp_path / "record"
    record.mkdir()
    runtime.create_function(
        fn(
            "flaky2",
            "record_attempt",
            environment_variables={"FCTEST_RECORD_DIR": str(record), "FCTEST_FAILURES": "2"},
        )
    )
    assert runtime.invoke("flaky2", b"e", invocation_type="Async") == b""
    assert runtime.wait_async_idle(30)
    (task,) = runtime.async_tasks("flaky2")
    assert task.status == "Succeeded" and task.attempts == 3
    # every attempt carried the same request id and the same event
    assert (record / task.request_id).read_text() == "e\ne\ne\n"


def test_async_retry_count_follows_max_async_retry_attempts(runtime, tmp_path):
    record = tmp_path / "record"
    record.mkdir()
    runtime.create_function(
        fn(
            "once",
            "record_attempt",
            max_async_retry_attempts=0,
            environment_variables={"FCTEST_RECORD_DIR": str(record), "FCTEST_FAILURES": "always"},
        )
    )
    request_id = runtime.invoke_async("once")
    assert runtime.wait_async_idle(30)
    assert _attempts(record, request_id) == 1


def test_async_timeout_is_retried(runtime, tmp_path):
    record = tmp_path / "record"
    record.mkdir()
    runtime.create_function(
        fn(
            "late",
            "timeout_then_succeed",
            timeout=0.5,
            environment_variables={"FCTEST_RECORD_DIR": str(record)},
        )
    )
    request_id = runtime.invoke_async("late")
    assert runtime.wait_async_idle(30)
    task = runtime.async_task(request_id)
    assert task.status == "Succeeded" and task.attempts == 2


def test_async_invocations_wait_for_a_slot_instead_of_failing(runtime):
    runtime.create_function(fn("narrow", "sleep_seconds", reserved_concurrency=1))
    ids = [runtime.invoke_async("narrow", b"0.2") for _ in range(4)]
    assert runtime.wait_async_idle(30)
    assert [runtime.async_task(i).status for i in ids] == ["Succeeded"] * 4
    assert all(runtime.async_task(i).attempts == 1 for i in ids)


def test_functions_and_pending_async_invocations_survive_restart(tmp_path):
    record = tmp_path / "record"
    record.mkdir()
    first = FcRuntime(
        None, CREDENTIALS, data_dir=tmp_path / "d", async_retry_base_delay=0.01, code_root=CODE_ROOT
    )
    first.create_function(
        fn(
            "kept",
            "record_attempt",
            environment_variables={"FCTEST_RECORD_DIR": str(record), "FCTEST_FAILURES": "0"},
        )
    )
    first.put_concurrency("kept", 0)  # nothing runs: the invocation stays queued
    request_id = first.invoke_async("kept", b"queued")
    time.sleep(0.2)
    first.close()
    second = FcRuntime(
        None, CREDENTIALS, data_dir=tmp_path / "d", async_retry_base_delay=0.01, code_root=CODE_ROOT
    )
    try:
        assert second.get_function("kept").handler == H + "record_attempt"
        assert second.async_task(request_id).status == "Enqueued"
        second.put_concurrency("kept", None)
        assert second.wait_async_idle(30)
        assert second.async_task(request_id).status == "Succeeded"
        assert _attempts(record, request_id) == 1
    finally:
        second.close()


def test_list_functions_pages_by_name(runtime):
    for i in range(5):
        runtime.create_function(fn(f"f{i}", "echo"))
    page, token = runtime.list_functions(limit=2)
    assert [f.name for f in page] == ["f0", "f1"] and token == "f1"
    page, token = runtime.list_functions(limit=2, next_token=token)
    assert [f.name for f in page] == ["f2", "f3"]
    page, token = runtime.list_functions(limit=2, next_token=token)
    assert [f.name for f in page] == ["f4"] and token == ""
    assert [f.name for f in runtime.list_functions(prefix="f3")[0]] == ["f3"]


def test_delete_function_removes_it(runtime):
    runtime.create_function(fn("gone", "echo"))
    runtime.invoke("gone")
    runtime.delete_function("gone")
    with pytest.raises(FunctionNotFound):
        runtime.invoke("gone")


def test_a_timeout_also_kills_processes_the_handler_started(runtime, tmp_path):
    import os

    runtime.create_function(fn("spawner", "spawn_child_then_sleep", timeout=1))
    pid_file = tmp_path / "child.pid"
    with pytest.raises(FunctionTimeout):
        runtime.invoke("spawner", str(pid_file).encode())
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the handler's child process outlived the timed-out instance")


def test_async_events_older_than_max_event_age_are_dropped(runtime):
    runtime.create_function(fn("aged", "echo", max_async_event_age_seconds=1))
    runtime.put_concurrency("aged", 0)  # nothing runs while the event ages
    request_id = runtime.invoke_async("aged")
    time.sleep(1.3)
    runtime.put_concurrency("aged", None)
    assert runtime.wait_async_idle(10)
    task = runtime.async_task(request_id)
    assert task.status == "Expired" and task.attempts == 0


def test_unknown_spec_fields_are_invalid_argument(runtime):
    with pytest.raises(InvalidArgument, match="memory"):
        runtime.create_function({"name": "typo", "handler": "a.b", "memory": 256})


def test_counters_show_invocations_errors_timeouts_and_retries(runtime, tmp_path):
    runtime.create_function(fn("counted", "echo"))
    runtime.invoke("counted")
    runtime.create_function(fn("failing", "boom"))
    with pytest.raises(FunctionError):
        runtime.invoke("failing")
    runtime.invoke_async("failing")
    assert runtime.wait_async_idle(30)
    functions = runtime.counters_snapshot()["functions"]
    assert functions["counted"] == {"sync_invocations": 1, "succeeded": 1, "instances_started": 1}
    assert functions["failing"]["errors"] == 5  # 1 sync + 4 async attempts
    assert (functions["failing"]["async_attempts"], functions["failing"]["async_retries"]) == (1, 3)
    runtime.reset_counters()
    assert runtime.counters_snapshot()["functions"]["counted"] == {"instances_started": 1}
