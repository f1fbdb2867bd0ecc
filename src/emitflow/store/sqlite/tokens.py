"""``SqliteTokens``: the API tokens of a ``SqliteStore`` (table ``tokens``; migrations 3, 5)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from functools import partial

from emitflow.errors import StoreError
from emitflow.store import codec
from emitflow.store.queries import queries
from emitflow.store.records import TokenRecord
from emitflow.store.sqlite.database import SqliteDatabase

__all__ = ["SqliteTokens"]

Q = queries("sqlite")


def _token(row: sqlite3.Row) -> TokenRecord:
    return TokenRecord(
        id=row["id"],
        name=row["name"],
        scopes=tuple(json.loads(row["scopes"])),
        digest=row["digest"],
        created_at=codec.from_micros(row["created_at"]),
        resources=tuple(json.loads(row["resources"])),
        last_used_at=None
        if row["last_used_at"] is None
        else codec.from_micros(row["last_used_at"]),
    )


def _insert(conn: sqlite3.Connection, token: TokenRecord) -> None:
    try:
        conn.execute(
            Q["insert_token"],
            (
                token.id,
                token.name,
                json.dumps(list(token.scopes)),
                token.digest,
                codec.to_micros(token.created_at),
                json.dumps(list(token.resources)),
                None if token.last_used_at is None else codec.to_micros(token.last_used_at),
            ),
        )
    except sqlite3.IntegrityError as exc:
        raise StoreError(f"token {token.id!r} or its secret already exists") from exc


def _find(conn: sqlite3.Connection, digest: str) -> TokenRecord | None:
    row = conn.execute(Q["find_token"], (digest,)).fetchone()
    return None if row is None else _token(row)


def _all(conn: sqlite3.Connection) -> list[TokenRecord]:
    return [_token(row) for row in conn.execute(Q["list_tokens"])]


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
