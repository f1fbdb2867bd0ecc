"""Property tests: no text makes ``compile`` raise anything but a parse error, or ``evaluate``
raise at all; valid expressions always give a well-typed, consistent result."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emitflow.cesql import compile, evaluate, matches
from emitflow.cesql.values import INT_MAX, INT_MIN
from emitflow.errors import CesqlParseError

#: Fuzzing and schemathesis take their time: left out of ``make test-fast``.
pytestmark = pytest.mark.slow

EVENT = {
    "specversion": "1.0",
    "id": "e-1",
    "source": "/s",
    "type": "com.example.t",
    "subject": "o-42",
    "count": 7,
    "flag": True,
    "numtext": "-12",
}
KINDS = {"parse", "math", "cast", "missingFunction", "functionEvaluation", "missingAttribute"}

# Characters that reach every corner of the lexer and parser, plus any text at all.
_CESQL_ALPHABET = "()'\"\\%_-+*/<>=!, .\t\nabcxyzTRUEFALSNOTIKXIS0129"
TEXTS = st.one_of(
    st.text(),
    st.text(alphabet=_CESQL_ALPHABET, max_size=60),
    st.lists(
        st.sampled_from(
            [
                "NOT",
                "AND",
                "OR",
                "XOR",
                "LIKE",
                "IN",
                "EXISTS",
                "(",
                ")",
                ",",
                "'a%'",
                "1",
                "-",
                "+",
                "=",
                "<>",
                "subject",
                "count",
                "missing",
                "LEFT",
                "CONCAT",
                "TRUE",
                "2147483648",
                "-2147483648",
                "'",
                '"',
                "\\",
            ]
        ),
        max_size=15,
    ).map(" ".join),
)


def _check(text: str) -> None:
    try:
        compiled = compile(text)
    except CesqlParseError:
        compiled = None
    result = evaluate(text, EVENT)
    if compiled is None:
        assert result.error is not None and result.error.kind == "parse"
        assert result.value is False
        return
    assert result == compiled.evaluate(EVENT)
    assert type(result.value) in (bool, int, str)
    if type(result.value) is int:
        assert INT_MIN <= result.value <= INT_MAX
    assert {failure.kind for failure in result.errors} <= KINDS
    assert matches(compiled, EVENT) is (result.value is True and not result.errors)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_any_text_compiles_or_fails_to_parse_and_evaluate_never_raises(text: str) -> None:
    _check(text)


def _string(value: str) -> str:
    return "'" + value.replace("\\", "").replace("'", "\\'") + "'"


ATOMS = st.one_of(
    st.integers(INT_MIN, INT_MAX).map(str),
    st.text(alphabet="ab1-%_ ", max_size=5).map(_string),
    st.sampled_from(["TRUE", "false", "subject", "count", "flag", "numtext", "missing", "ID"]),
    st.sampled_from(["EXISTS subject", "EXISTS missing"]),
)
BINARY = ["+", "-", "*", "/", "%", "=", "!=", "<>", "<", "<=", ">", ">=", "AND", "OR", "XOR"]
FUNCTIONS = [
    "LENGTH",
    "CONCAT",
    "CONCAT_WS",
    "lower",
    "UPPER",
    "TRIM",
    "LEFT",
    "RIGHT",
    "SUBSTRING",
    "ABS",
    "INT",
    "BOOL",
    "STRING",
    "NOPE",
]


def _compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, st.sampled_from(BINARY), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda x: f"NOT {x}"),
        inner.map(lambda x: f"-{x}"),
        st.tuples(inner, st.booleans(), st.text(alphabet="ab%_\\", max_size=4)).map(
            lambda t: f"({t[0]} {'NOT ' if t[1] else ''}LIKE {_string(t[2])})"
        ),
        st.tuples(inner, st.lists(inner, min_size=1, max_size=3)).map(
            lambda t: f"({t[0]} IN ({', '.join(t[1])}))"
        ),
        st.tuples(st.sampled_from(FUNCTIONS), st.lists(inner, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
    )


EXPRESSIONS = st.recursive(ATOMS, _compound, max_leaves=12)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS)
def test_valid_expressions_give_typed_consistent_results(text: str) -> None:
    compile(text)  # every generated expression is valid CESQL
    _check(text)
