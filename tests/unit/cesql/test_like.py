"""LIKE matching against a regular-expression reference, and on hostile patterns."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emitflow.cesql.like import like_matcher


def reference(pattern: str, text: str) -> bool:
    """LIKE by the spec's words, as a (backtracking) regular expression."""
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and pattern[index + 1 : index + 2] in ("%", "_"):
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        index += 1
    return re.fullmatch("".join(parts), text, re.DOTALL) is not None


SYMBOLS = st.text(alphabet="ab%_\\.\n", max_size=12)


@given(pattern=SYMBOLS, text=SYMBOLS)
def test_like_agrees_with_the_reference(pattern: str, text: str) -> None:
    assert like_matcher(pattern)(text) is reference(pattern, text)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("abc%", "abcdef", True),
        ("%def", "abcdef", True),
        ("a%f", "abcdef", True),
        ("a%f", "af", True),
        ("ab%bc", "abc", False),  # the prefix and suffix may not overlap
        ("%", "", True),
        ("", "", True),
        ("_", "", False),
        ("a\\%", "a%", True),
        ("a\\%", "ab", False),
        ("a\\b", "a\\b", True),  # a backslash before anything else is itself
        ("%\\", "x\\", True),
    ],
)
def test_like_shapes(pattern: str, text: str, expected: bool) -> None:
    assert like_matcher(pattern)(text) is expected


def test_a_hostile_pattern_matches_in_linear_time() -> None:
    # A backtracking matcher takes geological time here; segment placement is linear.
    pattern = "%a" * 40 + "%b"
    assert like_matcher(pattern)("a" * 20_000) is False
    assert like_matcher(pattern)("a" * 20_000 + "b") is True
    assert like_matcher("%a_%a_%a_%b")("ab" * 10_000 + "a") is False
