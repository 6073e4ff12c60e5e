"""The handlers stay easy to change: no function over ~60 lines or 6 parameters (STYLE.md)."""

from __future__ import annotations

import ast
import pathlib

HANDLERS = pathlib.Path(__file__).resolve().parents[2] / "handlers"


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    a = node.args
    names = [*a.posonlyargs, *a.args, *a.kwonlyargs]
    count = len(names) + bool(a.vararg) + bool(a.kwarg)
    return count - (1 if names and names[0].arg in ("self", "cls") else 0)


def _oversized() -> list[str]:
    found = []
    for path in sorted(HANDLERS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            lines = node.end_lineno - node.lineno + 1
            if lines > 60 or _parameters(node) > 6:
                found.append(
                    f"{path.name}:{node.lineno} {node.name} ({lines} lines, "
                    f"{_parameters(node)} parameters)"
                )
    return found


def test_no_handler_function_is_over_60_lines_or_6_parameters():
    assert _oversized() == []


def test_the_shape_check_sees_handler_functions():
    # the check above would pass vacuously if the glob or the walk found nothing
    names = {
        node.name
        for path in HANDLERS.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef)
    }
    assert {"extract", "plan_entries", "entry_failure"} <= names
