"""FC:InvokeFunction -> the local FC runtime (`invoke(name, payload, invocation_type)`).

Error names (docs/decisions/flow-error-names.md): throttling -> FC.ResourceThrottled,
missing function -> FC.FunctionNotFound, handler exception -> its errorType (FC.Unknown
when it has none, e.g. a timeout), anything else -> FC.InternalServerError.

Two things the FC integration page leaves open (docs/decisions/flow-compat.md): the flow
"wraps or passes through" the function's result (samples read `$Output.Body.<field>`), and
a handler exception is named bare in some samples and `FC.<Name>` in others. The strict
reading (default) wraps the result as {"Body": result} and names `FC.<errorType>`;
`--flow-compat` passes the result through and keeps the bare name.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import INVALID_ARGUMENT, FlowError
from .spec import FC_ARN_RE

UNKNOWN = "FC.Unknown"
INTERNAL = "FC.InternalServerError"


def function_name(arn: Any) -> str:
    match = FC_ARN_RE.match(arn) if isinstance(arn, str) else None
    if not match:
        raise FlowError(
            INVALID_ARGUMENT,
            f"resourceArn {arn!r} is not acs:fc:{{region}}:{{uid}}:functions/{{name}}/LATEST",
        )
    return match.group(3)


def encode_body(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def decode_result(raw: bytes | str | None, compat: bool = False) -> Any:
    """Strict: {"Body": result}. Compat: a JSON object result as is, anything else as Body."""
    if raw is None or raw == b"" or raw == "":
        return {"Body": {}} if not compat else {}
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return {"Body": text}
    if not compat:
        return {"Body": value}
    return value if isinstance(value, dict) else {"Body": value}


def exception_name(error_type: str, compat: bool = False) -> str:
    """A handler exception's name: strict `FC.<Name>`, compat the bare name."""
    if compat or error_type.startswith("FC."):
        return error_type
    return f"FC.{error_type}"


def error_for(exc: Exception, compat: bool = False) -> FlowError:
    from localcloud.fc import errors as fc_errors

    if isinstance(exc, fc_errors.FunctionTimeout):
        return FlowError(UNKNOWN, exc.message)
    if isinstance(exc, fc_errors.FunctionError):
        if not exc.error_type:
            return FlowError(UNKNOWN, exc.message)
        return FlowError(exception_name(exc.error_type, compat), exc.message)
    if isinstance(exc, fc_errors.FcError):
        return FlowError(f"FC.{exc.code}", exc.message)
    return FlowError(INTERNAL, f"{type(exc).__name__}: {exc}")


def make_fc_integration(fc_runtime):
    def invoke_function(params: dict, task_mode: str, env) -> Any:
        name = function_name(params.get("resourceArn"))
        invocation_type = params.get("invocationType", "Sync")
        if invocation_type not in ("Sync", "Async"):
            raise FlowError(INVALID_ARGUMENT, f"invocationType {invocation_type!r}: Sync or Async")
        try:
            raw = fc_runtime.invoke(
                name, encode_body(params.get("body")), invocation_type=invocation_type
            )
        except Exception as exc:  # the runtime's own failure classes are mapped one by one
            raise error_for(exc, env.compat) from None
        if invocation_type == "Async":
            return {}
        return decode_result(raw, env.compat)

    return invoke_function
