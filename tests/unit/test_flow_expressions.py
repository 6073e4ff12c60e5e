"""CloudFlow expressions: paths, operators, built-ins, constructors; property tests."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localcloud.flow.expressions import (
    ExpressionEvaluationError,
    ExpressionSyntaxError,
    compile_constructor,
    compile_expression,
)


def ev(text, input=None, output=None, context=None, grammar="constructor"):
    scope = {"Input": input, "Output": output, "Context": context}
    return compile_expression(text, grammar).evaluate(scope)


def cond(text, input=None, context=None):
    return ev(text, input, context=context, grammar="condition")


def test_paths_read_fields_and_indexes():
    data = {"a": {"b": [10, {"c": "x"}]}, "key with space": 1}
    assert ev("$Input.a.b[0]", data) == 10
    assert ev("$Input.a.b[1].c", data) == "x"
    assert ev('$Input["key with space"]', data) == 1
    assert ev("$Input.a.b[-1].c", data) == "x"
    assert ev("$Input.missing", data) is None
    assert ev("$Input.a.b[9]", data) is None


def test_context_and_output_roots():
    ctx = {"Execution": {"Name": "e1"}, "Current": {"Error": {"Code": "Boom"}}}
    assert ev("$Context.Execution.Name", context=ctx) == "e1"
    assert ev("$Context.Current.Error.Code", context=ctx) == "Boom"
    assert ev("intAdd($Output.n, 1)", output={"n": 1}) == 2
    assert compile_expression("$Output.a && $Input.b", "condition").roots == {"Output", "Input"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1 < 2 && 2 <= 2", True),
        ("!(1 == 1)", False),
        ("1 == 1.0", True),
        ('1 == "1"', False),
        ("true || false", True),
        ('"abc" < "abd"', True),
        ('`zip` == "zip"', True),
        ("-1 < 0", True),
        ('"b" in $Input.list', True),
        ('"z" in $Input.list', False),
        ('"k" in $Input.map', True),
        ("2 in $Input.list", False),
    ],
)
def test_condition_operators(text, expected):
    assert cond(text, {"list": ["a", "b"], "map": {"k": 1}}) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[1, 2]", [1, 2]),
        ('{"k": 3}', {"k": 3}),
        ("-3", -3),
        ('format("part-{}-{}", 1, "x")', "part-1-x"),
        ("length([1,2,3])", 3),
        ('length("héllo")', 5),
        ("arrayContains([1, 2], 2)", True),
        ('arrayContains([{"done": true}, {"done": false}], {"done": false})', True),
        ("arrayUnique([1, 1, 2])", [1, 2]),
        ('jsonMerge({"a": 1}, {"b": 2})', {"a": 1, "b": 2}),
        ('stringToJson("{\\"a\\": [1]}")', {"a": [1]}),
        ("fromJSON('{\"a\": 1}')", {"a": 1}),
        ('fromBase64(toBase64("FnF"))', "FnF"),
        ("intAdd(40, 2)", 42),
        ("intAdd(1, -1)", 0),
        ('get({"a": 1}, "a")', 1),
        ("get([5, 6], 1)", 6),
        ('split("a/b", "/")', ["a", "b"]),
        ('regexMatchString("^a+$", "aaa")', True),
        ('hash("abc", "MD5")', "900150983cd24fb0d6963f7d28e17f72"),
        ('toArray(1, "x")', [1, "x"]),
        ('mapKeys({"a": 1, "b": 2})', ["a", "b"]),
        ('mapValues({"a": 1, "b": 2})', [1, 2]),
        ("'single'", "single"),
    ],
)
def test_constructor_values_and_documented_built_ins(text, expected):
    assert ev(text) == expected


@pytest.mark.parametrize(
    "text, grammar",
    [
        ("", "constructor"),
        ("$Input.", "constructor"),
        ("$Foo.a", "constructor"),
        ("(1", "condition"),
        ("a.b", "constructor"),
        ("unknownFn(1)", "constructor"),
        ("$Input[", "constructor"),
        ("1 2", "condition"),
        ("$Input.a ==", "condition"),
        ('"unterminated', "constructor"),
        ("{1: 2}", "constructor"),
        ("1 + 2", "constructor"),
        ("$Input.a - 1", "constructor"),
        ("$Input.a == 1", "constructor"),
        ("!$Input.a", "constructor"),
        ("null", "constructor"),
        ("jsonToString($Input)", "constructor"),
        ("arrayPartition($Input, 2)", "constructor"),
        ("len($Input)", "constructor"),
        ("intAdd(1)", "constructor"),
        ("uuid(1)", "constructor"),
        ("jsonMerge({}, {}).a", "constructor"),
        ("$Input.a == null", "condition"),
        ("length($Input.a) > 1", "condition"),
        ("$Input.a + 1 > 2", "condition"),
        ("$Input.a == 'x'", "condition"),
        ("[1] == $Input.a", "condition"),
    ],
)
def test_undocumented_syntax_is_rejected_at_compile_time(text, grammar):
    with pytest.raises(ExpressionSyntaxError):
        compile_expression(text, grammar)


@pytest.mark.parametrize(
    "text, data, grammar",
    [
        ("$Input.a < 1", {"a": "x"}, "condition"),
        ("$Input.a && true", {"a": 1}, "condition"),
        ("1 in $Input.a", {"a": 1}, "condition"),
        ("intAdd($Input.a, 1)", {"a": None}, "constructor"),
        ("intAdd($Input.a, 1)", {"a": 1.5}, "constructor"),
        ("$Input.a.b", {"a": 5}, "constructor"),
        ("length(1)", None, "constructor"),
    ],
)
def test_type_errors_surface_at_evaluation(text, data, grammar):
    with pytest.raises(ExpressionEvaluationError):
        ev(text, data, grammar=grammar)


def test_short_circuit_skips_the_right_side():
    assert cond("false && $Input.x > 1", {}) is False
    assert cond("true || $Input.x > 1", {}) is True


def test_constructors_evaluate_dollar_keys_and_keep_literals():
    constructor = compile_constructor(
        {
            "id.$": "$Input.id",
            "fixed": "$Input.id",
            "nested": {"n.$": "intAdd($Input.n, $Input.n)"},
            "list": [{"x.$": "$Input.id"}, 3],
        }
    )
    assert constructor.build({"Input": {"id": "a", "n": 4}}) == {
        "id": "a",
        "fixed": "$Input.id",
        "nested": {"n": 8},
        "list": [{"x": "a"}, 3],
    }
    assert constructor.roots == {"Input"}
    assert ("Input", "id") in constructor.paths and ("Input", "n") in constructor.paths


def test_a_bad_expression_in_a_constructor_names_its_key():
    with pytest.raises(ExpressionSyntaxError, match=r"nested\.n\.\$"):
        compile_constructor({"nested": {"n.$": "$Input +"}}, "")


# --- property tests --------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True), children, max_size=4
        ),
    ),
    max_leaves=20,
)
identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: s not in ("true", "false", "null")
)


@given(json_values.filter(lambda v: "null" not in json.dumps(v)))
def test_any_json_literal_without_null_round_trips_through_the_parser(value):
    assert ev(json.dumps(value)) == value


@given(st.lists(identifiers, min_size=1, max_size=5), json_values)
def test_a_dotted_path_reads_what_was_nested_at_it(path, leaf):
    data = leaf
    for key in reversed(path):
        data = {key: data}
    assert ev("$Input." + ".".join(path), data) == leaf
    assert ev("$Input" + "".join(f"[{json.dumps(k)}]" for k in path), data) == leaf


@given(st.lists(json_values, max_size=6), st.integers(-8, 8))
def test_indexing_an_array_matches_python_or_gives_null(items, index):
    expected = items[index] if -len(items) <= index < len(items) else None
    assert ev(f"$Input[{index}]", items) == expected


@given(st.integers(-(10**6), 10**6), st.integers(-(10**6), 10**6))
def test_integer_comparisons_agree_with_python(a, b):
    data = {"a": a, "b": b}
    for op in ("==", "!=", "<", "<=", ">", ">="):
        assert cond(f"$Input.a {op} $Input.b", data) == eval(f"a {op} b")


@given(st.text(max_size=40), st.sampled_from(["condition", "constructor"]))
def test_arbitrary_text_either_compiles_or_raises_a_syntax_error(text, grammar):
    try:
        compile_expression(text, grammar)
    except ExpressionSyntaxError:
        pass


@given(st.integers(-(10**9), 10**9), st.integers(-(10**9), 10**9))
def test_int_add_agrees_with_python(a, b):
    assert ev(f"intAdd($Input.a, {b})", {"a": a}) == a + b
