"""``PostgresSecrets``: sealed secrets of a ``PostgresStore`` (table ``secrets``)."""

from __future__ import annotations

from datetime import datetime

from emitflow.store import codec
from emitflow.store.postgres.database import PostgresDatabase, status_count
from emitflow.store.queries import queries

__all__ = ["PostgresSecrets"]

Q = queries("postgres")


class PostgresSecrets:
    """Sealed secrets in the ``secrets`` table."""

    _db: PostgresDatabase

    async def put_secret(self, name: str, sealed: str, at: datetime) -> None:
        """Store a sealed secret, or replace it."""
        async with self._db.transaction() as conn:
            await conn.execute(Q["put_secret"], name, sealed, codec.to_micros(at))

    async def list_secrets(self) -> dict[str, str]:
        """Every stored secret's sealed value by name."""
        async with self._db.connection() as conn:
            found = await conn.fetch(Q["list_secrets"])
        return {row["name"]: row["sealed"] for row in found}

    async def delete_secret(self, name: str) -> bool:
        """Remove a secret; ``False`` if there was none."""
        async with self._db.transaction() as conn:
            return status_count(await conn.execute(Q["delete_secret"], name)) > 0
