"""``PostgresTokens``: the API tokens of a ``PostgresStore`` (table ``tokens``)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from emitflow.errors import StoreError
from emitflow.store import codec
from emitflow.store.postgres.database import PostgresDatabase, status_count
from emitflow.store.queries import queries
from emitflow.store.records import TokenRecord
from emitflow.store.rows import TOKEN

__all__ = ["PostgresTokens"]

Q = queries("postgres")


class PostgresTokens:
    """API tokens in the ``tokens`` table."""

    _db: PostgresDatabase

    async def put_token(self, token: TokenRecord) -> None:
        """Store a new token (``StoreError`` if its id or digest is taken)."""
        params = TOKEN.to_row(token)
        try:
            async with self._db.transaction() as conn:
                await conn.execute(Q["insert_token"], *params)
        except StoreError as exc:
            if isinstance(exc.__cause__, asyncpg.UniqueViolationError):
                raise StoreError(f"token {token.id!r} or its secret already exists") from exc
            raise

    async def find_token(self, digest: str) -> TokenRecord | None:
        """The token whose secret has this digest, or None."""
        async with self._db.connection() as conn:
            row = await conn.fetchrow(Q["find_token"], digest)
        return None if row is None else TOKEN.from_row(row)

    async def list_tokens(self) -> list[TokenRecord]:
        """Every token, oldest first."""
        async with self._db.connection() as conn:
            found = await conn.fetch(Q["list_tokens"])
        return [TOKEN.from_row(row) for row in found]

    async def delete_token(self, token_id: str) -> bool:
        """Revoke a token."""
        async with self._db.transaction() as conn:
            return status_count(await conn.execute(Q["delete_token"], token_id)) > 0

    async def touch_token(self, token_id: str, at: datetime) -> None:
        """Record that a token was used at ``at`` (nothing if it is gone)."""
        async with self._db.transaction() as conn:
            await conn.execute(Q["touch_token"], codec.to_micros(at), token_id)
