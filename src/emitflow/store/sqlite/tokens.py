"""``SqliteTokens``: the API tokens of a ``SqliteStore`` (table ``tokens``; migrations 3, 5)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from functools import partial

from emitflow.errors import StoreError
from emitflow.store import codec
from emitflow.store.queries import queries
from emitflow.store.records import TokenRecord
from emitflow.store.rows import TOKEN
from emitflow.store.sqlite.database import SqliteDatabase

__all__ = ["SqliteTokens"]

Q = queries("sqlite")


def _insert(conn: sqlite3.Connection, token: TokenRecord) -> None:
    try:
        conn.execute(Q["insert_token"], TOKEN.to_row(token))
    except sqlite3.IntegrityError as exc:
        raise StoreError(f"token {token.id!r} or its secret already exists") from exc


def _find(conn: sqlite3.Connection, digest: str) -> TokenRecord | None:
    row = conn.execute(Q["find_token"], (digest,)).fetchone()
    return None if row is None else TOKEN.from_row(row)


def _all(conn: sqlite3.Connection) -> list[TokenRecord]:
    return [TOKEN.from_row(row) for row in conn.execute(Q["list_tokens"])]


def _delete(conn: sqlite3.Connection, token_id: str) -> bool:
    return conn.execute(Q["delete_token"], (token_id,)).rowcount > 0


def _touch(conn: sqlite3.Connection, token_id: str, at: int) -> None:
    conn.execute(Q["touch_token"], (at, token_id))


class SqliteTokens:
    """API tokens in the ``tokens`` table."""

    _db: SqliteDatabase

    async def put_token(self, token: TokenRecord) -> None:
        """Store a new token (``StoreError`` if its id or digest is taken)."""
        await self._db.write(partial(_insert, token=token))

    async def find_token(self, digest: str) -> TokenRecord | None:
        """The token whose secret has this digest, or None."""
        return await self._db.read(partial(_find, digest=digest))

    async def list_tokens(self) -> list[TokenRecord]:
        """Every token, oldest first."""
        return await self._db.read(_all)

    async def delete_token(self, token_id: str) -> bool:
        """Revoke a token."""
        return await self._db.write(partial(_delete, token_id=token_id))

    async def touch_token(self, token_id: str, at: datetime) -> None:
        """Record that a token was used at ``at`` (nothing if it is gone)."""
        await self._db.write(partial(_touch, token_id=token_id, at=codec.to_micros(at)))
