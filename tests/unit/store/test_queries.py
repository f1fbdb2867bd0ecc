"""Named queries: one block per ``-- name:`` line, loaded once per dialect."""

from __future__ import annotations

import re
import sqlite3

import pytest

from emitflow.errors import StoreError
from emitflow.store.queries import Queries, parse_queries, queries
from emitflow.store.sqlite.database import migrations

TEXT = """
-- name: first
-- What the first one does.
SELECT 1;

-- name: second
UPDATE t SET a = 1
WHERE b = 2
"""


def test_blocks_are_split_by_name_without_comments_or_the_semicolon() -> None:
    assert parse_queries(TEXT) == {"first": "SELECT 1", "second": "UPDATE t SET a = 1\nWHERE b = 2"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT 1;\n-- name: a\nSELECT 2", "x.sql:1: SQL before the first '-- name:' line"),
        ("-- name: a\nSELECT 1\n-- name: a\nSELECT 2", "x.sql:3: query 'a' is named twice"),
        ("-- name: a\n-- nothing\n", "x.sql: query 'a' is empty"),
    ],
)
def test_a_malformed_file_is_refused_with_its_place(text: str, message: str) -> None:
    with pytest.raises(StoreError) as caught:
        parse_queries(text, origin="x.sql")
    assert str(caught.value) == message


def test_an_unknown_name_says_which_exist() -> None:
    known = Queries("sqlite", {"b": "SELECT 2", "a": "SELECT 1"})
    assert known["a"] == "SELECT 1"
    with pytest.raises(StoreError, match=r"no sqlite query named 'c'.*known: a, b"):
        known["c"]


def test_every_sqlite_query_compiles_against_the_migrated_schema() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(queries("sqlite")["create_schema_migrations"])
    for migration in migrations():
        for statement in migration.statements():
            conn.execute(statement)
    named = queries("sqlite")
    assert {"insert_run", "upsert_task", "append_event", "put_webhook", "insert_token"} <= set(
        named
    )
    for name, sql in named.items():
        try:
            conn.execute(f"EXPLAIN {sql}", [None] * _parameters(sql)).fetchall()
        except sqlite3.Error as exc:  # pragma: no cover - the message names the query
            pytest.fail(f"query {name!r} does not compile: {exc}")


def _parameters(sql: str) -> int:
    numbered = [int(n) for n in re.findall(r"\?(\d+)", sql)]
    return max(numbered) if numbered else sql.count("?")
