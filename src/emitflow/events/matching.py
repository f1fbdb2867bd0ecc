"""DSL event filters (``listen.to``, ``schedule.on``): attribute matching and correlation.

An event matches a filter when every attribute named in ``with`` is present and matches:
a ``${ }`` value is a predicate evaluated on that attribute's value; any other string is a
regular expression applied with search semantics (anchor it with ``^…$`` for a whole match);
an object matches when each of its keys matches the event's value at that key (recursively, so
``data: {kind: order}`` matches any data whose ``kind`` is ``order``); other values compare equal.
Correlation keys are extracted with their ``from`` expression on the whole event (its
structured JSON form); with ``expect`` (an expression, ``${ }`` optional, whose ``.`` is the
listening task's input, as for every task-level expression; a text that is not jq, such as
``c-2``, is compared as it is) the value must equal it; without it
the first value seen becomes the expectation for the events that follow.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from emitflow.dsl.model import EventFilter
from emitflow.errors import ExpressionError
from emitflow.expressions import Expression, compile_expression, is_expression

__all__ = ["correlation_keys", "event_matches"]


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _value_matches(expected: Any, actual: Any, variables: Mapping[str, Any]) -> bool:
    if isinstance(expected, str):
        if is_expression(expected):
            return compile_expression(expected).evaluate(actual, variables) is True
        if not isinstance(actual, str):
            return False
        regex = _regex(expected)
        return actual == expected if regex is None else regex.search(actual) is not None
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return False
        return all(
            key in actual and _value_matches(value, actual[key], variables)
            for key, value in expected.items()
        )
    return bool(expected == actual)


@lru_cache(maxsize=1024)
def _expectation(text: str) -> Expression | None:
    """``expect`` as jq, or ``None`` for a text that is not jq (compared as it is)."""
    try:
        return compile_expression(text)
    except ExpressionError:
        return None


def event_matches(
    flt: EventFilter, event: Mapping[str, Any], variables: Mapping[str, Any] | None = None
) -> bool:
    """True when the event (structured JSON form) satisfies every ``with`` attribute."""
    bound = variables or {}
    for name, expected in flt.with_.items():
        if name not in event:
            return False
        if not _value_matches(expected, event[name], bound):
            return False
    return True


def correlation_keys(
    flt: EventFilter,
    event: Mapping[str, Any],
    expected: Mapping[str, Any],
    variables: Mapping[str, Any] | None = None,
    data: Any = None,
) -> dict[str, Any] | None:
    """The event's correlation values, or None when one differs from what is expected.

    ``expected`` holds values already resolved (from earlier events); a filter's own ``expect``
    is evaluated on ``data`` (the listening task's input) with the run's variables and wins.
    """
    bound = variables or {}
    values: dict[str, Any] = {}
    for key, corr in flt.correlate.items():
        value = compile_expression(corr.from_).evaluate(event, bound)
        if corr.expect is not None:
            expectation = _expectation(corr.expect)
            want = corr.expect if expectation is None else expectation.evaluate(data, bound)
            if value != want:
                return None
        elif key in expected and expected[key] != value:
            return None
        values[key] = value
    return values
