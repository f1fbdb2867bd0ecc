"""Durations at run time: ISO 8601 (``PT30S``), inline (``{minutes: 1}``) or ``${ }`` yielding one.

The loader turns literal durations into seconds already; only expressions are left to the run.
Years and months have no fixed length: a year counts as 365 days and a month as 30, as the
loader does.
"""

from __future__ import annotations

from typing import Any

from emitflow.dsl.model import Duration
from emitflow.errors import FaultError, Problem
from emitflow.runner.context import Frame
from emitflow.runner.evaluation import evaluate

__all__ = ["INLINE_UNITS", "parse_duration", "seconds"]

#: The keys of an inline duration and their length in seconds.
INLINE_UNITS = {
    "days": 86400.0,
    "hours": 3600.0,
    "minutes": 60.0,
    "seconds": 1.0,
    "milliseconds": 0.001,
}


def seconds(duration: Duration, data: Any, frame: Frame) -> float:
    """The duration in seconds; an expression is evaluated on ``data``."""
    if duration.seconds is not None:
        return duration.seconds
    if duration.expression is None:
        return 0.0
    value = evaluate(duration.expression, data, frame)
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise FaultError(
            Problem.of(
                "expression",
                title="Invalid Duration",
                detail=f"{duration.expression} gave {value!r}: {exc}",
                instance=frame.where,
            )
        ) from exc


def parse_duration(value: Any) -> float:
    """Seconds from an ISO 8601 string, an inline object, or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration is an ISO 8601 string such as 'PT30S' or {seconds: 30}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, dict):
        return _inline(value)
    if isinstance(value, str):
        return _iso(value)
    raise ValueError("a duration is an ISO 8601 string such as 'PT30S' or {seconds: 30}")


def _inline(value: dict[str, Any]) -> float:
    unknown = [key for key in value if key not in INLINE_UNITS]
    if unknown or not value:
        raise ValueError(f"an inline duration has only the keys {', '.join(INLINE_UNITS)}")
    total = 0.0
    for key, amount in value.items():
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
            raise ValueError(f"'{key}' must be a non-negative number")
        total += amount * INLINE_UNITS[key]
    return total


def _iso(text: str) -> float:
    import isodate  # here: runs without ISO durations do not pay for its import

    try:
        parsed = isodate.parse_duration(text.strip())
    except (isodate.ISO8601Error, ValueError) as exc:
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as 'PT30S'") from exc
    if isinstance(parsed, isodate.Duration):
        days = float(parsed.years) * 365 + float(parsed.months) * 30
        total = days * 86400 + parsed.tdelta.total_seconds()
    else:
        total = parsed.total_seconds()
    if total < 0:
        raise ValueError("a duration cannot be negative")
    return float(total)
