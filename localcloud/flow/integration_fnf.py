"""FNF:StartExecution -> this engine: start a (child or continuation) execution.

TaskMode RequestComplete returns as soon as the execution started (use it to continue
work in a fresh execution before the event limit); WaitForSystemCallback waits for it to
finish and takes its output (or fails with its error).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from . import api_errors as api
from .errors import INVALID_ARGUMENT, FlowError
from .spec import FNF_ARN_RE

CHILD_FAILED = "FnF.ChildExecutionFailed"


def flow_name(arn: Any) -> str:
    match = FNF_ARN_RE.match(arn) if isinstance(arn, str) else None
    if not match:
        raise FlowError(
            INVALID_ARGUMENT, f"resourceArn {arn!r} is not acs:fnf:{{region}}:{{uid}}:flow/{{name}}"
        )
    return match.group(3)


def make_fnf_integration(engine):
    def start_execution(params: dict, task_mode: str, env) -> Any:
        flow = flow_name(params.get("resourceArn"))
        value = params.get("input", {})
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        name = params.get("executionName") or None
        try:
            record = engine.start_execution(flow, name, text)
        except api.ExecutionAlreadyExists as exc:
            if not (env.replaying and name):
                raise FlowError(f"FnF.{exc.code}", exc.message) from None
            # the interrupted run of this state already started it: attach, do not fail
            record = engine.describe_execution(flow, name)
        except api.FnfApiError as exc:
            raise FlowError(f"FnF.{exc.code}", exc.message) from None
        if task_mode != "WaitForSystemCallback":
            # the integration page documents this output: {FlowName, ExecutionName, RequestID}
            # (help.aliyun.com/document_detail/2400188.html)
            return {
                "FlowName": record.flow_name,
                "ExecutionName": record.name,
                "RequestID": str(uuid.uuid4()),
            }
        while True:
            env.check_stopped()
            done = engine.wait(record.flow_name, record.name, timeout=1.0)
            if done.status != "Running":
                break
        if done.status == "Succeeded":
            return json.loads(done.output or "{}")
        raise FlowError(
            done.error_code or CHILD_FAILED,
            f"execution {done.name!r} of flow {done.flow_name!r} {done.status.lower()}: "
            f"{done.error_detail or ''}",
        )

    return start_execution
