"""``parse_json``: the bound is exact, and brackets or escapes inside strings do not count."""

from __future__ import annotations

import json

import pytest

from emitflow.api.bodies import MAX_JSON_DEPTH, JsonBodyError, parse_json


def _nested(levels: int, inner: str = "1") -> str:
    return '{"a":' * levels + inner + "}" * levels


def test_the_bound_is_exact() -> None:
    assert parse_json(_nested(MAX_JSON_DEPTH, "null")) is not None
    with pytest.raises(JsonBodyError, match="more than 64 levels deep at /a/a"):
        parse_json(_nested(MAX_JSON_DEPTH + 1, "null"))
    assert parse_json("[" * 5 + "]" * 5, max_depth=5) == [[[[[]]]]]
    with pytest.raises(JsonBodyError):
        parse_json("[" * 6 + "]" * 6, max_depth=5)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"s": "[" * 200 + "{" * 200, "t": ["]]]}}}", '"[[\\"']})
    assert parse_json(text) == json.loads(text)
    # Nor can closing brackets in a string hide real nesting.
    hidden = '[{"s": "' + "]" * 80 + '"}, ' + "[" * 70 + "]" * 70 + ', "' + "[" * 80 + '"]'
    with pytest.raises(JsonBodyError, match="levels deep"):
        parse_json(hidden)


def test_paired_surrogates_pass_and_lone_ones_are_named() -> None:
    assert parse_json('{"k": "\\ud83d\\ude00"}') == {"k": "\U0001f600"}
    with pytest.raises(JsonBodyError, match="surrogate escape at /k/1") as caught:
        parse_json('{"k": ["ok", "x\\udc00"]}')
    assert caught.value.details == {"path": "/k/1"}
    assert not caught.value.syntax


@pytest.mark.parametrize(
    ("text", "syntax"),
    [("NaN", False), ("[1e400]", False), ("-1e309", False), ("9" * 400, False)],
)
def test_numbers_json_cannot_hold_are_refused(text: str, syntax: bool) -> None:
    with pytest.raises(JsonBodyError) as caught:
        parse_json(text)
    assert caught.value.syntax is syntax and caught.value.status == 400


def test_what_is_not_json_is_a_syntax_error() -> None:
    for text in (b"{broken", b"\xff", b"name=Yoda"):
        with pytest.raises(JsonBodyError) as caught:
            parse_json(text)
        assert caught.value.syntax
    assert parse_json(b"1e308") == 1e308
    assert parse_json("9" * 308) == int("9" * 308)
