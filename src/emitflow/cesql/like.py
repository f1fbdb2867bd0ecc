"""LIKE patterns (spec §3.4.3) compiled once into a matcher that runs in linear-ish time.

``%`` is any run of characters, ``_`` exactly one, ``\\%`` and ``\\_`` the characters themselves;
any other backslash is an ordinary character, as the spec escapes only the two wildcards.
The pattern is split at its ``%`` signs into fixed-length segments that are placed leftmost in
turn; that is exact for such patterns and, unlike a ``.*`` regular expression, cannot
backtrack exponentially on a hostile pattern such as ``'%a%a%a%a%a%a%b'``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeAlias

__all__ = ["Matcher", "like_matcher"]

Matcher: TypeAlias = Callable[[str], bool]

# One segment: a plain string, or a compiled regex when it holds "_" wildcards (its width apart,
# since every segment matches a fixed number of characters).
_Segment: TypeAlias = "str | re.Pattern[str]"
_Sized: TypeAlias = "tuple[_Segment, int]"


def like_matcher(pattern: str) -> Matcher:
    """A function telling whether a string matches the LIKE ``pattern``."""
    segments = [(_compile(parts), len(parts)) for parts in _split(pattern)]
    if len(segments) == 1:
        return _exact(segments[0][0])
    (first, _), *middle, (last, _) = segments
    if not middle and isinstance(first, str) and isinstance(last, str):
        return _anchored(first, last)
    return lambda text: _search(segments, text)


def _split(pattern: str) -> list[list[str | None]]:
    """The pattern's ``%``-separated segments; in each, ``None`` stands for ``_``."""
    segments: list[list[str | None]] = [[]]
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and pattern[index + 1 : index + 2] in ("%", "_"):
            segments[-1].append(pattern[index + 1])
            index += 2
            continue
        if char == "%":
            segments.append([])
        else:
            segments[-1].append(None if char == "_" else char)
        index += 1
    return segments


def _compile(parts: list[str | None]) -> _Segment:
    if None not in parts:
        return "".join(part for part in parts if part is not None)
    source = "".join("." if part is None else re.escape(part) for part in parts)
    return re.compile(source, re.DOTALL)


def _exact(segment: _Segment) -> Matcher:
    if isinstance(segment, str):
        return segment.__eq__
    return lambda text: segment.fullmatch(text) is not None


def _anchored(prefix: str, suffix: str) -> Matcher:
    """The common ``'abc%'``, ``'%abc'`` and ``'a%z'`` shapes, with string methods only."""
    if not suffix:
        return lambda text: text.startswith(prefix)
    if not prefix:
        return lambda text: text.endswith(suffix)
    least = len(prefix) + len(suffix)
    return lambda text: len(text) >= least and text.startswith(prefix) and text.endswith(suffix)


def _search(segments: list[_Sized], text: str) -> bool:
    (first, start), *middle, (last, width) = segments
    end = len(text) - width
    if start > end or not _at(first, text, 0) or not _at(last, text, end):
        return False
    for segment, size in middle:
        if isinstance(segment, str):
            found = text.find(segment, start, end)
            if found < 0:
                return False
            start = found + size
        else:
            match = segment.search(text, start, end)
            if match is None:
                return False
            start = match.end()
    return True


def _at(segment: _Segment, text: str, position: int) -> bool:
    if isinstance(segment, str):
        return text.startswith(segment, position)
    return segment.match(text, position) is not None
