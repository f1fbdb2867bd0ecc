"""How stored values are encoded, once for every backend: JSON, timestamps and event positions.

A position ``"<epoch_ms>-<seq>"`` is kept as one integer, ``epoch_ms << 20 | seq``: it sorts like
the pair, fits a signed 64-bit column until the year 2109, and makes "the next position" a single
``max(now_ms << 20, last + 1)``: the sequence counts up within a millisecond and, should it ever
pass 2**20 in one millisecond (or the clock go back), the position simply moves on to the next
millisecond, so positions stay strictly increasing whatever the clock does.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from emitflow.errors import StoreError

__all__ = [
    "MAX_POSITION_MS",
    "MAX_POSITION_SEQ",
    "POSITION_PATTERN",
    "SEQ_BITS",
    "dumps",
    "epoch_ms",
    "from_micros",
    "json_copy",
    "loads",
    "next_position",
    "position_bounds",
    "position_key",
    "position_ms",
    "position_problem",
    "position_text",
    "to_micros",
    "utc",
    "utc_or_none",
]

SEQ_BITS = 20
_SEQ_LIMIT = 1 << SEQ_BITS
_MS_LIMIT = 1 << 42
#: The text form of a position, for whoever checks one before it reaches a store (the API's
#: cursors): ``<epoch_ms>-<seq>`` with at most 13 and 7 digits; ``position_problem`` adds the
#: ranges a pattern cannot say.
POSITION_PATTERN = r"^(\d{1,13})-(\d{1,7})$"
#: The largest parts a position holds: epoch milliseconds below 2**42, sequence below 2**20.
MAX_POSITION_MS = _MS_LIMIT - 1
MAX_POSITION_SEQ = _SEQ_LIMIT - 1
_POSITION = re.compile(POSITION_PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def position_problem(text: object) -> str | None:
    """What is wrong with a position's text (``None`` when a store can hold it)."""
    match = _POSITION.match(text) if isinstance(text, str) else None
    if match is None:
        return "expected '<epoch_ms>-<seq>' like '1606511826306-0'"
    if int(match[1]) > MAX_POSITION_MS:
        return f"the milliseconds part is past the largest a position holds, {MAX_POSITION_MS}"
    if int(match[2]) > MAX_POSITION_SEQ:
        return f"the sequence part is past the largest a position holds, {MAX_POSITION_SEQ}"
    return None


def position_key(text: str) -> int:
    """The integer key of a position ``"<epoch_ms>-<seq>"``; ``StoreError`` if malformed."""
    problem = position_problem(text)
    if problem is not None:
        raise StoreError(f"invalid event position {text!r}: {problem}")
    millis, _, seq = text.partition("-")
    return int(millis) << SEQ_BITS | int(seq)


def position_text(key: int) -> str:
    """The ``"<epoch_ms>-<seq>"`` form of a position key."""
    return f"{key >> SEQ_BITS}-{key & (_SEQ_LIMIT - 1)}"


def position_ms(key: int) -> int:
    """The millisecond part of a position key (the event's indexed time)."""
    return key >> SEQ_BITS


def next_position(last: int, now_ms: int) -> int:
    """The position after ``last`` at time ``now_ms``: strictly greater, whatever the clock says."""
    return max(now_ms << SEQ_BITS, last + 1)


def position_bounds(
    since: datetime | None, until: datetime | None
) -> tuple[int | None, int | None]:
    """Exclusive position bounds of indexed times ``since <= t < until``, clamped to what a
    position can hold (times before 1970 or far in the future bound nothing more)."""
    lower = None if since is None else (_clamp_ms(epoch_ms(since)) << SEQ_BITS) - 1
    upper = None if until is None else _clamp_ms(epoch_ms(until)) << SEQ_BITS
    return lower, upper


def _clamp_ms(millis: int) -> int:
    # Positions are signed 64-bit integers: epoch milliseconds shifted left by SEQ_BITS.
    return min(max(millis, 0), (1 << (63 - SEQ_BITS)) - 1)


# One encoder for every value: json.dumps with options builds a new one per call, which cost
# as much as encoding the small values of a run's records.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps(value: Any) -> str:
    """Compact JSON text; ``StoreError`` naming the problem when the value is not JSON."""
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"value cannot be stored as JSON: {exc}") from exc


def loads(text: str | None) -> Any:
    """The value of stored JSON text (``None`` stays ``None``)."""
    return None if text is None else json.loads(text)


def json_copy(value: Any) -> Any:
    """A fresh copy of a JSON value, exactly as a database round trip would give it back."""
    return None if value is None else json.loads(dumps(value))


def to_micros(moment: datetime) -> int:
    """Microseconds since the epoch; exact (no float), and refusing naive datetimes."""
    zone = moment.tzinfo
    if zone is not UTC and (zone is None or moment.utcoffset() is None):
        raise StoreError(f"timestamp {moment.isoformat()} has no timezone; use aware UTC times")
    return (moment - _EPOCH) // _MICRO


def from_micros(micros: int) -> datetime:
    """The UTC datetime of microseconds since the epoch."""
    return _EPOCH + timedelta(microseconds=micros)


def utc(moment: datetime) -> datetime:
    """The same instant in UTC, as a database round trip would give it back."""
    return from_micros(to_micros(moment))


def utc_or_none(moment: datetime | None) -> datetime | None:
    """``utc`` that lets ``None`` through."""
    return None if moment is None else utc(moment)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch."""
    return to_micros(moment) // 1000
