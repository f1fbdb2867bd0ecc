"""``SqliteSecrets``: sealed secrets of a ``SqliteStore`` (table ``secrets``, migration 0005)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from functools import partial

from emitflow.store import codec
from emitflow.store.queries import queries
from emitflow.store.sqlite.database import SqliteDatabase

__all__ = ["SqliteSecrets"]

Q = queries("sqlite")


def _put(conn: sqlite3.Connection, name: str, sealed: str, at_us: int) -> None:
    conn.execute(Q["put_secret"], (name, sealed, at_us))


def _all(conn: sqlite3.Connection) -> dict[str, str]:
    rows = conn.execute(Q["list_secrets"])
    return {row["name"]: row["sealed"] for row in rows}


def _delete(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute(Q["delete_secret"], (name,)).rowcount > 0


class SqliteSecrets:
    """Sealed secrets in the ``secrets`` table."""

    _db: SqliteDatabase

    async def put_secret(self, name: str, sealed: str, at: datetime) -> None:
        """Store a sealed secret, or replace it."""
        await self._db.write(partial(_put, name=name, sealed=sealed, at_us=codec.to_micros(at)))

    async def list_secrets(self) -> dict[str, str]:
        """Every stored secret's sealed value by name."""
        return await self._db.read(_all)

    async def delete_secret(self, name: str) -> bool:
        """Remove a secret; ``False`` if there was none."""
        return await self._db.write(partial(_delete, name=name))
