"""Value templates: compiled once per value, strict and loose readings, constants kept as is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from emitflow.errors import FaultError
from emitflow.expressions import (
    Templates,
    compile_expression,
    compile_template,
    lenient,
    loose_expression,
    render_template,
)


def test_strict_evaluates_whole_expressions_at_any_depth_and_keeps_the_rest() -> None:
    template = {
        "total": "${ .a + $item }",
        "list": ["${ .a }", "text", 3],
        "${ .a }": "keys are never evaluated",
        "nested": {"deep": "${ $item * 2 }"},
    }
    assert render_template(template, {"a": 1}, {"item": 2}) == {
        "total": 3,
        "list": [1, "text", 3],
        "${ .a }": "keys are never evaluated",
        "nested": {"deep": 4},
    }


def test_a_value_without_expressions_renders_as_itself_not_a_copy() -> None:
    constant = {"a": [1, {"b": "text"}], "c": ".a"}
    assert compile_template(constant, lambda text: None) is None
    assert render_template(constant, {"a": 5}) is constant
    mixed = {"fixed": {"x": [1, 2]}, "computed": "${ .a }"}
    assert render_template(mixed, {"a": 5})["fixed"] is mixed["fixed"]


def test_loose_reads_jq_where_it_compiles_and_evaluates_and_text_elsewhere() -> None:
    template = {
        "path": ".a",
        "sum": "1 + 1",
        "word": "hello",
        "blank": "  ",
        "not_jq": "Hello World",
        "url": "https://x/{id}",
        "fails": ".a.b",
        "whole": "${ .a }",
    }
    assert render_template(template, {"a": "s"}, mode="loose") == {
        "path": "s",
        "sum": 2,
        "word": "hello",
        "blank": "  ",
        "not_jq": "Hello World",
        "url": "https://x/{id}",
        "fails": ".a.b",  # .b of a string: the evaluation fails, so it is text
        "whole": "s",
    }
    assert loose_expression("hello") is None
    assert loose_expression("application/json") is None
    assert loose_expression(".a") is compile_expression(".a")


def test_a_whole_expression_that_fails_faults_in_both_modes() -> None:
    for mode in ("strict", "loose"):
        with pytest.raises(FaultError):
            render_template({"x": "${ .a.b }"}, {"a": "s"}, mode=mode)


def test_templates_are_compiled_once_per_value_with_the_callers_strings() -> None:
    compiled: list[str] = []

    def strings(text: str) -> Any:
        compiled.append(text)
        return lambda data, variables: f"{variables['prefix']}{text}"

    templates: Templates[Mapping[str, Any]] = Templates(strings)
    value = {"a": "x", "b": ["y"]}
    render = templates.template(value)
    assert templates.template(value) is render
    assert render(None, {"prefix": "p-"}) == {"a": "p-x", "b": ["p-y"]}
    assert compiled == ["x", "y"]
    assert templates.template(dict(value)) is not render  # another value, compiled again


def test_lenient_gives_the_text_back_when_evaluation_faults() -> None:
    expression = compile_expression(".a.b")

    def evaluate(data: Any, variables: Mapping[str, Any]) -> Any:
        return expression.evaluate(data, variables)

    render = lenient(evaluate, ".a.b")
    assert render({"a": {"b": 1}}, {}) == 1
    assert render({"a": "s"}, {}) == ".a.b"
