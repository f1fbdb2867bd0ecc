"""URI templates: RFC 6570 simple expansion of top-level input keys, as the DSL defines it."""

from __future__ import annotations

from typing import Any

import pytest

from emitflow.errors import FaultError, error_kind
from emitflow.http.uritemplate import expand, variables

PETSTORE = "https://petstore.swagger.io/v2/pet/findByStatus?status={status}"


def test_a_variable_is_filled_from_the_top_level_key() -> None:
    assert expand(PETSTORE, {"status": "available"}).endswith("?status=available")


def test_a_dotted_name_is_a_key_not_a_path() -> None:
    values = {"a.b": "flat", "a": {"b": "nested"}}
    assert expand("/x/{a.b}", values) == "/x/flat"


@pytest.mark.parametrize("values", [{}, {"status": None}, None, [1, 2], "text"])
def test_a_missing_or_null_variable_expands_to_nothing(values: Any) -> None:
    assert expand("/pets/{status}/all", values) == "/pets//all"


@pytest.mark.parametrize(
    ("value", "text"),
    [(1, "1"), (2.5, "2.5"), (True, "true"), (False, "false"), ("a b/c?d", "a%20b%2Fc%3Fd")],
)
def test_scalars_are_written_as_json_text_and_percent_encoded(value: Any, text: str) -> None:
    assert expand("/pet/{petId}", {"petId": value}) == f"/pet/{text}"


def test_unicode_is_percent_encoded_as_utf8() -> None:
    assert expand("/{name}", {"name": "Milou é"}) == "/Milou%20%C3%A9"


def test_several_variables_in_one_expression_are_joined_by_commas() -> None:
    assert expand("/{x,missing,y}", {"x": 1, "y": "b"}) == "/1,b"


@pytest.mark.parametrize(("value", "kind"), [({"k": 1}, "an object"), ([1], "an array")])
def test_a_non_scalar_value_is_an_expression_error(value: Any, kind: str) -> None:
    with pytest.raises(FaultError) as caught:
        expand("/pet/{petId}", {"petId": value})
    problem = caught.value.problem
    assert error_kind(problem.type) == "expression"
    assert problem.status == 400
    assert "{petId}" in (problem.detail or "") and kind in (problem.detail or "")


@pytest.mark.parametrize("template", ["/{+path}", "/x{?q}", "/{list*}", "/{name:3}", "/{}"])
def test_richer_rfc6570_forms_are_refused_with_a_pointer_to_expressions(template: str) -> None:
    with pytest.raises(FaultError) as caught:
        expand(template, {"path": "a", "q": 1, "list": "x", "name": "abcdef"})
    assert error_kind(caught.value.problem.type) == "expression"
    assert "${" in (caught.value.problem.detail or "")


def test_text_without_expressions_is_unchanged() -> None:
    uri = "https://example.com/a%20b?x=1&y=2"
    assert expand(uri, {"x": "ignored"}) == uri


def test_variables_lists_each_name_once_in_order() -> None:
    assert variables("/{b}/{a}/{b,c}") == ("b", "a", "c")
