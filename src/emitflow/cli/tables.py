"""Plain-text tables that fit 80 columns: ids shortened, long values cut with ``…``;
``--wide`` shows everything in full."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import typer

__all__ = ["WIDTH", "Column", "render", "short_id", "show"]

WIDTH = 80
_GAP = "  "
_ID_CHARS = 8  # after the prefix, as git shortens hashes


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    """A column: ``kind`` ``id`` (shortened), ``fixed`` (kept whole) or ``text`` (cut to fit)."""

    title: str
    kind: str = "fixed"


def short_id(value: str) -> str:
    """``p_Ab3…`` style: the prefix and eight characters of a long id."""
    prefix, sep, rest = value.partition("_")
    if not sep or len(rest) <= _ID_CHARS + 1:
        return value
    return f"{prefix}_{rest[:_ID_CHARS]}…"


def _cut(value: str, width: int) -> str:
    if len(value) <= width:
        return value
    return value[: max(width - 1, 0)] + "…"


def render(columns: Sequence[Column], rows: Sequence[Sequence[str]], *, wide: bool) -> list[str]:
    """The lines of a table; within ``WIDTH`` columns unless ``wide``."""
    cells = [[" ".join(str(v).split()) for v in row] for row in rows]
    if not wide:
        cells = [
            [short_id(v) if c.kind == "id" else v for c, v in zip(columns, row, strict=True)]
            for row in cells
        ]
    widths = [max([len(c.title), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    if not wide:
        widths = _fit(columns, widths)
    lines = []
    for row in [[c.title.upper() for c in columns], *cells]:
        line = _GAP.join(_cut(v, w).ljust(w) for v, w in zip(row, widths, strict=True))
        lines.append(line.rstrip())
    return lines


def _fit(columns: Sequence[Column], widths: list[int]) -> list[int]:
    """Shrink the ``text`` columns (then any column) until the table fits ``WIDTH``."""
    room = WIDTH - len(_GAP) * (len(columns) - 1)
    flexible = [i for i, c in enumerate(columns) if c.kind == "text"] or list(range(len(columns)))
    fitted = list(widths)
    while sum(fitted) > room:
        widest = max(flexible, key=lambda i: fitted[i])
        if fitted[widest] <= 4:
            break
        fitted[widest] -= 1
    return fitted


def show(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    wide: bool,
    title: str | None = None,
) -> None:
    """Print a table on stdout (with a title line when given)."""
    if title:
        typer.echo(title)
    for line in render(columns, rows, wide=wide):
        typer.echo(line)
