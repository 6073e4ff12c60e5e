"""What expressions do to JSON values: comparisons, membership, field/index access and
the documented built-in functions with their arity. Type errors raise
ExpressionEvaluationError, surfaced to the flow as `FnF.ExpressionError`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class ExpressionEvaluationError(ValueError):
    """The expression is valid but cannot be evaluated on this data (e.g. `"a" < 1`)."""


# --- built-in functions: the documented list (built-in functions page,
# alibabacloud.com/help/en/serverless-workflow/latest/built-in-functions and its newer
# index at help.aliyun.com/document_detail/2579872.html) with their arity ------------


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


def _need_list(values, fn: str) -> list:
    if not isinstance(values, list):
        raise ExpressionEvaluationError(f"{fn}() needs an array, got {json_type(values)}")
    return values


def _need_map(value, fn: str) -> dict:
    if not isinstance(value, dict):
        raise ExpressionEvaluationError(f"{fn}() needs an object, got {json_type(value)}")
    return value


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


def _int_add(left, right):
    for value in (left, right):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ExpressionEvaluationError(f"intAdd() needs two integers, got {json_type(value)}")
    return left + right


def _get(container, key):
    if isinstance(container, list):
        return get_index(container, key)
    if isinstance(container, dict):
        if not isinstance(key, str):
            raise ExpressionEvaluationError("get() on an object needs a string key")
        return container.get(key)
    raise ExpressionEvaluationError(f"get() needs an array or object, got {json_type(container)}")


def _split(text, separator):
    if not isinstance(text, str) or not isinstance(separator, str) or not separator:
        raise ExpressionEvaluationError("split() needs a string and a non-empty separator")
    return text.split(separator)


def _regex_match(pattern, text):
    if not isinstance(pattern, str) or not isinstance(text, str):
        raise ExpressionEvaluationError("regexMatchString() needs a pattern and a string")
    try:
        return re.search(pattern, text) is not None
    except re.error as exc:
        raise ExpressionEvaluationError(f"regexMatchString(): bad pattern: {exc}") from None


def _hash(text, algorithm):
    names = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-512": "sha512"}
    if not isinstance(text, str) or algorithm not in names:
        raise ExpressionEvaluationError(f"hash() needs a string and one of {sorted(names)}")
    return hashlib.new(names[algorithm], text.encode()).hexdigest()


def _random_int(low, high):
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)) or low > high:
        raise ExpressionEvaluationError("randomInt() needs two integers low <= high")
    return random.randint(low, high)


@dataclass(frozen=True)
class BuiltIn:
    fn: Callable[..., Any]
    min_args: int
    max_args: int | None  # None: any number

    def accepts(self, count: int) -> bool:
        return count >= self.min_args and (self.max_args is None or count <= self.max_args)

    def arity_text(self) -> str:
        if self.max_args is None:
            return f"at least {self.min_args} argument(s)"
        if self.min_args == self.max_args:
            return f"{self.min_args} argument(s)"
        return f"{self.min_args}..{self.max_args} arguments"


FUNCTIONS: dict[str, BuiltIn] = {
    # common operations
    "format": BuiltIn(_format, 1, None),
    "get": BuiltIn(_get, 2, 2),
    "intAdd": BuiltIn(_int_add, 2, 2),
    "length": BuiltIn(_length, 1, 1),
    "randomInt": BuiltIn(_random_int, 2, 2),
    "regexMatchString": BuiltIn(_regex_match, 2, 2),
    "split": BuiltIn(_split, 2, 2),
    # arrays
    "arrayContains": BuiltIn(
        lambda values, item: item in _need_list(values, "arrayContains"), 2, 2
    ),
    "arrayUnique": BuiltIn(_array_unique, 1, 1),
    "toArray": BuiltIn(lambda *values: list(values), 0, None),
    # maps
    "mapKeys": BuiltIn(lambda value: list(_need_map(value, "mapKeys")), 1, 1),
    "mapValues": BuiltIn(lambda value: list(_need_map(value, "mapValues").values()), 1, 1),
    # encoding, hash, uuid
    "toBase64": BuiltIn(lambda text: base64.b64encode(str(text).encode()).decode(), 1, 1),
    "fromBase64": BuiltIn(lambda text: base64.b64decode(str(text)).decode(), 1, 1),
    "hash": BuiltIn(_hash, 2, 2),
    "uuid": BuiltIn(lambda: str(uuid.uuid4()), 0, 0),
    # JSON (jsonToString is NOT documented: MNS serializes an object message itself)
    "jsonMerge": BuiltIn(_json_merge, 2, 2),
    "stringToJson": BuiltIn(_string_to_json, 1, 1),
    "fromJSON": BuiltIn(_string_to_json, 1, 1),
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


def member(item, container) -> bool:
    """`item in container`: array membership, or a key of an object (Choice page)."""
    if isinstance(container, list):
        return any(compare("==", item, value) for value in container)
    if isinstance(container, dict):
        return isinstance(item, str) and item in container
    raise ExpressionEvaluationError(
        f"'in' needs an array or object on its right, got {json_type(container)}"
    )


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
