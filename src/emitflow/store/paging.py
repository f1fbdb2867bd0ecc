"""Cursor pagination shared by every backend: newest first, with ``before``/``after`` cursors.

A window reads at most ``limit`` items strictly between its bounds. Without cursors, or with
``before``, it reads downwards from the newest end (the page next to ``before``); with ``after``
alone it reads upwards from ``after`` (the page next to it, so a tail misses nothing) and turns
the result newest first. Backends fetch ``limit + 1`` rows in reading order and let
``make_page`` decide ``has_more``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from emitflow.errors import StoreError
from emitflow.store.records import Page

__all__ = ["MAX_LIMIT", "Window", "lease_end", "make_page", "scan"]

T = TypeVar("T")
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Window:
    """A page request in integer keys: at most ``limit`` keys strictly between ``lower`` and
    ``upper``, read upwards when ``ascending``, else downwards."""

    limit: int
    lower: int | None = None
    upper: int | None = None
    ascending: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.limit, int) or not 1 <= self.limit <= MAX_LIMIT:
            raise StoreError(
                f"page limit must be an integer from 1 to {MAX_LIMIT}, not {self.limit!r}"
            )

    @classmethod
    def of(cls, limit: int, before: int | None, after: int | None) -> Window:
        """The window of a request with ``before``/``after`` cursors."""
        return cls(limit, after, before, ascending=after is not None and before is None)

    def narrowed(self, lower: int | None, upper: int | None) -> Window:
        """The same read, also bounded by ``lower``/``upper`` (e.g. a time range)."""
        if lower is not None and self.lower is not None:
            lower = max(lower, self.lower)
        if upper is not None and self.upper is not None:
            upper = min(upper, self.upper)
        return Window(
            self.limit,
            self.lower if lower is None else lower,
            self.upper if upper is None else upper,
            ascending=self.ascending,
        )


def make_page(
    rows: Sequence[T], window: Window, cursor: Callable[[T], str], total: int | None
) -> Page[T]:
    """The page of ``rows`` fetched in reading order (up to ``limit + 1`` of them)."""
    items = list(rows[: window.limit])
    if window.ascending:
        items.reverse()
    return Page(
        items=tuple(items),
        total_count=total,
        start_cursor=cursor(items[0]) if items else None,
        end_cursor=cursor(items[-1]) if items else None,
        has_more=len(rows) > window.limit,
    )


def scan(keys: Sequence[int], window: Window, match: Callable[[int], bool]) -> list[int]:
    """The keys of a window over ascending ``keys``, in reading order, up to ``limit + 1``."""
    found: list[int] = []
    for key in _reading_order(keys, window):
        if match(key):
            found.append(key)
            if len(found) > window.limit:
                break
    return found


def _reading_order(keys: Sequence[int], window: Window) -> Iterator[int]:
    bottom = 0 if window.lower is None else bisect_right(keys, window.lower)
    top = len(keys) if window.upper is None else bisect_left(keys, window.upper)
    indexes = range(bottom, top) if window.ascending else range(top - 1, bottom - 1, -1)
    for index in indexes:
        yield keys[index]


def lease_end(now: datetime, limit: int, lease_seconds: float) -> datetime:
    """When a claim of ``limit`` rows made ``now`` ends; checks both arguments."""
    if not isinstance(limit, int) or limit < 1:
        raise StoreError(f"claim limit must be a positive integer, not {limit!r}")
    if not lease_seconds >= 0:
        raise StoreError(f"lease_seconds must be >= 0, not {lease_seconds!r}")
    return now + timedelta(seconds=lease_seconds)
