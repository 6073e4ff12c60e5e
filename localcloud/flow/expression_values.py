"""What expressions do to JSON values: operators, field/index access and the built-in
functions (the documented subset in docs/localcloud-flow.md). Type errors raise
ExpressionEvaluationError, surfaced to the flow as `FnF.ExpressionError`.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any


class ExpressionEvaluationError(ValueError):
    """The expression is valid but cannot be evaluated on this data (e.g. `"a" < 1`)."""


# --- built-in functions (documented subset, docs/localcloud-flow.md) -----------------


def _length(value):
    if isinstance(value, str | list | dict):
        return len(value)
    raise ExpressionEvaluationError(
        f"length() needs a string, array or object, got {json_type(value)}"
    )


def _format(template, *args):
    if not isinstance(template, str):
        raise ExpressionEvaluationError("format() needs a string template")
    parts = template.split("{}")
    if len(parts) - 1 != len(args):
        raise ExpressionEvaluationError(
            f"format() template has {len(parts) - 1} placeholders but got {len(args)} values"
        )
    out = [parts[0]]
    for arg, tail in zip(args, parts[1:], strict=True):
        out.append(arg if isinstance(arg, str) else json.dumps(arg, separators=(",", ":")))
        out.append(tail)
    return "".join(out)


def _array_unique(values):
    out: list = []
    for value in _need_list(values, "arrayUnique"):
        if value not in out:
            out.append(value)
    return out


def _array_partition(values, size):
    values = _need_list(values, "arrayPartition")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ExpressionEvaluationError("arrayPartition() needs a positive integer size")
    return [values[i : i + size] for i in range(0, len(values), size)]


def _array_range(start, end, step=1):
    for name, value in (("start", start), ("end", end), ("step", step)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ExpressionEvaluationError(f"arrayRange() {name} must be an integer")
    if step == 0:
        raise ExpressionEvaluationError("arrayRange() step must not be 0")
    if abs((end - start) // step) > 1000:
        raise ExpressionEvaluationError("arrayRange() would produce more than 1000 items")
    return list(range(start, end, step))


def _need_list(values, fn: str) -> list:
    if not isinstance(values, list):
        raise ExpressionEvaluationError(f"{fn}() needs an array, got {json_type(values)}")
    return values


def _string_to_json(text):
    if not isinstance(text, str):
        raise ExpressionEvaluationError("stringToJson() needs a string")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExpressionEvaluationError(f"stringToJson(): not JSON: {exc.msg}") from None


def _json_merge(left, right):
    if not isinstance(left, dict) or not isinstance(right, dict):
        raise ExpressionEvaluationError("jsonMerge() needs two objects")
    return {**left, **right}


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "length": _length,
    "len": _length,
    "format": _format,
    "arrayContains": lambda values, item: item in _need_list(values, "arrayContains"),
    "arrayUnique": _array_unique,
    "arrayPartition": _array_partition,
    "arrayRange": _array_range,
    "jsonMerge": _json_merge,
    "stringToJson": _string_to_json,
    "jsonToString": lambda value: json.dumps(value, separators=(",", ":"), ensure_ascii=False),
    "toBase64": lambda text: base64.b64encode(str(text).encode()).decode(),
    "fromBase64": lambda text: base64.b64decode(str(text)).decode(),
    "uuid": lambda: str(uuid.uuid4()),
}


def json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


# --- operators ----------------------------------------------------------------------


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def compare(op: str, left, right):
    if op == "==":
        return left == right and json_type(left) == json_type(right)
    if op == "!=":
        return not (left == right and json_type(left) == json_type(right))
    if (is_number(left) and is_number(right)) or (isinstance(left, str) and isinstance(right, str)):
        if op == "<":
            return left < right
        if op == "<=":
            return left <= right
        if op == ">":
            return left > right
        return left >= right
    raise ExpressionEvaluationError(f"cannot compare {json_type(left)} {op} {json_type(right)}")


def arith(op: str, left, right):
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    if not (is_number(left) and is_number(right)):
        raise ExpressionEvaluationError(f"cannot compute {json_type(left)} {op} {json_type(right)}")
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if right == 0:
        raise ExpressionEvaluationError(f"division by zero in {op}")
    if op == "/":
        result = left / right
        return (
            int(result)
            if isinstance(left, int) and isinstance(right, int) and left % right == 0
            else result
        )
    return left % right


def truthy(value) -> bool:
    if not isinstance(value, bool):
        raise ExpressionEvaluationError(f"expected a boolean, got {json_type(value)}")
    return value


def get_field(value, key: str):
    if isinstance(value, dict):
        return value.get(key)
    if value is None:
        return None
    raise ExpressionEvaluationError(f"cannot read field {key!r} of a {json_type(value)}")


def get_index(value, index):
    if isinstance(value, list):
        if not isinstance(index, int) or isinstance(index, bool):
            raise ExpressionEvaluationError(
                f"array index must be an integer, got {json_type(index)}"
            )
        return value[index] if -len(value) <= index < len(value) else None
    if isinstance(value, dict):
        if not isinstance(index, str):
            raise ExpressionEvaluationError(f"object key must be a string, got {json_type(index)}")
        return value.get(index)
    if value is None:
        return None
    raise ExpressionEvaluationError(f"cannot index a {json_type(value)}")
