"""CloudFlow's expression language: `$Input.a.b[0]`, `$Context.Current.Error.Code`,
comparisons, `&&`/`||`/`!`, arithmetic and a documented subset of built-in functions.

An expression is compiled once at parse time into a tree of closures, so evaluating it
on every state transition costs a few Python calls. `compile_expression` raises
`ExpressionSyntaxError` with the offending position; evaluation raises
`ExpressionEvaluationError` (surfaced to the flow as `FnF.ExpressionError`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .expression_values import (
    FUNCTIONS,
    ExpressionEvaluationError,
    arith,
    compare,
    get_field,
    get_index,
    truthy,
)

ROOTS = ("Input", "Output", "Context")
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
    """A compiled expression: `evaluate(scope)` and the `$` roots it reads."""

    text: str
    evaluate: Evaluator = field(repr=False, compare=False)
    roots: frozenset[str] = frozenset()


# --- tokens -----------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>\d+\.\d*(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
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
    if literal[0] == "'":
        # single-quoted: treat like a JSON string with the quotes swapped
        literal = '"' + literal[1:-1].replace('\\"', '"').replace('"', '\\"') + '"'
        literal = literal.replace("\\'", "'")
    try:
        return json.loads(literal)
    except json.JSONDecodeError as exc:
        raise ExpressionSyntaxError(f"bad string literal {literal}: {exc.msg}") from None


# --- parser (precedence climbing into closures) ----------------------------------------


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.roots: set[str] = set()

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, value: str) -> None:
        token = self.take()
        if token.value != value or token.kind not in ("op",):
            raise ExpressionSyntaxError(
                f"expected {value!r} at position {token.pos}, found {token.value or 'end'!r}"
            )

    def parse(self) -> Evaluator:
        node = self.parse_or()
        end = self.peek()
        if end.kind != "end":
            raise ExpressionSyntaxError(f"unexpected {end.value!r} at position {end.pos}")
        return node

    def parse_or(self) -> Evaluator:
        left = self.parse_and()
        while self.peek().value == "||" and self.peek().kind == "op":
            self.take()
            right = self.parse_and()
            left = (lambda a, b: lambda s: truthy(a(s)) or truthy(b(s)))(left, right)
        return left

    def parse_and(self) -> Evaluator:
        left = self.parse_not()
        while self.peek().value == "&&" and self.peek().kind == "op":
            self.take()
            right = self.parse_not()
            left = (lambda a, b: lambda s: truthy(a(s)) and truthy(b(s)))(left, right)
        return left

    def parse_not(self) -> Evaluator:
        if self.peek().value == "!" and self.peek().kind == "op":
            self.take()
            inner = self.parse_not()
            return lambda s: not truthy(inner(s))
        return self.parse_compare()

    def parse_compare(self) -> Evaluator:
        left = self.parse_additive()
        token = self.peek()
        if token.kind == "op" and token.value in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            right = self.parse_additive()
            op = token.value
            return lambda s: compare(op, left(s), right(s))
        return left

    def parse_additive(self) -> Evaluator:
        left = self.parse_multiplicative()
        while self.peek().kind == "op" and self.peek().value in ("+", "-"):
            op = self.take().value
            right = self.parse_multiplicative()
            left = (lambda a, b, o: lambda s: arith(o, a(s), b(s)))(left, right, op)
        return left

    def parse_multiplicative(self) -> Evaluator:
        left = self.parse_unary()
        while self.peek().kind == "op" and self.peek().value in ("*", "/", "%"):
            op = self.take().value
            right = self.parse_unary()
            left = (lambda a, b, o: lambda s: arith(o, a(s), b(s)))(left, right, op)
        return left

    def parse_unary(self) -> Evaluator:
        if self.peek().kind == "op" and self.peek().value == "-":
            self.take()
            inner = self.parse_unary()
            return lambda s: arith("-", 0, inner(s))
        return self.parse_postfix()

    def parse_postfix(self) -> Evaluator:
        node = self.parse_primary()
        while self.peek().kind == "op" and self.peek().value in (".", "["):
            if self.take().value == ".":
                name = self.take()
                if name.kind != "name":
                    raise ExpressionSyntaxError(
                        f"expected a field name after '.' at position {name.pos}"
                    )
                node = (lambda n, key: lambda s: get_field(n(s), key))(node, name.value)
            else:
                index = self.parse_or()
                self.expect("]")
                node = (lambda n, ix: lambda s: get_index(n(s), ix(s)))(node, index)
        return node

    def parse_primary(self) -> Evaluator:
        token = self.take()
        if token.kind == "number":
            value = float(token.value) if any(c in token.value for c in ".eE") else int(token.value)
            return lambda s: value
        if token.kind == "string":
            text = _unquote(token.value)
            return lambda s: text
        if token.kind == "root":
            root = token.value[1:]
            if root not in ROOTS:
                raise ExpressionSyntaxError(
                    f"unknown variable {token.value} at position {token.pos}; "
                    "use $Input, $Output or $Context"
                )
            self.roots.add(root)
            return lambda s: s.get(root)
        if token.kind == "name":
            if token.value in ("true", "false", "null"):
                constant = {"true": True, "false": False, "null": None}[token.value]
                return lambda s: constant
            if self.peek().value == "(":
                return self.parse_call(token)
            raise ExpressionSyntaxError(
                f"bare name {token.value!r} at position {token.pos}: "
                "start paths with $Input, $Output or $Context, quote strings"
            )
        if token.kind == "op" and token.value == "(":
            inner = self.parse_or()
            self.expect(")")
            return inner
        if token.kind == "op" and token.value == "[":
            items = self.parse_list("]")
            return lambda s: [item(s) for item in items]
        if token.kind == "op" and token.value == "{":
            return self.parse_object()
        raise ExpressionSyntaxError(
            f"unexpected {token.value or 'end of expression'!r} at position {token.pos}"
        )

    def parse_list(self, closer: str) -> list[Evaluator]:
        items: list[Evaluator] = []
        if self.peek().value == closer:
            self.take()
            return items
        while True:
            items.append(self.parse_or())
            token = self.take()
            if token.value == closer:
                return items
            if token.value != ",":
                raise ExpressionSyntaxError(f"expected ',' or {closer!r} at position {token.pos}")

    def parse_object(self) -> Evaluator:
        pairs: list[tuple[str, Evaluator]] = []
        if self.peek().value == "}":
            self.take()
            return lambda s: {}
        while True:
            key = self.take()
            if key.kind == "string":
                name = _unquote(key.value)
            elif key.kind == "name":
                name = key.value
            else:
                raise ExpressionSyntaxError(f"expected an object key at position {key.pos}")
            self.expect(":")
            pairs.append((name, self.parse_or()))
            token = self.take()
            if token.value == "}":
                return lambda s: {k: v(s) for k, v in pairs}
            if token.value != ",":
                raise ExpressionSyntaxError(f"expected ',' or '}}' at position {token.pos}")

    def parse_call(self, name: _Token) -> Evaluator:
        fn = FUNCTIONS.get(name.value)
        if fn is None:
            raise ExpressionSyntaxError(
                f"unknown function {name.value}() at position {name.pos}; "
                f"supported: {', '.join(sorted(FUNCTIONS))}"
            )
        self.expect("(")
        args = self.parse_list(")")

        def call(s):
            try:
                return fn(*(arg(s) for arg in args))
            except ExpressionEvaluationError:
                raise
            except (TypeError, ValueError) as exc:
                raise ExpressionEvaluationError(f"{name.value}(): {exc}") from None

        return call


def compile_expression(text: str) -> Expression:
    """Compile `text` (e.g. `$Input.size > 10 && $Input.kind == "zip"`)."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionSyntaxError("empty expression")
    parser = _Parser(text)
    evaluator = parser.parse()
    return Expression(text=text, evaluate=evaluator, roots=frozenset(parser.roots))


# --- constructors: {"key.$": "<expression>", "literal": 1, "nested": {...}} -------------


@dataclass(frozen=True)
class Constructor:
    """A compiled InputConstructor/OutputConstructor/ItemConstructor."""

    build: Callable[[Scope], Any] = field(repr=False)
    roots: frozenset[str] = frozenset()


def compile_constructor(template: Any, where: str = "") -> Constructor:
    """Compile a constructor template; keys ending in `.$` hold expressions.

    Raises ExpressionSyntaxError naming the key path (`where`) of a bad expression.
    """
    roots: set[str] = set()

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
                        expr = compile_expression(value)
                    except ExpressionSyntaxError as exc:
                        raise ExpressionSyntaxError(f"{path}{key}: {exc}") from None
                    roots.update(expr.roots)
                    parts.append((key[:-2], expr.evaluate))
                else:
                    parts.append((key, walk(value, f"{path}{key}.")))
            return lambda s: {k: build(s) for k, build in parts}
        if isinstance(node, list):
            items = [walk(item, f"{path}[{i}].") for i, item in enumerate(node)]
            return lambda s: [build(s) for build in items]
        return lambda s: node

    build = walk(template, f"{where}." if where else "")
    return Constructor(build=build, roots=frozenset(roots))
