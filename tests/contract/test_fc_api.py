"""The FC 3.0 API subset, driven by the real alibabacloud-fc20230330 SDK."""

from __future__ import annotations

import base64
import io
import json
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.exceptions import ClientException

from localcloud.fc.api import build_app
from localcloud.fc.runtime import FcRuntime

sys.path.insert(0, str(Path(__file__).parent))
from fc_server import ServedApp  # noqa: E402

from tests.fc_handlers import code_location

CREDENTIALS = {
    "access_key_id": "LTAIfcapi",
    "access_key_secret": "fc-secret",
    "security_token": "fc-sts",
}
H = "basic."


@pytest.fixture(scope="module")
def fc(tmp_path_factory):
    runtime = FcRuntime(
        None,
        CREDENTIALS,
        region="cn-hangzhou",
        account_id="1999",
        data_dir=tmp_path_factory.mktemp("fc"),
        async_retry_base_delay=0.01,
    )
    served = ServedApp(build_app(runtime))
    yield runtime, served
    served.stop()
    runtime.close()


def make_client(
    served, secret=CREDENTIALS["access_key_secret"], key_id=CREDENTIALS["access_key_id"]
) -> Client:
    return Client(
        open_api_models.Config(
            access_key_id=key_id,
            access_key_secret=secret,
            endpoint=served.endpoint,
            protocol="http",
            region_id="cn-hangzhou",
            read_timeout=30000,
        )
    )


@pytest.fixture(scope="module")
def client(fc):
    return make_client(fc[1])


_names = iter(range(10**6))


def create(client, handler: str, **extra) -> str:
    name = f"fn-{handler.replace('_', '-')}-{next(_names)}"
    body = fc_models.CreateFunctionInput(
        code=code_location(), function_name=name, handler=H + handler, runtime="python3.10", **extra
    )
    client.create_function(fc_models.CreateFunctionRequest(body=body))
    return name


def invoke(client, name: str, payload: bytes = b"", invocation_type: str | None = None):
    headers = fc_models.InvokeFunctionHeaders(x_fc_invocation_type=invocation_type)
    return client.invoke_function_with_options(
        name,
        fc_models.InvokeFunctionRequest(body=payload),
        headers,
        __import__("darabonba.runtime", fromlist=["RuntimeOptions"]).RuntimeOptions(),
    )


def test_create_get_update_list_delete_function(client):
    name = create(
        client,
        "echo",
        timeout=9,
        memory_size=1024,
        environment_variables={"A": "1"},
        description="d",
    )
    got = client.get_function(name, fc_models.GetFunctionRequest()).body
    assert (got.function_name, got.handler, got.timeout, got.memory_size) == (
        name,
        H + "echo",
        9,
        1024,
    )
    assert got.environment_variables == {"A": "1"}
    assert got.function_arn == f"acs:fc:cn-hangzhou:1999:functions/{name}"
    assert got.state == "Active"
    updated = client.update_function(
        name, fc_models.UpdateFunctionRequest(body=fc_models.UpdateFunctionInput(timeout=20))
    ).body
    assert updated.timeout == 20 and updated.memory_size == 1024
    listed = client.list_functions(fc_models.ListFunctionsRequest(prefix=name)).body
    assert [f.function_name for f in listed.functions] == [name]
    client.delete_function(name)
    with pytest.raises(ClientException) as caught:
        client.get_function(name, fc_models.GetFunctionRequest())
    assert (caught.value.status_code, caught.value.code) == (404, "FunctionNotFound")


def test_list_functions_pages_with_next_token(client):
    prefix = f"page{next(_names)}-"
    for i in range(5):
        client.create_function(
            fc_models.CreateFunctionRequest(
                body=fc_models.CreateFunctionInput(
                    code=code_location(),
                    function_name=f"{prefix}{i}",
                    handler=H + "echo",
                    runtime="python3.10",
                )
            )
        )
    seen, token = [], None
    while True:
        page = client.list_functions(
            fc_models.ListFunctionsRequest(prefix=prefix, limit=2, next_token=token)
        ).body
        seen += [f.function_name for f in page.functions]
        token = page.next_token
        if not token:
            break
    assert seen == [f"{prefix}{i}" for i in range(5)]


def test_create_function_twice_is_a_conflict(client):
    name = create(client, "echo")
    with pytest.raises(ClientException) as caught:
        client.create_function(
            fc_models.CreateFunctionRequest(
                body=fc_models.CreateFunctionInput(
                    code=code_location(),
                    function_name=name,
                    handler=H + "echo",
                    runtime="python3.10",
                )
            )
        )
    assert (caught.value.status_code, caught.value.code) == (409, "FunctionAlreadyExists")


def test_sync_invocation_returns_the_handler_bytes(client):
    name = create(client, "echo")
    response = invoke(client, name, b"\x00binary\xff")
    assert response.status_code == 200
    assert response.body.read() == b"\x00binary\xff"
    assert response.headers["x-fc-request-id"]
    assert "x-fc-error-type" not in response.headers


def test_handler_error_is_200_with_unhandled_invocation_error(client):
    name = create(client, "boom")
    response = invoke(client, name, b"bad input")
    assert response.status_code == 200
    assert response.headers["x-fc-error-type"] == "UnhandledInvocationError"
    body = json.loads(response.body.read())
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "boom: bad input"
    assert body["stackTrace"][-1][2] == "in boom"


def test_timeout_is_reported_and_the_next_invocation_works(client):
    name = create(client, "sleep_seconds", timeout=1)
    response = invoke(client, name, b"60")
    assert response.headers["x-fc-error-type"] == "UnhandledInvocationError"
    assert json.loads(response.body.read()) == {
        "errorMessage": "Function timed out after 1 seconds"
    }
    assert invoke(client, name, b"0").body.read().isdigit()


def test_context_carries_request_id_credentials_function_region_account(client):
    name = create(client, "read_context", memory_size=256, timeout=4)
    response = invoke(client, name)
    info = json.loads(response.body.read())
    assert info["request_id"] == response.headers["x-fc-request-id"]
    assert info["credentials"] == CREDENTIALS
    assert info["function"] == {
        "name": name,
        "handler": H + "read_context",
        "memory": 256,
        "timeout": 4,
    }
    assert (info["region"], info["account_id"]) == ("cn-hangzhou", "1999")


def test_concurrency_limit_throttles_sync_invocations_with_429(client):
    name = create(client, "sleep_seconds")
    client.put_concurrency_config(
        name,
        fc_models.PutConcurrencyConfigRequest(
            body=fc_models.PutConcurrencyInput(reserved_concurrency=1)
        ),
    )
    assert client.get_concurrency_config(name).body.reserved_concurrency == 1
    busy = threading.Thread(target=invoke, args=(client, name, b"1.5"))
    busy.start()
    time.sleep(0.5)
    try:
        with pytest.raises(ClientException) as caught:
            invoke(client, name, b"0")
        assert (caught.value.status_code, caught.value.code) == (429, "ResourceThrottled")
    finally:
        busy.join()
    assert invoke(client, name, b"0").status_code == 200


def test_async_invocation_is_accepted_and_retried_three_times(fc, client, tmp_path):
    runtime, _ = fc
    name = create(
        client,
        "record_attempt",
        environment_variables={"FCTEST_RECORD_DIR": str(tmp_path), "FCTEST_FAILURES": "always"},
    )
    response = invoke(client, name, b"async event", invocation_type="Async")
    assert response.status_code == 202
    request_id = response.headers["x-fc-request-id"]
    assert runtime.wait_async_idle(30)
    # FC: failed async invocations are retried 3 times by default -> 4 attempts
    assert (tmp_path / request_id).read_text().splitlines() == ["async event"] * 4
    assert runtime.async_task(request_id).status == "Failed"


def test_async_invoke_config_changes_the_retry_count(fc, client, tmp_path):
    runtime, _ = fc
    name = create(
        client,
        "record_attempt",
        environment_variables={"FCTEST_RECORD_DIR": str(tmp_path), "FCTEST_FAILURES": "always"},
    )
    client.put_async_invoke_config(
        name,
        fc_models.PutAsyncInvokeConfigRequest(
            body=fc_models.PutAsyncInvokeConfigInput(max_async_retry_attempts=1)
        ),
    )
    got = client.get_async_invoke_config(name, fc_models.GetAsyncInvokeConfigRequest()).body
    assert got.max_async_retry_attempts == 1
    request_id = invoke(client, name, b"x", "Async").headers["x-fc-request-id"]
    assert runtime.wait_async_idle(30)
    assert len((tmp_path / request_id).read_text().splitlines()) == 2


def test_function_from_a_code_zip(client):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return b'zipped:' + event\n")
    name = f"zip-{next(_names)}"
    code = fc_models.InputCodeLocation(zip_file=base64.b64encode(buf.getvalue()).decode())
    created = client.create_function(
        fc_models.CreateFunctionRequest(
            body=fc_models.CreateFunctionInput(
                function_name=name, handler="index.handler", runtime="python3.10", code=code
            )
        )
    ).body
    assert created.code_size == len(buf.getvalue()) and created.code_checksum
    assert invoke(client, name, b"x").body.read() == b"zipped:x"


def test_oss_trigger_crud(client):
    name = create(client, "echo")
    config = json.dumps(
        {
            "events": ["oss:ObjectCreated:PutObject"],
            "filter": {"key": {"prefix": "in/", "suffix": ".zip"}},
        }
    )
    created = client.create_trigger(
        name,
        fc_models.CreateTriggerRequest(
            body=fc_models.CreateTriggerInput(
                trigger_name="on-zip",
                trigger_type="oss",
                source_arn="acs:oss:cn-hangzhou:1999:bucket-a",
                trigger_config=config,
                invocation_role="acs:ram::1999:role/oss-invoke",
                qualifier="LATEST",
            )
        ),
    ).body
    assert (created.trigger_name, created.trigger_type, created.status) == (
        "on-zip",
        "oss",
        "Ready",
    )
    got = client.get_trigger(name, "on-zip").body
    assert json.loads(got.trigger_config) == json.loads(config)
    assert got.invocation_role == "acs:ram::1999:role/oss-invoke"
    assert got.source_arn == "acs:oss:cn-hangzhou:1999:bucket-a"
    new_config = json.dumps({"events": ["oss:ObjectCreated:*"]})
    updated = client.update_trigger(
        name,
        "on-zip",
        fc_models.UpdateTriggerRequest(
            body=fc_models.UpdateTriggerInput(trigger_config=new_config, description="all")
        ),
    ).body
    assert json.loads(updated.trigger_config) == json.loads(new_config)
    assert updated.description == "all"
    listed = client.list_triggers(name, fc_models.ListTriggersRequest()).body
    assert [t.trigger_name for t in listed.triggers] == ["on-zip"]
    client.delete_trigger(name, "on-zip")
    with pytest.raises(ClientException) as caught:
        client.get_trigger(name, "on-zip")
    assert (caught.value.status_code, caught.value.code) == (404, "TriggerNotFound")


@pytest.mark.parametrize(
    "bad",
    [
        {"trigger_type": "http"},
        {"source_arn": "arn:aws:s3:::bucket"},
        {"trigger_config": "{not json"},
        {"trigger_config": json.dumps({"events": ["oss:ObjectCreated:Nope"]})},
    ],
)
def test_bad_trigger_definitions_are_invalid_argument(client, bad):
    name = create(client, "echo")
    fields = {
        "trigger_name": "t",
        "trigger_type": "oss",
        "source_arn": "acs:oss:cn-hangzhou:1999:b",
        "trigger_config": json.dumps({"events": ["oss:ObjectCreated:*"]}),
        **bad,
    }
    with pytest.raises(ClientException) as caught:
        client.create_trigger(
            name, fc_models.CreateTriggerRequest(body=fc_models.CreateTriggerInput(**fields))
        )
    assert (caught.value.status_code, caught.value.code) == (400, "InvalidArgument")


def test_wrong_secret_is_signature_not_match(fc):
    bad = make_client(fc[1], secret="not-the-secret")
    with pytest.raises(ClientException) as caught:
        bad.list_functions(fc_models.ListFunctionsRequest())
    assert (caught.value.status_code, caught.value.code) == (403, "SignatureNotMatch")


def test_unknown_access_key_is_refused(fc):
    bad = make_client(fc[1], key_id="LTAIunknown")
    with pytest.raises(ClientException) as caught:
        bad.list_functions(fc_models.ListFunctionsRequest())
    assert (caught.value.status_code, caught.value.code) == (403, "InvalidAccessKeyID")


def test_unknown_function_invocation_is_404(client):
    with pytest.raises(ClientException) as caught:
        invoke(client, "no-such-function", b"")
    assert (caught.value.status_code, caught.value.code) == (404, "FunctionNotFound")


def test_invalid_create_input_names_the_field(client):
    with pytest.raises(ClientException) as caught:
        client.create_function(
            fc_models.CreateFunctionRequest(
                body=fc_models.CreateFunctionInput(
                    function_name="ok-name", handler="nodots", runtime="python3.10"
                )
            )
        )
    assert caught.value.status_code == 400 and "handler" in caught.value.message


def test_hostile_requests_get_fc_json_errors(fc):
    import requests

    url = fc[1].url
    unsigned = requests.post(f"{url}/2023-03-30/functions", data=b"{bad json")
    assert unsigned.status_code == 400
    assert unsigned.json()["Code"] == "MissingRequiredHeader"
    garbage = requests.get(
        f"{url}/2023-03-30/functions", headers={"Authorization": "ACS3-HMAC-SHA256 garbage"}
    )
    assert garbage.status_code == 403 and garbage.json()["RequestId"]
    nowhere = requests.get(f"{url}/nowhere")
    assert nowhere.status_code in (400, 403)


@pytest.mark.parametrize("handler", ["handlers.copy.handler", "pkg.mod.fn", "index", "index."])
def test_only_the_documented_file_dot_method_handler_form_is_accepted(client, handler):
    # FC documents Python handlers as <file>.<method> at the code root (doc-detail/74756)
    with pytest.raises(ClientException) as caught:
        client.create_function(
            fc_models.CreateFunctionRequest(
                body=fc_models.CreateFunctionInput(
                    code=code_location(),
                    function_name=f"form-{next(_names)}",
                    handler=handler,
                    runtime="python3.10",
                )
            )
        )
    assert (caught.value.status_code, caught.value.code) == (400, "InvalidArgument")
    assert "<file>.<method>" in caught.value.message


def test_a_file_dot_method_handler_runs_from_the_code_root(client):
    name = create(client, "echo")
    assert invoke(client, name, b"root").body.read() == b"root"
