"""CloudFlow's two expression grammars, exactly as documented (nothing more):

- Conditions (Choice page, alibabacloud.com/help/en/serverless-workflow/latest/select-choice):
  `> >= < <= == !=` on strings and numbers, `&&`, `||`, prefix `!` and `-`, strings in
  double quotes or backticks, numbers, `true`/`false`, `in` for array/key membership,
  paths `$Input.a.b[0]`, `$Context...`, parentheses. No `null`, no function calls.
- `.$` constructor values (built-in functions page, .../built-in-functions; data passing
  page): a path, a literal (string, number, true/false, object, array) or a documented
  built-in function call, nested at most 10 deep. No operators at all: arithmetic is
  written `intAdd($Input.n, 1)`; a field of a function's result is `get(fn(..), "key")`.

An expression is compiled once at parse time into a tree of closures. `compile_expression`
raises `ExpressionSyntaxError` with the offending position; evaluation raises
`ExpressionEvaluationError` (surfaced to the flow as `FnF.ExpressionError`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .expression_values import (
    FUNCTIONS,
    ExpressionEvaluationError,
    compare,
    get_field,
    get_index,
    member,
    truthy,
)

ROOTS = ("Input", "Output", "Context")
MAX_CALL_DEPTH = 10  # "a maximum of 10 layers of nested built-in functions"
Grammar = Literal["condition", "constructor"]
__all__ = [
    "ExpressionEvaluationError",
    "ExpressionSyntaxError",
    "compile_expression",
    "compile_constructor",
    "Expression",
    "Constructor",
    "FUNCTIONS",
]


class ExpressionSyntaxError(ValueError):
    """The expression text is not valid CloudFlow expression syntax."""


Scope = dict  # {"Input": ..., "Output": ..., "Context": ...}
Evaluator = Callable[[Scope], Any]


@dataclass(frozen=True)
class Expression:
    """A compiled expression: `evaluate(scope)`, the `$` roots it reads and its paths."""

    text: str
    evaluate: Evaluator = field(repr=False, compare=False)
    roots: frozenset[str] = frozenset()
    paths: tuple[tuple[str, ...], ...] = ()


# --- tokens -----------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>\d+\.\d*(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<root>\$[A-Za-z_][A-Za-z0-9_]*)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>!+\-*/%().,\[\]{}:])
    """,
    re.VERBOSE,
)


@dataclass
class _Token:
    kind: str
    value: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ExpressionSyntaxError(f"unexpected character {text[pos]!r} at position {pos}")
        kind = match.lastgroup
        if kind != "ws":
            tokens.append(_Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _unquote(literal: str) -> str:
    if literal[0] == "`":
        return literal[1:-1]  # backtick strings are raw
    if literal[0] == "'":
        literal = '"' + literal[1:-1].replace('\\"', '"').replace('"', '\\"') + '"'
        literal = literal.replace("\\'", "'")
    try:
        return json.loads(literal)
    except json.JSONDecodeError as exc:
        raise ExpressionSyntaxError(f"bad string literal {literal}: {exc.msg}") from None


def _number(token: _Token, negative: bool = False):
    value = float(token.value) if any(c in token.value for c in ".eE") else int(token.value)
    return -value if negative else value


# --- parser -----------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str, grammar: Grammar):
        self.text = text
        self.grammar = grammar
        self.tokens = _tokenize(text)
        self.i = 0
        self.roots: set[str] = set()
        self.paths: list[tuple[str, ...]] = []
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def at(self, *values: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.value in values

    def expect(self, value: str) -> None:
        token = self.take()
        if token.value != value or token.kind != "op":
            raise ExpressionSyntaxError(
                f"expected {value!r} at position {token.pos}, found {token.value or 'end'!r}"
            )

    def refuse(self, token: _Token, what: str) -> ExpressionSyntaxError:
        where = "a Choice condition" if self.grammar == "condition" else "a '.$' value"
        return ExpressionSyntaxError(
            f"{what} at position {token.pos} is not documented in {where}"
            + (_CONDITION_HELP if self.grammar == "condition" else _CONSTRUCTOR_HELP)
        )

    def parse(self) -> Evaluator:
        node = self.parse_or() if self.grammar == "condition" else self.parse_value()
        end = self.peek()
        if end.kind != "end":
            if end.kind == "op" and self.grammar == "constructor":
                raise self.refuse(end, f"operator {end.value!r}")
            raise ExpressionSyntaxError(f"unexpected {end.value!r} at position {end.pos}")
        return node

    # --- conditions -------------------------------------------------------------------
    def parse_or(self) -> Evaluator:
        left = self.parse_and()
        while self.at("||"):
            self.take()
            right = self.parse_and()
            left = (lambda a, b: lambda s: truthy(a(s)) or truthy(b(s)))(left, right)
        return left

    def parse_and(self) -> Evaluator:
        left = self.parse_not()
        while self.at("&&"):
            self.take()
            right = self.parse_not()
            left = (lambda a, b: lambda s: truthy(a(s)) and truthy(b(s)))(left, right)
        return left

    def parse_not(self) -> Evaluator:
        if self.at("!"):
            self.take()
            inner = self.parse_not()
            return lambda s: not truthy(inner(s))
        return self.parse_compare()

    def parse_compare(self) -> Evaluator:
        left = self.parse_unary()
        token = self.peek()
        if token.kind == "op" and token.value in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            right = self.parse_unary()
            op = token.value
            return lambda s: compare(op, left(s), right(s))
        if token.kind == "name" and token.value == "in":
            self.take()
            right = self.parse_unary()
            return lambda s: member(left(s), right(s))
        if token.kind == "op" and token.value in ("+", "*", "/", "%", "-"):
            raise self.refuse(token, f"arithmetic {token.value!r}")
        return left

    def parse_unary(self) -> Evaluator:
        if self.at("-"):
            self.take()
            inner = self.parse_unary()

            def negate(s):
                value = inner(s)
                if not isinstance(value, int | float) or isinstance(value, bool):
                    raise ExpressionEvaluationError("prefix '-' needs a number")
                return -value

            return negate
        return self.parse_condition_primary()

    def parse_condition_primary(self) -> Evaluator:
        token = self.take()
        if token.kind == "number":
            value = _number(token)
            return lambda s: value
        if token.kind == "string":
            if token.value[0] == "'":
                raise self.refuse(token, "a single-quoted string")
            text = _unquote(token.value)
            return lambda s: text
        if token.kind == "root":
            return self.parse_path(token)
        if token.kind == "name":
            return self.parse_name(token)
        if token.kind == "op" and token.value == "(":
            inner = self.parse_or()
            self.expect(")")
            return inner
        if token.kind == "op" and token.value in "[{":
            raise self.refuse(token, "an array or object literal")
        raise ExpressionSyntaxError(
            f"unexpected {token.value or 'end of expression'!r} at position {token.pos}"
        )

    def parse_name(self, token: _Token) -> Evaluator:
        if token.value in ("true", "false"):
            constant = token.value == "true"
            return lambda s: constant
        if token.value == "null":
            raise self.refuse(token, "the null literal")
        if self.at("("):
            if self.grammar == "condition":
                raise self.refuse(token, f"function call {token.value}()")
            return self.parse_call(token)
        raise ExpressionSyntaxError(
            f"bare name {token.value!r} at position {token.pos}: "
            "start paths with $Input, $Output or $Context, quote strings"
        )

    # --- paths --------------------------------------------------------------------------
    def parse_path(self, token: _Token) -> Evaluator:
        root = token.value[1:]
        if root not in ROOTS:
            raise ExpressionSyntaxError(
                f"unknown variable {token.value} at position {token.pos}; "
                "use $Input, $Output or $Context"
            )
        self.roots.add(root)
        node: Evaluator = lambda s: s.get(root)  # noqa: E731
        path = [root]
        while self.at(".", "["):
            if self.take().value == ".":
                name = self.take()
                if name.kind != "name":
                    raise ExpressionSyntaxError(
                        f"expected a field name after '.' at position {name.pos}"
                    )
                node = (lambda n, key: lambda s: get_field(n(s), key))(node, name.value)
                path.append(name.value)
            else:
                part = self.take()
                if part.kind == "number":
                    index = _number(part)
                elif part.kind == "string":
                    index = _unquote(part.value)
                elif part.kind == "op" and part.value == "-" and self.peek().kind == "number":
                    index = _number(self.take(), negative=True)
                else:
                    raise ExpressionSyntaxError(
                        f"a path index is a number or a quoted key (position {part.pos})"
                    )
                self.expect("]")
                node = (lambda n, ix: lambda s: get_index(n(s), ix))(node, index)
                path.append(str(index) if isinstance(index, str) else "[]")
        self.paths.append(tuple(path))
        return node

    # --- constructor values -----------------------------------------------------------
    def parse_value(self) -> Evaluator:
        token = self.take()
        if token.kind == "number":
            value = _number(token)
            return lambda s: value
        if token.kind == "op" and token.value == "-" and self.peek().kind == "number":
            value = _number(self.take(), negative=True)
            return lambda s: value
        if token.kind == "string":
            text = _unquote(token.value)
            return lambda s: text
        if token.kind == "root":
            node = self.parse_path(token)
            return node
        if token.kind == "name":
            return self.parse_name(token)
        if token.kind == "op" and token.value == "[":
            items = self.parse_list("]")
            return lambda s: [item(s) for item in items]
        if token.kind == "op" and token.value == "{":
            return self.parse_object()
        if token.kind == "op":
            raise self.refuse(token, f"operator {token.value!r}")
        raise ExpressionSyntaxError(
            f"unexpected {token.value or 'end of expression'!r} at position {token.pos}"
        )

    def parse_list(self, closer: str) -> list[Evaluator]:
        items: list[Evaluator] = []
        if self.at(closer):
            self.take()
            return items
        while True:
            items.append(self.parse_value())
            token = self.take()
            if token.value == closer and token.kind == "op":
                return items
            if token.value != "," or token.kind != "op":
                if token.kind == "op" and token.value not in (",", closer):
                    raise self.refuse(token, f"operator {token.value!r}")
                raise ExpressionSyntaxError(f"expected ',' or {closer!r} at position {token.pos}")

    def parse_object(self) -> Evaluator:
        pairs: list[tuple[str, Evaluator]] = []
        if self.at("}"):
            self.take()
            return lambda s: {}
        while True:
            key = self.take()
            if key.kind != "string":
                raise ExpressionSyntaxError(
                    f"expected a quoted object key at position {key.pos} (JSON object syntax)"
                )
            self.expect(":")
            pairs.append((_unquote(key.value), self.parse_value()))
            token = self.take()
            if token.value == "}":
                return lambda s: {k: v(s) for k, v in pairs}
            if token.value != ",":
                if token.kind == "op":
                    raise self.refuse(token, f"operator {token.value!r}")
                raise ExpressionSyntaxError(f"expected ',' or '}}' at position {token.pos}")

    def parse_call(self, name: _Token) -> Evaluator:
        spec = FUNCTIONS.get(name.value)
        if spec is None:
            raise ExpressionSyntaxError(
                f"{name.value}() at position {name.pos} is not a documented built-in function "
                f"(documented: {', '.join(sorted(FUNCTIONS))})"
            )
        self.depth += 1
        if self.depth > MAX_CALL_DEPTH:
            raise ExpressionSyntaxError(
                f"more than {MAX_CALL_DEPTH} nested built-in functions at position {name.pos}"
            )
        self.expect("(")
        args = self.parse_list(")")
        self.depth -= 1
        if not spec.accepts(len(args)):
            raise ExpressionSyntaxError(
                f"{name.value}() takes {spec.arity_text()}, got {len(args)} (position {name.pos})"
            )
        fn = spec.fn

        def call(s):
            try:
                return fn(*(arg(s) for arg in args))
            except ExpressionEvaluationError:
                raise
            except (TypeError, ValueError) as exc:
                raise ExpressionEvaluationError(f"{name.value}(): {exc}") from None

        return call


_CONDITION_HELP = (
    " (conditions: comparisons, &&, ||, !, -, in, strings, numbers, true/false, paths; "
    "let a function return the boolean to test)"
)
_CONSTRUCTOR_HELP = (
    " (a '.$' value is a path, a literal or a documented built-in call; "
    'add with intAdd(a, b), read a result\'s field with get(value, "key"))'
)


def compile_expression(text: str, grammar: Grammar = "constructor") -> Expression:
    """Compile `text` under the documented `grammar` ("condition" or "constructor")."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionSyntaxError("empty expression")
    parser = _Parser(text, grammar)
    evaluator = parser.parse()
    return Expression(
        text=text, evaluate=evaluator, roots=frozenset(parser.roots), paths=tuple(parser.paths)
    )


# --- constructors: {"key.$": "<expression>", "literal": 1, "nested": {...}} -------------


@dataclass(frozen=True)
class Constructor:
    """A compiled InputConstructor/OutputConstructor/Parameters mapping."""

    build: Callable[[Scope], Any] = field(repr=False)
    roots: frozenset[str] = frozenset()
    paths: tuple[tuple[str, ...], ...] = ()


def compile_constructor(template: Any, where: str = "") -> Constructor:
    """Compile a constructor template; keys ending in `.$` hold expressions.

    Raises ExpressionSyntaxError naming the key path (`where`) of a bad expression.
    """
    roots: set[str] = set()
    paths: list[tuple[str, ...]] = []

    def walk(node: Any, path: str):
        if isinstance(node, dict):
            parts: list[tuple[str, Callable]] = []
            for key, value in node.items():
                key = str(key)
                if key.endswith(".$"):
                    if not isinstance(value, str):
                        raise ExpressionSyntaxError(
                            f"{path}{key}: a '.$' key needs an expression string"
                        )
                    try:
                        expr = compile_expression(value, "constructor")
                    except ExpressionSyntaxError as exc:
                        raise ExpressionSyntaxError(f"{path}{key}: {exc}") from None
                    roots.update(expr.roots)
                    paths.extend(expr.paths)
                    parts.append((key[:-2], expr.evaluate))
                else:
                    parts.append((key, walk(value, f"{path}{key}.")))
            return lambda s: {k: build(s) for k, build in parts}
        if isinstance(node, list):
            items = [walk(item, f"{path}[{i}].") for i, item in enumerate(node)]
            return lambda s: [build(s) for build in items]
        return lambda s: node

    build = walk(template, f"{where}." if where else "")
    return Constructor(build=build, roots=frozenset(roots), paths=tuple(paths))
