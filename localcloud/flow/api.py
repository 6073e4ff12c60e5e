"""The fnf 2019-03-15 RPC API over HTTP (what alibabacloud-fnf20190315 speaks): parse the
request, check the signature, call FlowEngine, render JSON. Semantics live in engine.py.
"""

from __future__ import annotations

import logging
import uuid
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from localcloud.popapi import error_response

from . import api_errors as api
from .engine import FlowEngine
from .signature import verify
from .store import ExecutionRecord, FlowRecord

log = logging.getLogger("localcloud.flow.api")


def _flow(record: FlowRecord) -> dict:
    return {
        "Name": record.name,
        "Id": record.id,
        "Definition": record.definition,
        "Description": record.description,
        "Type": record.type,
        "RoleArn": record.role_arn,
        "ExecutionMode": record.execution_mode,
        "CreatedTime": record.created_time,
        "LastModifiedTime": record.last_modified_time,
    }


def _execution(record: ExecutionRecord, with_definition: bool = True) -> dict:
    body = {
        "FlowName": record.flow_name,
        "Name": record.name,
        "Status": record.status,
        "Input": record.input,
        "StartedTime": record.started_time,
    }
    if with_definition:
        body["FlowDefinition"] = record.definition
    if record.output is not None:
        body["Output"] = record.output
    if record.stopped_time:
        body["StoppedTime"] = record.stopped_time
    return body


def _required(params: dict, name: str) -> str:
    value = params.get(name)
    if not value:
        raise api.MissingRequiredParams(name)
    return value


def _limit(params: dict, default: int, maximum: int) -> int:
    raw = params.get("Limit")
    if raw in (None, ""):
        return default
    if not str(raw).isdigit() or not 1 <= int(raw) <= maximum:
        raise api.InvalidArgument(f"Limit must be an integer 1..{maximum}, got {raw!r}")
    return int(raw)


def dispatch(engine: FlowEngine, action: str, p: dict) -> dict:
    """Run one API action; returns the response body without RequestId."""
    if action == "CreateFlow":
        record = engine.create_flow(
            _required(p, "Name"),
            _required(p, "Definition"),
            p.get("Description", ""),
            p.get("Type", "FDL"),
            p.get("RoleArn", ""),
            p.get("ExecutionMode", "Standard"),
        )
        return _flow(record)
    if action == "UpdateFlow":
        record = engine.update_flow(
            _required(p, "Name"),
            p.get("Definition"),
            p.get("Description"),
            p.get("Type"),
            p.get("RoleArn"),
        )
        return _flow(record)
    if action == "DescribeFlow":
        return _flow(engine.describe_flow(_required(p, "Name")))
    if action == "ListFlows":
        flows, token = engine.list_flows(_limit(p, 60, 1000), p.get("NextToken"))
        body = {"Flows": [_flow(f) for f in flows]}
        return {**body, "NextToken": token} if token else body
    if action == "DeleteFlow":
        engine.delete_flow(_required(p, "Name"))
        return {}
    if action == "StartExecution":
        record = engine.start_execution(
            _required(p, "FlowName"), p.get("ExecutionName"), p.get("Input")
        )
        return _execution(record)
    if action == "DescribeExecution":
        wait = p.get("WaitTimeSeconds") or "0"
        if not wait.isdigit() or int(wait) > 60:
            raise api.InvalidArgument("WaitTimeSeconds must be an integer 0..60")
        return _execution(
            engine.describe_execution(
                _required(p, "FlowName"), _required(p, "ExecutionName"), int(wait)
            )
        )
    if action == "StopExecution":
        return _execution(
            engine.stop_execution(
                _required(p, "FlowName"),
                _required(p, "ExecutionName"),
                p.get("Error", ""),
                p.get("Cause", ""),
            )
        )
    if action == "ListExecutions":
        records, token = engine.list_executions(
            _required(p, "FlowName"),
            _limit(p, 60, 100),
            p.get("NextToken"),
            p.get("Status") or None,
            p.get("ExecutionNamePrefix") or None,
        )
        with_definition = p.get("MetadataOnly", "false").lower() != "true"
        body = {"Executions": [_execution(r, with_definition) for r in records]}
        return {**body, "NextToken": token} if token else body
    if action == "GetExecutionHistory":
        events, token = engine.get_execution_history(
            _required(p, "FlowName"),
            _required(p, "ExecutionName"),
            _limit(p, 60, 999),
            p.get("NextToken"),
        )
        body = {"Events": [e.to_api() for e in events]}
        return {**body, "NextToken": token} if token else body
    raise api.InvalidAction(f"the action {action!r} is not supported by localcloud's fnf API")


def create_app(
    engine: FlowEngine,
    access_key_id: str,
    access_key_secret: str,
    security_token: str | None = None,
    ram=None,
) -> Starlette:
    owner = (access_key_id, access_key_secret, security_token)

    async def handle(request: Request) -> JSONResponse:
        request_id = str(uuid.uuid4()).upper()
        params = dict(request.query_params)
        if request.method == "POST":
            body = (await request.body()).decode("utf-8", errors="replace")
            params.update(parse_qsl(body, keep_blank_values=True))
        try:
            session = _role_session(ram, params)
            key = owner
            if session is not None:
                key = (session.access_key_id, session.access_key_secret, session.security_token)
            _authenticate(params, request.method, *key)
            if session is not None:
                _authorize_role(ram, engine, session, params)
            result = await run_in_threadpool(dispatch, engine, params.get("Action", ""), params)
        except api.FnfApiError as exc:
            return error_response(exc, request, request_id)
        return JSONResponse({**result, "RequestId": request_id})

    return Starlette(routes=[Route("/", handle, methods=["GET", "POST"])])


def _role_session(ram, params: dict):
    if ram is None:
        return None
    from localcloud.ram import fnf_access

    return fnf_access.session_of(ram.sessions, params)


def _authorize_role(ram, engine: FlowEngine, session, params: dict) -> None:
    from localcloud.ram import fnf_access

    needs = fnf_access.required(
        params.get("Action", ""),
        params,
        engine.region,
        engine.account_id,
        ram.fnf_start_execution_reading,
    )
    fnf_access.authorize(ram.sessions, session, needs)


def _authenticate(params: dict, method: str, key_id: str, secret: str, token: str | None) -> None:
    if params.get("AccessKeyId") != key_id:
        raise api.InvalidAccessKeyId(
            f"the AccessKeyId {params.get('AccessKeyId')!r} is not localcloud's; use the "
            "access_key_id from the LOCALCLOUD_READY line"
        )
    if token and params.get("SecurityToken") not in (None, token):
        raise api.InvalidAccessKeyId("the SecurityToken is not localcloud's")
    if params.get("SignatureMethod", "HMAC-SHA1") != "HMAC-SHA1" or not verify(
        params, method, secret
    ):
        raise api.SignatureDoesNotMatch(
            "the request signature does not match: check the access key secret"
        )
