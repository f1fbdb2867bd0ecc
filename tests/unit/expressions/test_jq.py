"""The jq expression layer: compile once, variables per evaluation, only our own errors."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emitflow.errors import ExpressionError, FaultError
from emitflow.expressions import (
    compile_expression,
    evaluate_value,
    expression_text,
    is_expression,
    iter_expressions,
)


def test_whole_string_expressions_are_recognised() -> None:
    assert is_expression("${ .a }")
    assert is_expression("  ${.a}  ")
    assert not is_expression("hello ${ .a }")
    assert not is_expression(".a")
    assert not is_expression(3)
    assert expression_text("${ .a.b }") == ".a.b"
    assert expression_text(".a.b") == ".a.b"


def test_the_same_text_is_compiled_once() -> None:
    assert compile_expression("${ .x + 1 }") is compile_expression("${ .x + 1 }")


def test_variables_are_passed_per_evaluation() -> None:
    expr = compile_expression("${ [$item, $index, $context.k] }")
    assert expr.variables == ("context", "index", "item")
    assert expr.evaluate(None, {"item": "a", "index": 0, "context": {"k": 1}}) == ["a", 0, 1]
    assert expr.evaluate(None, {"item": "b", "index": 1}) == ["b", 1, None]


def test_a_typed_value_comes_back_not_text() -> None:
    assert compile_expression("${ .n }").evaluate({"n": 1}) == 1
    assert compile_expression("${ empty }").evaluate({}) is None


def test_value_positions_are_evaluated_recursively() -> None:
    value = {"a": "${ .x }", "b": ["${ $input.y }", "plain", 3], "c": "not ${ .x }"}
    out = evaluate_value(value, {"x": 1}, {"input": {"y": 2}})
    assert out == {"a": 1, "b": [2, "plain", 3], "c": "not ${ .x }"}


def test_a_syntax_error_is_an_expression_error_naming_the_text() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("${ .a | }")
    assert ".a |" in str(caught.value)


def test_a_runtime_failure_is_an_expression_fault_with_its_place() -> None:
    with pytest.raises(FaultError) as caught:
        compile_expression("${ .a + 1 }").evaluate({"a": "x"}, where="/do/0/t")
    problem = caught.value.problem
    assert problem.type.endswith("/errors/expression")
    assert problem.status == 400
    assert problem.instance == "/do/0/t"


def test_expressions_inside_values_are_found_with_their_pointers() -> None:
    found = dict(iter_expressions({"a": ["x", "${ .b }"], "c/d": {"e": "${ 1 }"}}, "/set"))
    assert found == {"/set/a/1": "${ .b }", "/set/c~1d/e": "${ 1 }"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@pytest.mark.slow
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(text=st.text(max_size=40), data=json_values)
def test_no_text_makes_the_layer_raise_anything_but_our_errors(text: str, data: Any) -> None:
    try:
        expr = compile_expression(text)
    except ExpressionError:
        return
    with contextlib.suppress(FaultError):
        expr.evaluate(data, {"context": data})


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    text=st.sampled_from([".a", ". + 1", ".[0]", "keys", "length", "tostring", ".a.b.c", "-(.)"]),
    data=json_values,
)
def test_real_expressions_on_any_data_raise_only_faults(text: str, data: Any) -> None:
    with contextlib.suppress(FaultError):
        compile_expression(text).evaluate(data)


def test_every_compiled_expression_tries_the_fast_path_first() -> None:
    data = {"items": [1, 2, 3]}
    assert compile_expression("${ .items }").evaluate(data) is data["items"]
    # Outside the subset: jq answers (the fast path has nothing to say).
    assert compile_expression("${ .items | map(. * 2) }").fast is None
    assert compile_expression("${ .items | map(. * 2) }").evaluate(data) == [2, 4, 6]
    # A case the fast path refuses at run time (a type error) still gets jq's real error.
    with pytest.raises(FaultError):
        compile_expression("${ .items + 1 }").evaluate(data)


def test_a_fast_text_is_compiled_by_jq_only_when_jq_is_needed() -> None:
    expression = compile_expression("${ .count + 1 }")
    assert expression.fast is not None
    assert expression.evaluate({"count": 1}) == 2
    assert expression._program is None  # the fast path answered: jq never compiled it
    with pytest.raises(FaultError, match="cannot be added"):
        expression.evaluate({"count": "one"})  # the fast path hands it to jq, for its error
    assert expression._program is not None
    assert expression.evaluate({"count": 2}) == 3


def test_the_words_jq_compiles_are_known_without_jq() -> None:
    import jq

    from emitflow.expressions import is_jq_word
    from emitflow.expressions.jqwords import _JQ_WORDS

    listed = jq.compile("builtins").input_value(None).first()
    zero_arity = {name[:-2] for name in listed if name.endswith("/0")}
    assert zero_arity | {"_negate", "true", "false", "null"} == _JQ_WORDS
    for word in _JQ_WORDS:
        jq.compile(word)  # each compiles on its own
    for word in ("orderResult", "foo", "if", "reduce", "and", "def", "__loc__", "_plus"):
        assert not is_jq_word(word)
        with pytest.raises(ValueError):
            jq.compile(word)
