"""The CESQL parser: precedence, literals, names, and errors that say where and what."""

from __future__ import annotations

import pytest

from emitflow.cesql import compile, evaluate
from emitflow.cesql.nodes import Attribute, Binary, Call, Exists, In, Like, Literal, Logic, Not
from emitflow.cesql.parser import MAX_DEPTH, MAX_NESTING
from emitflow.errors import CesqlParseError

EVENT = {"specversion": "1.0", "id": "e-1", "source": "/s", "type": "t", "count": 7}


def tree(text: str) -> object:
    return compile(text).tree


def value(text: str) -> object:
    result = evaluate(text, EVENT)
    assert result.errors == (), result.errors
    return result.value


def test_multiplication_binds_tighter_than_addition() -> None:
    node = tree("1 + 2 * 3")
    assert isinstance(node, Binary) and node.op == "+"
    assert isinstance(node.right, Binary) and node.right.op == "*"


def test_equal_precedence_is_left_to_right() -> None:
    node = tree("8 - 4 - 2")
    assert isinstance(node, Binary) and isinstance(node.left, Binary)
    assert value("8 - 4 - 2") == 2
    assert value("8 / 4 / 2") == 1


def test_and_or_xor_share_one_level_left_to_right() -> None:
    node = tree("a OR b AND c")
    assert isinstance(node, Logic)
    assert [op for op, _ in node.rest] == ["OR", "AND"]
    # (TRUE OR FALSE) AND FALSE, as the spec's single level reads; SQL would say TRUE.
    assert value("TRUE OR FALSE AND FALSE") is False
    assert value("TRUE XOR TRUE XOR TRUE") is True


def test_not_binds_tighter_than_comparison_and_like() -> None:
    assert isinstance(tree("NOT a = b"), Binary)
    assert value("NOT FALSE = FALSE") is False  # (NOT FALSE) = FALSE
    node = tree("NOT x LIKE 'a'")
    assert isinstance(node, Like) and isinstance(node.operand, Not)


def test_like_and_in_bind_tighter_than_arithmetic() -> None:
    node = tree("1 + count IN (7)")
    assert isinstance(node, Binary) and isinstance(node.right, In)


def test_not_like_and_not_in() -> None:
    node = tree("x NOT LIKE 'a%'")
    assert isinstance(node, Like) and node.negated and node.pattern == "a%"
    node = tree("x NOT IN (1, 'a', TRUE)")
    assert isinstance(node, In) and node.negated
    assert [item.value for item in node.items if isinstance(item, Literal)] == [1, "a", True]


def test_keywords_and_names_ignore_case() -> None:
    assert value("true aNd NoT false") is True
    assert tree("EXISTS SOURCE") == Exists(position=0, name="source")
    assert tree("Count") == Attribute(position=0, name="count")
    node = tree("concat_ws(',')")
    assert isinstance(node, Call) and node.name == "CONCAT_WS"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-2147483648", -(2**31)),
        ("- 2147483648", -(2**31)),
        ("2147483647", 2**31 - 1),
        ("+5", 5),
        ("1 + +5", 6),
        ("4 -1", 3),  # a binary minus: the sign is not glued to the digits
        ("--10", 10),
        ("007", 7),
    ],
)
def test_integer_literals(text: str, expected: int) -> None:
    assert value(text) == expected


@pytest.mark.parametrize("text", ["2147483648", "-2147483649", "9" * 5000, "+ 5", "+count"])
def test_bad_integer_literals(text: str) -> None:
    with pytest.raises(CesqlParseError):
        compile(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'it\\'s'", "it's"),
        ('"say \\"hi\\""', 'say "hi"'),
        ("'a\"b'", 'a"b'),
        ("'a\\\\'", "a\\\\"),  # an escaped backslash does not escape the closing quote
        ("'a\\_b'", "a\\_b"),  # kept for LIKE, whose escapes these are
        ("''", ""),
        ("'line\nbreak'", "line\nbreak"),
    ],
)
def test_string_literals(text: str, expected: str) -> None:
    assert value(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ABC(", "at column 5, expected an expression, found the end of the expression"),
        ("a b", "at column 3, expected an operator or the end of the expression, found 'b'"),
        ("x LIKE y", "at column 8, expected a string literal pattern after LIKE, found 'y'"),
        ("x LIKE 123", "expected a string literal pattern after LIKE"),
        ("x IN ()", "at column 7, expected an expression, found ')'"),
        ("x IN 1", "expected '(' to open the set after IN"),
        ("(1 + 2", "expected ')' to close the '(' at column 1"),
        ("'open", "at column 1, unterminated string literal"),
        ("1 @ 2", "at column 3, unexpected character '@'"),
        ("foo_bar", "'foo_bar' is not a valid attribute name"),
        ("FOO1(2)", "'FOO1' is not a valid function name"),
        ("EXISTS (a)", "expected an attribute name after EXISTS"),
        ("2147483648", "outside the 32-bit range"),
        ("TRUE AND\n(", "at line 2, column 2"),
        ("", "expected an expression, found the end of the expression"),
    ],
)
def test_parse_errors_say_where_and_what(text: str, message: str) -> None:
    with pytest.raises(CesqlParseError) as caught:
        compile(text)
    assert message in str(caught.value)
    result = evaluate(text, EVENT)
    assert result.error is not None and result.error.kind == "parse"
    assert result.error.message == str(caught.value)
    assert result.value is False


def test_parse_failure_position_is_an_offset() -> None:
    result = evaluate("ABC(", EVENT)
    assert result.error is not None and result.error.position == 4


@pytest.mark.parametrize(
    "text",
    [
        "(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1),
        "NOT " * (MAX_NESTING + 1) + "TRUE",
        "-" * (MAX_NESTING + 2) + "1",
        "x IN (" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1),
        "ABS(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1),
        "1" + " + 1" * MAX_DEPTH,
        "(" * 10_000,
    ],
)
def test_nesting_is_bounded_with_a_parse_error(text: str) -> None:
    with pytest.raises(CesqlParseError, match="nest"):
        compile(text)


def test_nesting_within_the_bounds_compiles() -> None:
    depth = MAX_NESTING
    assert value("(" * depth + "1" + ")" * depth) == 1
    assert value("1" + " + 1" * (MAX_DEPTH - 1)) == MAX_DEPTH


def test_long_logic_runs_are_not_nesting() -> None:
    text = " OR ".join(f"count = {n}" for n in range(2000))
    assert value(text) is True
    assert value(" AND ".join(["TRUE"] * 2000)) is True


def test_exists_takes_digit_names() -> None:
    assert tree("EXISTS 123") == Exists(position=0, name="123")
