"""CESQL evaluation: casts, operators, errors and zero values, attributes, entry points."""

from __future__ import annotations

import base64
import enum
import logging
from collections.abc import Iterator, Mapping
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta, timezone

import pytest

from emitflow.cesql import Expression, Failure, Result, compile, evaluate, matches
from emitflow.errors import CesqlError, CesqlParseError

EVENT = {
    "specversion": "1.0",
    "id": "e-1",
    "source": "/orders",
    "type": "com.example.order.created",
    "subject": "o-42",
    "count": 7,
    "flag": True,
    "numtext": "12",
    "booltext": "TRUE",
}


def outcome(text: str, event: Mapping[str, object] = EVENT) -> tuple[object, str | None]:
    result = evaluate(text, event)
    return result.value, (result.error.kind if result.error else None)


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        # Arithmetic: 32 bits, truncating division, remainder signed like the dividend.
        ("count + 1", 8, None),
        ("numtext * 2", 24, None),
        ("-7 / 2", -3, None),
        ("7 / -2", -3, None),
        ("-7 % 2", -1, None),
        ("7 % -2", 1, None),
        ("-2147483648 % -1", 0, None),
        ("2147483647 + 1", 2147483647, "math"),
        ("-2147483648 - 1", -2147483648, "math"),
        ("65536 * 65536", 2147483647, "math"),
        ("-2147483648 / -1", 2147483647, "math"),
        ("-(-2147483648)", 2147483647, "math"),
        ("'x' + 1", 1, "cast"),
        # Equality: the right operand's type picks the overload; a failed cast is false.
        ("TRUE = 1", True, None),
        ("'01' = 1", True, None),
        ("1 = '01'", False, None),
        ("flag = 'true'", True, None),
        ("booltext = TRUE", True, None),
        ("'abc' = 0", False, "cast"),
        ("'abc' != 0", False, "cast"),
        ("1 = TRUE", False, "cast"),  # no implicit Integer -> Boolean, as NOT 10 shows
        ("count <> 8", True, None),
        # Ordering is Integer only.
        ("numtext > count", True, None),
        ("'abc' < 'abd'", False, "cast"),
        # Booleans.
        ("10 AND TRUE", False, "cast"),
        ("NOT 'maybe'", True, "cast"),
        ("'true' AND 'FALSE'", False, None),
        ("FALSE AND missing", False, None),
        ("TRUE OR missing", True, None),
        ("FALSE XOR 'true'", True, None),
        # Errors wind evaluation up: enclosing operators yield their zero values.
        ("missing OR TRUE", False, "missingAttribute"),
        ("(1 / 0 = 0) OR TRUE", False, "math"),
        ("ABS(-2147483648) + 1", 0, "math"),
        ("CONCAT('a', LEFT('b', -1))", "", "functionEvaluation"),
        ("LENGTH(missing)", 0, "missingAttribute"),
        ("missing", False, "missingAttribute"),
        ("missing NOT LIKE 'x'", False, "missingAttribute"),
        ("missing NOT IN (1)", False, "missingAttribute"),
        ("1 IN (missing, 1)", False, "missingAttribute"),
        ("TRUE XOR missing", False, "missingAttribute"),
        # IN casts each item to the left operand's type, and stops at the first match.
        ("subject IN ('o-1', 'o-42')", True, None),
        ("count IN ('7', 8)", True, None),
        ("count IN (1, numtext, 7)", True, None),
        ("1 IN ('1', 'x')", True, None),
        ("1 IN ('x', 1)", False, "cast"),
        ("TRUE IN (1)", False, "cast"),
        ("subject NOT IN ('o-1')", True, None),
        # LIKE casts its operand to String.
        ("count LIKE '7'", True, None),
        ("-count LIKE '-_'", True, None),
        ("flag LIKE 'tr_e'", True, None),
        ("type LIKE 'com.example.%' AND subject = 'o-42'", True, None),
        ("type NOT LIKE '%.created'", False, None),
        # EXISTS, names in any case.
        ("EXISTS id AND EXISTS COUNT", True, None),
        ("EXISTS missing", False, None),
        ("SUBJECT = 'o-42'", True, None),
        # Functions: names in any case; an unknown name or arity is false and missingFunction.
        ("FOO()", False, "missingFunction"),
        ("LENGTH('a', 'b')", False, "missingFunction"),
        ("length('abc')", 3, None),
        ("Concat_Ws('-', 1, TRUE)", "1-true", None),
        ("LEFT('abc', 'x')", "", "cast"),
    ],
)
def test_semantics(text: str, value: object, kind: str | None) -> None:
    got = outcome(text)
    assert got == (value, kind)
    assert type(got[0]) is type(value)


@pytest.mark.parametrize(
    ("raw", "seen"),
    [
        (datetime(2024, 6, 13, 10, 0, tzinfo=UTC), "2024-06-13T10:00:00Z"),
        (
            datetime(2018, 4, 26, 14, 48, 9, tzinfo=timezone(timedelta(hours=2))),
            "2018-04-26T14:48:09+02:00",
        ),
        (b"\x00\xff", base64.b64encode(b"\x00\xff").decode()),
        (2**40, str(2**40)),  # wider than a CloudEvents integer: kept as text
        (1.5, "1.5"),
        ("plain", "plain"),
        (True, True),
        (-5, -5),
    ],
)
def test_attribute_values_as_cesql_sees_them(raw: object, seen: object) -> None:
    result = evaluate("ext", {**EVENT, "ext": raw})
    assert (type(result.value), result.value, result.errors) == (type(seen), seen, ())


def test_a_str_enum_attribute_is_plain_text() -> None:
    class Colour(enum.StrEnum):
        RED = "red"

    event = {**EVENT, "ext": Colour.RED}
    assert type(evaluate("ext", event).value) is str
    assert evaluate("ext = 'red'", event).value is True
    assert evaluate("ext LIKE 'r%'", event).value is True


def test_none_is_an_absent_attribute() -> None:
    event = {**EVENT, "subject": None}
    assert outcome("EXISTS subject", event) == (False, None)
    assert outcome("subject = 'x'", event) == (False, "missingAttribute")
    assert outcome("subject LIKE 'x%'", event) == (False, "missingAttribute")


def test_required_attributes_always_exist() -> None:
    # The input is assumed to be a valid event (§3.4.4), so EXISTS does not look.
    assert evaluate("EXISTS id AND EXISTS type", {}).value is True


def test_errors_carry_kind_message_and_position() -> None:
    result = evaluate("count + missing", EVENT)
    assert result.errors == (
        Failure(
            kind="missingAttribute", message="the event has no attribute 'missing'", position=8
        ),
    )
    assert result.error is result.errors[0]
    assert not result.ok
    assert str(result.error) == "the event has no attribute 'missing'"
    assert evaluate("5 / 0", EVENT).errors[0].position == 2


def test_a_clean_result() -> None:
    result = evaluate("count = 7", EVENT)
    assert result == Result(value=True)
    assert result.ok and result.error is None


def test_failures_become_exceptions_of_the_project_tree() -> None:
    parse = evaluate("1 +", EVENT).error
    math = evaluate("1 / 0", EVENT).error
    assert parse is not None and math is not None
    assert isinstance(parse.to_exception(), CesqlParseError)
    exc = math.to_exception()
    assert isinstance(exc, CesqlError) and not isinstance(exc, CesqlParseError)
    assert "math" in str(exc)


def test_a_compiled_expression_is_a_frozen_reusable_value() -> None:
    expr = compile("subject = 'o-42'")
    assert isinstance(expr, Expression)
    assert str(expr) == "subject = 'o-42'"
    with pytest.raises(FrozenInstanceError):
        expr.text = "other"  # type: ignore[misc]
    assert expr == compile("subject = 'o-42'")
    assert hash(expr) == hash(compile("subject = 'o-42'"))
    assert [expr.evaluate({**EVENT, "subject": s}).value for s in ("o-42", "o-1", "o-42")] == [
        True,
        False,
        True,
    ]
    assert evaluate(expr, EVENT) == expr.evaluate(EVENT)


def test_matches_needs_a_clean_true() -> None:
    assert matches("subject = 'o-42'", EVENT) is True
    assert matches("subject = 'o-1'", EVENT) is False
    assert matches("count", EVENT) is False  # an integer is not true
    assert matches("NOT 10", EVENT) is False  # true, but with a cast error
    assert matches("TRUE OR missing", EVENT) is True  # never evaluated, so no error
    assert matches("missing OR TRUE", EVENT) is False
    assert matches("ABC(", EVENT) is False
    assert matches(compile("EXISTS subject"), EVENT) is True


class _Broken(Mapping[str, object]):
    def __getitem__(self, key: str) -> object:
        raise OSError("attribute store is down")

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def test_a_broken_event_is_a_generic_error_not_an_exception(
    caplog: pytest.LogCaptureFixture,
) -> None:
    result = evaluate("subject = 'x'", _Broken())
    assert result.value is False
    assert result.error is not None and result.error.kind == "generic"
    assert "attribute store is down" in result.error.message
    with caplog.at_level(logging.WARNING, logger="emitflow.cesql.expression"):
        assert matches("subject = 'x'", _Broken()) is False
    assert "could not read the event" in caplog.text


def test_evaluate_refuses_a_non_expression_without_raising() -> None:
    result = evaluate(42, EVENT)  # type: ignore[arg-type]
    assert result.value is False
    assert result.error is not None and result.error.kind == "generic"
    assert matches(42, EVENT) is False  # type: ignore[arg-type]
