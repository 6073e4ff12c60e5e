"""The FC 3.0 HTTP API subset (2023-03-30, ROA + JSON) over FcRuntime.

Parses requests and renders FC's JSON; every rule about functions lives in the runtime.
Errors are `{"Code", "Message", "RequestId"}` with FC's status; a failed invocation is
200 with `x-fc-error-type: UnhandledInvocationError` and the error JSON as body.
"""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import auth
from .errors import FcError, FunctionError, InvalidArgument
from .runtime import FcRuntime, decode_zip_file

log = logging.getLogger("localcloud.fc.api")

PREFIX = "/2023-03-30"
MAX_SYNC_PAYLOAD = 32 * 1024 * 1024  # FC 3.0 limits (docs: "Limits")
MAX_ASYNC_PAYLOAD = 128 * 1024

# CreateFunctionInput/UpdateFunctionInput field -> FunctionSpec field
_FUNCTION_FIELDS = {
    "functionName": "name",
    "handler": "handler",
    "runtime": "runtime",
    "timeout": "timeout",
    "memorySize": "memory_size",
    "cpu": "cpu",
    "diskSize": "disk_size",
    "environmentVariables": "environment_variables",
    "instanceConcurrency": "instance_concurrency",
    "description": "description",
    "role": "role",
}


class PathNotSupported(FcError):
    status = 400
    code = "PathNotSupported"


class EntityTooLarge(FcError):
    status = 400
    code = "EntityTooLarge"


def error_response(exc: FcError, request_id: str) -> JSONResponse:
    return JSONResponse(
        {"Code": exc.code, "Message": exc.message, "RequestId": request_id},
        status_code=exc.status,
        headers={"x-fc-request-id": request_id},
    )


def _json_body(body: bytes) -> dict:
    if not body:
        return {}
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidArgument("request body must be a JSON object")
    return value


def _spec_fields(body: dict) -> dict:
    fields = {
        spec: body[api] for api, spec in _FUNCTION_FIELDS.items() if body.get(api) is not None
    }
    return fields


def _code_zip(body: dict) -> bytes | None:
    code = body.get("code")
    if code is None:
        return None
    if not isinstance(code, dict):
        raise InvalidArgument("code must be an object with zipFile")
    if code.get("zipFile"):
        return decode_zip_file(code["zipFile"])
    if code.get("ossBucketName") or code.get("ossObjectName"):
        raise InvalidArgument(
            "code from OSS (ossBucketName/ossObjectName) is not supported locally; "
            "send code.zipFile (base64 of the zip)"
        )
    return None


class FcApi:
    """Request handlers; each returns a Starlette response."""

    def __init__(
        self,
        runtime: FcRuntime,
        credentials: dict | None = None,
        verify_signatures: bool = True,
        invoke_threads: int = 256,
        ram=None,
    ):
        self.runtime = runtime
        self.ram = ram  # localcloud's RamService: role (STS) credentials, authorized per request
        self.credentials = credentials or runtime.credentials
        self.verify_signatures = verify_signatures
        self._invokers = ThreadPoolExecutor(
            max_workers=invoke_threads, thread_name_prefix="fc-invoke"
        )

    def close(self) -> None:
        self._invokers.shutdown(wait=False, cancel_futures=True)

    async def dispatch(self, request: Request, handler) -> Response:
        request_id = self.runtime.new_request_id()
        try:
            body = await request.body()
            if self.verify_signatures:
                raw_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
                session = self._role_session(request)
                auth.verify(
                    request.method,
                    raw_path,
                    request.url.query,
                    request.headers,
                    body,
                    session.credentials() if session else self.credentials,
                )
                if session is not None:
                    self._authorize(session, request, handler, body)
            return await handler(request, body, request_id)
        except FcError as exc:
            return error_response(exc, request_id)
        except Exception:  # never let a bug take the listener down; answer like FC would
            log.exception("FC API request %s %s failed", request.method, request.url.path)
            err = FcError("internal error; see the localcloud log")
            err.status, err.code = 500, "InternalServerError"
            return error_response(err, request_id)

    def _role_session(self, request: Request):
        if self.ram is None:
            return None
        from localcloud.ram import fc_access

        return fc_access.session_of(self.ram.sessions, request.headers)

    def _authorize(self, session, request: Request, handler, body: bytes) -> None:
        from localcloud.ram import fc_access

        needs = fc_access.required(
            getattr(handler, "__name__", "unknown"),
            dict(request.path_params),
            dict(request.query_params),
            body,
            self.runtime.region,
            self.runtime.account_id,
        )
        fc_access.authorize(self.ram.sessions, session, needs)

    def _ok(self, value, request_id: str, status: int = 200) -> Response:
        if value is None:
            return Response(status_code=status, headers={"x-fc-request-id": request_id})
        return JSONResponse(value, status_code=status, headers={"x-fc-request-id": request_id})

    def _function_json(self, spec) -> dict:
        return spec.to_api(self.runtime.region, self.runtime.account_id)

    # functions ---------------------------------------------------------------
    async def create_function(self, request, body, request_id):
        data = _json_body(body)
        fields = _spec_fields(data)
        if "name" not in fields or "handler" not in fields:
            raise InvalidArgument("functionName and handler are required")
        code = _code_zip(data)
        spec = await asyncio.to_thread(self.runtime.create_function, fields, code)
        return self._ok(self._function_json(spec), request_id)

    async def get_function(self, request, body, request_id):
        spec = self.runtime.get_function(request.path_params["name"])
        return self._ok(self._function_json(spec), request_id)

    async def update_function(self, request, body, request_id):
        data = _json_body(body)
        fields = _spec_fields(data)
        fields.pop("name", None)
        code = _code_zip(data)
        spec = await asyncio.to_thread(
            self.runtime.update_function, request.path_params["name"], code_zip=code, **fields
        )
        return self._ok(self._function_json(spec), request_id)

    async def delete_function(self, request, body, request_id):
        await asyncio.to_thread(self.runtime.delete_function, request.path_params["name"])
        return self._ok(None, request_id, 204)

    async def list_functions(self, request, body, request_id):
        q = request.query_params
        limit = _int_param(q.get("limit"), "limit", 20, 1, 100)
        functions, token = self.runtime.list_functions(
            q.get("prefix", ""), limit, q.get("nextToken", "")
        )
        out = {"functions": [self._function_json(f) for f in functions]}
        if token:
            out["nextToken"] = token
        return self._ok(out, request_id)

    async def put_concurrency(self, request, body, request_id):
        data = _json_body(body)
        reserved = data.get("reservedConcurrency")
        if not isinstance(reserved, int) or isinstance(reserved, bool) or reserved < 0:
            raise InvalidArgument("reservedConcurrency must be a non-negative integer")
        spec = self.runtime.put_concurrency(request.path_params["name"], reserved)
        return self._ok(self._concurrency_json(spec), request_id)

    async def get_concurrency(self, request, body, request_id):
        spec = self.runtime.get_function(request.path_params["name"])
        return self._ok(self._concurrency_json(spec), request_id)

    def _concurrency_json(self, spec) -> dict:
        out = {"functionName": spec.name, "functionArn": self._function_json(spec)["functionArn"]}
        if spec.reserved_concurrency is not None:
            out["reservedConcurrency"] = spec.reserved_concurrency
        return out

    async def put_async_config(self, request, body, request_id):
        data = _json_body(body)
        changes = {}
        if data.get("maxAsyncRetryAttempts") is not None:
            changes["max_async_retry_attempts"] = data["maxAsyncRetryAttempts"]
        if data.get("maxAsyncEventAgeInSeconds") is not None:
            changes["max_async_event_age_seconds"] = data["maxAsyncEventAgeInSeconds"]
        spec = self.runtime.update_function(request.path_params["name"], **changes)
        return self._ok(self._async_config_json(spec), request_id)

    async def get_async_config(self, request, body, request_id):
        spec = self.runtime.get_function(request.path_params["name"])
        return self._ok(self._async_config_json(spec), request_id)

    def _async_config_json(self, spec) -> dict:
        return {
            "functionArn": self._function_json(spec)["functionArn"],
            "maxAsyncRetryAttempts": spec.max_async_retry_attempts,
            "maxAsyncEventAgeInSeconds": spec.max_async_event_age_seconds,
            "lastModifiedTime": spec.last_modified_time,
        }

    # invocations -------------------------------------------------------------
    async def invoke(self, request, body, request_id):
        name = request.path_params["name"]
        qualifier = request.query_params.get("qualifier", "LATEST")
        if qualifier != "LATEST":
            raise InvalidArgument(f"qualifier {qualifier!r}: only LATEST exists locally")
        invocation_type = request.headers.get("x-fc-invocation-type", "Sync")
        headers = {"x-fc-request-id": request_id}
        if invocation_type == "Async":
            if len(body) > MAX_ASYNC_PAYLOAD:
                raise EntityTooLarge(
                    f"payload size exceeds maximum allowed size "
                    f"({MAX_ASYNC_PAYLOAD} bytes) for async invocations"
                )
            task_id = request.headers.get("x-fc-async-task-id") or request_id
            self.runtime.invoke_async(name, body, request_id=task_id)
            headers["x-fc-request-id"] = task_id
            return Response(status_code=202, headers=headers)
        if invocation_type != "Sync":
            raise InvalidArgument(f"x-fc-invocation-type {invocation_type!r}: Sync or Async")
        if len(body) > MAX_SYNC_PAYLOAD:
            raise EntityTooLarge(
                f"payload size exceeds maximum allowed size ({MAX_SYNC_PAYLOAD} bytes)"
            )
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(
                self._invokers, lambda: self.runtime.invoke(name, body, request_id=request_id)
            )
        except FunctionError as exc:
            headers["x-fc-error-type"] = exc.code
            return JSONResponse(exc.to_body(), status_code=200, headers=headers)
        return Response(
            result, status_code=200, headers=headers, media_type="application/octet-stream"
        )

    # triggers ----------------------------------------------------------------
    async def create_trigger(self, request, body, request_id):
        data = _json_body(body)
        for required in ("triggerName", "triggerType", "sourceArn", "triggerConfig"):
            if not data.get(required):
                raise InvalidArgument(f"{required} is required")
        trigger = self.runtime.create_trigger(
            request.path_params["name"],
            name=data["triggerName"],
            trigger_type=data["triggerType"],
            source_arn=data["sourceArn"],
            trigger_config=data["triggerConfig"],
            qualifier=data.get("qualifier") or "LATEST",
            invocation_role=data.get("invocationRole") or "",
            description=data.get("description") or "",
        )
        return self._ok(self._trigger_json(trigger), request_id)

    async def get_trigger(self, request, body, request_id):
        trigger = self.runtime.get_trigger(
            request.path_params["name"], request.path_params["trigger"]
        )
        return self._ok(self._trigger_json(trigger), request_id)

    async def update_trigger(self, request, body, request_id):
        data = _json_body(body)
        trigger = self.runtime.update_trigger(
            request.path_params["name"],
            request.path_params["trigger"],
            trigger_config=data.get("triggerConfig"),
            description=data.get("description"),
            invocation_role=data.get("invocationRole"),
            qualifier=data.get("qualifier"),
        )
        return self._ok(self._trigger_json(trigger), request_id)

    async def delete_trigger(self, request, body, request_id):
        self.runtime.delete_trigger(request.path_params["name"], request.path_params["trigger"])
        return self._ok(None, request_id, 204)

    async def list_triggers(self, request, body, request_id):
        q = request.query_params
        limit = _int_param(q.get("limit"), "limit", 20, 1, 100)
        triggers, token = self.runtime.list_triggers(
            request.path_params["name"], q.get("prefix", ""), limit, q.get("nextToken", "")
        )
        out = {"triggers": [self._trigger_json(t) for t in triggers]}
        if token:
            out["nextToken"] = token
        return self._ok(out, request_id)

    def _trigger_json(self, trigger) -> dict:
        return trigger.to_api(self.runtime.region, self.runtime.account_id)

    async def not_supported(self, request, body, request_id):
        raise PathNotSupported(f"'{request.method}' against '{request.url.path}' is not supported")


def _int_param(raw, name: str, default: int, low: int, high: int) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidArgument(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise InvalidArgument(f"{name} must be within {low}..{high}")
    return value


def build_app(
    runtime: FcRuntime, credentials: dict | None = None, verify_signatures: bool = True, ram=None
) -> Starlette:
    api = FcApi(runtime, credentials, verify_signatures, ram=ram)

    def route(path: str, handler, methods: list[str]) -> Route:
        async def endpoint(request: Request) -> Response:
            return await api.dispatch(request, handler)

        return Route(PREFIX + path, endpoint, methods=methods)

    routes = [
        route("/functions", api.create_function, ["POST"]),
        route("/functions", api.list_functions, ["GET"]),
        route("/functions/{name}", api.get_function, ["GET"]),
        route("/functions/{name}", api.update_function, ["PUT"]),
        route("/functions/{name}", api.delete_function, ["DELETE"]),
        route("/functions/{name}/invocations", api.invoke, ["POST"]),
        route("/functions/{name}/concurrency", api.put_concurrency, ["PUT"]),
        route("/functions/{name}/concurrency", api.get_concurrency, ["GET"]),
        route("/functions/{name}/async-invoke-config", api.put_async_config, ["PUT"]),
        route("/functions/{name}/async-invoke-config", api.get_async_config, ["GET"]),
        route("/functions/{name}/triggers", api.create_trigger, ["POST"]),
        route("/functions/{name}/triggers", api.list_triggers, ["GET"]),
        route("/functions/{name}/triggers/{trigger}", api.get_trigger, ["GET"]),
        route("/functions/{name}/triggers/{trigger}", api.update_trigger, ["PUT"]),
        route("/functions/{name}/triggers/{trigger}", api.delete_trigger, ["DELETE"]),
    ]

    async def fallback(request: Request) -> Response:
        return await api.dispatch(request, api.not_supported)

    app = Starlette(
        routes=routes
        + [Route("/{path:path}", fallback, methods=["GET", "POST", "PUT", "DELETE", "HEAD"])]
    )
    app.state.fc_api = api
    return app
