"""Named SQL queries, kept in ``.sql`` files per dialect and loaded once.

A dialect's folder ``store/sql/<dialect>/`` holds its numbered migrations (``0001_init.sql`` …)
and its queries in ``queries*.sql`` files, one query per name::

    -- name: claim_runs
    -- Free or expired in-flight runs, leased to the caller.
    UPDATE runs SET ...;

A block runs from its ``-- name:`` line to the next one; the comment lines right after the name
are its description, and one trailing semicolon is dropped. ``queries("sqlite")["claim_runs"]``
is the text; an unknown name is a ``StoreError`` that says which names exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources

from emitflow.errors import StoreError

__all__ = ["Queries", "parse_queries", "queries"]

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$")


class Queries(Mapping[str, str]):
    """The queries of one dialect by name."""

    def __init__(self, dialect: str, texts: Mapping[str, str]) -> None:
        self.dialect = dialect
        self._texts = dict(texts)

    def __getitem__(self, name: str) -> str:
        try:
            return self._texts[name]
        except KeyError:
            known = ", ".join(sorted(self._texts)) or "none"
            raise StoreError(
                f"no {self.dialect} query named {name!r} in store/sql/{self.dialect}/"
                f"queries*.sql; known: {known}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)


def parse_queries(text: str, *, origin: str = "queries.sql") -> dict[str, str]:
    """The named blocks of one file; a repeated name or text before the first name is an error."""
    found: dict[str, str] = {}
    name: str | None = None
    lines: list[str] = []

    def flush() -> None:
        if name is None:
            return
        body = "\n".join(line for line in lines if not line.lstrip().startswith("--")).strip()
        if body.endswith(";"):
            body = body[:-1].rstrip()
        if not body:
            raise StoreError(f"{origin}: query {name!r} is empty")
        found[name] = body

    for number, line in enumerate(text.splitlines(), 1):
        match = _NAME.match(line.strip())
        if match is None:
            if name is None and line.strip() and not line.lstrip().startswith("--"):
                raise StoreError(f"{origin}:{number}: SQL before the first '-- name:' line")
            lines.append(line)
            continue
        flush()
        name, lines = match.group(1), []
        if name in found:
            raise StoreError(f"{origin}:{number}: query {name!r} is named twice")
    flush()
    return found


@cache
def queries(dialect: str) -> Queries:
    """Every named query of ``store/sql/<dialect>/queries*.sql``, read once per process."""
    folder = resources.files("emitflow.store").joinpath("sql", dialect)
    texts: dict[str, str] = {}
    files = sorted(
        (entry for entry in folder.iterdir() if re.fullmatch(r"queries\w*\.sql", entry.name)),
        key=lambda entry: entry.name,
    )
    for entry in files:
        origin = f"store/sql/{dialect}/{entry.name}"
        for name, body in parse_queries(entry.read_text(encoding="utf-8"), origin=origin).items():
            if name in texts:
                raise StoreError(f"{origin}: query {name!r} is named in two files")
            texts[name] = body
    return Queries(dialect, texts)
