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


def ev(text, input=None, output=None, context=None):
    return compile_expression(text).evaluate({"Input": input, "Output": output, "Context": context})


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
    assert ev("$Output.n + 1", output={"n": 1}) == 2
    assert compile_expression("$Output.a && $Input.b").roots == {"Output", "Input"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 % 4", 3),
        ("10 / 4", 2.5),
        ("8 / 4", 2),
        ("-3 + 1", -2),
        ('"a" + "b"', "ab"),
        ("1 < 2 && 2 <= 2", True),
        ("!(1 == 1)", False),
        ("1 == 1.0", True),
        ('1 == "1"', False),
        ("null == null", True),
        ("true || false", True),
        ('"abc" < "abd"', True),
        ("[1, 2][1]", 2),
        ('{"k": 3}.k', 3),
        ('format("part-{}-{}", 1, "x")', "part-1-x"),
        ("length([1,2,3])", 3),
        ('len("héllo")', 5),
        ("arrayContains([1, 2], 2)", True),
        ("arrayUnique([1, 1, 2])", [1, 2]),
        ("arrayPartition([1, 2, 3], 2)", [[1, 2], [3]]),
        ("arrayRange(0, 6, 2)", [0, 2, 4]),
        ('jsonMerge({"a": 1}, {"b": 2})', {"a": 1, "b": 2}),
        ('stringToJson("{\\"a\\": [1]}")', {"a": [1]}),
        ('jsonToString({"a": 1})', '{"a":1}'),
        ('fromBase64(toBase64("FnF"))', "FnF"),
        ("'single'", "single"),
    ],
)
def test_operators_and_builtins(text, expected):
    assert ev(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "$Input.",
        "$Foo.a",
        "1 +",
        "(1",
        "a.b",
        "unknownFn(1)",
        "$Input[",
        "1 2",
        "$Input.a ==",
        '"unterminated',
        "{1: 2}",
    ],
)
def test_syntax_errors_are_rejected_at_compile_time(text):
    with pytest.raises(ExpressionSyntaxError):
        compile_expression(text)


@pytest.mark.parametrize(
    "text, data",
    [
        ("$Input.a < 1", {"a": "x"}),
        ("$Input.a + 1", {"a": None}),
        ("1 / 0", None),
        ("$Input.a && true", {"a": 1}),
        ("$Input.a.b", {"a": 5}),
        ("length(1)", None),
    ],
)
def test_type_errors_surface_at_evaluation(text, data):
    with pytest.raises(ExpressionEvaluationError):
        ev(text, data)


def test_short_circuit_skips_the_right_side():
    assert ev("false && $Input.x > 1", {}) is False
    assert ev("true || $Input.x > 1", {}) is True


def test_constructors_evaluate_dollar_keys_and_keep_literals():
    constructor = compile_constructor(
        {
            "id.$": "$Input.id",
            "fixed": "$Input.id",
            "nested": {"n.$": "$Input.n * 2"},
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


@given(json_values)
def test_any_json_literal_round_trips_through_the_parser(value):
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
        assert ev(f"$Input.a {op} $Input.b", data) == eval(f"a {op} b")


@given(st.text(max_size=40))
def test_arbitrary_text_either_compiles_or_raises_a_syntax_error(text):
    try:
        compile_expression(text)
    except ExpressionSyntaxError:
        pass


@given(st.lists(st.integers(), max_size=30), st.integers(1, 7))
def test_array_partition_keeps_every_item_in_order(items, size):
    parts = ev(f"arrayPartition($Input, {size})", items)
    assert [x for part in parts for x in part] == items
    assert all(1 <= len(part) <= size for part in parts)
