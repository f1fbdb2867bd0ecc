"""The built-in CESQL functions, beyond what the TCK covers."""

from __future__ import annotations

import pytest

from emitflow.cesql import evaluate
from emitflow.cesql.failures import Failure
from emitflow.cesql.functions import BUILTINS, resolve

EVENT = {"specversion": "1.0", "id": "e-1", "source": "/s", "type": "t"}


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("INT('+5')", 5, None),
        ("INT('-2147483648')", -2147483648, None),
        ("INT('2147483648')", 0, "cast"),
        ("INT(' 5')", 0, "cast"),
        ("INT('1_000')", 0, "cast"),
        ("INT('\u0663')", 0, "cast"),  # a non-ASCII digit
        ("INT('')", 0, "cast"),
        ("BOOL('True')", True, None),
        ("BOOL('yes')", False, "cast"),
        ("STRING(-0)", "0", None),
        ("STRING(INT('007'))", "7", None),
        ("TRIM('\u3000 a \u00a0\u2028')", "a", None),
        ("TRIM(' \x1ca\x1f ')", "\x1ca\x1f", None),  # separators are not White_Space
        ("TRIM('')", "", None),
        ("LOWER('ÀB')", "àb", None),
        ("LENGTH('naïve')", 5, None),
        ("LENGTH(-12)", 3, None),
        ("CONCAT(1, TRUE, 'x')", "1truex", None),
        ("CONCAT_WS(', ', 'a', 'b')", "a, b", None),
        ("LEFT('abc', 0)", "", None),
        ("RIGHT('abc', 0)", "", None),
        ("RIGHT('abc', 1)", "c", None),
        ("RIGHT('abc', -1)", "abc", "functionEvaluation"),
        ("SUBSTRING('abc', 3)", "c", None),
        ("SUBSTRING('abc', -3)", "abc", None),
        ("SUBSTRING('abc', -1, 5)", "c", None),
        ("SUBSTRING('abc', 2, 0)", "", None),
        ("SUBSTRING('abc', 4)", "", "functionEvaluation"),
        ("SUBSTRING('abc', 1, -1)", "", "functionEvaluation"),
        ("SUBSTRING('', 0)", "", None),
        ("SUBSTRING('', 1)", "", "functionEvaluation"),
        ("ABS(-2147483647)", 2147483647, None),
        ("ABS('-3')", 3, None),
        ("ABS('x')", 0, "cast"),
        ("SUBSTRING(1234, '2', 2)", "23", None),
    ],
)
def test_builtins(text: str, value: object, kind: str | None) -> None:
    result = evaluate(text, EVENT)
    assert (type(result.value), result.value) == (type(value), value)
    assert (result.error.kind if result.error else None) == kind


def test_dispatch_by_arity() -> None:
    two = resolve("substring", 2)
    three = resolve("SUBSTRING", 3)
    assert not isinstance(two, Failure) and two.params == (str, int)
    assert not isinstance(three, Failure) and three.params == (str, int, int)
    concat = resolve("CONCAT", 7)
    assert not isinstance(concat, Failure) and concat.variadic is str


def test_an_unknown_function_or_arity_says_what_exists() -> None:
    wrong = resolve("LEFT", 1)
    assert isinstance(wrong, Failure) and wrong.kind == "missingFunction"
    assert "LEFT(String, Integer)" in wrong.message
    unknown = resolve("NOPE", 0)
    assert isinstance(unknown, Failure) and "CONCAT_WS" in unknown.message


def test_every_builtin_the_spec_requires_is_there() -> None:
    required = {"LENGTH", "CONCAT", "CONCAT_WS", "LOWER", "UPPER", "TRIM", "LEFT", "RIGHT"}
    required |= {"SUBSTRING", "ABS", "INT", "BOOL", "STRING"}
    assert required == set(BUILTINS)
