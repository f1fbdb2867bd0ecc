"""Named queries: one block per ``-- name:`` line, loaded once per dialect."""

from __future__ import annotations

import pytest

from emitflow.errors import StoreError
from emitflow.store.queries import Queries, parse_queries

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
