"""``MemoryTokens``: the API tokens of a ``MemoryStore``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from emitflow.errors import StoreError
from emitflow.store.records import TokenRecord

__all__ = ["MemoryTokens"]


class MemoryTokens:
    """API tokens kept in a dict by id (the store sets ``_tokens`` up and checks it is open)."""

    _tokens: dict[str, TokenRecord]

    def _check_open(self) -> None: ...

    async def put_token(self, token: TokenRecord) -> None:
        """Store a new token (``StoreError`` if its id or digest is taken)."""
        self._check_open()
        if token.id in self._tokens or any(t.digest == token.digest for t in self._tokens.values()):
            raise StoreError(f"token {token.id!r} or its secret already exists")
        self._tokens[token.id] = token

    async def find_token(self, digest: str) -> TokenRecord | None:
        """The token whose secret has this digest, or None."""
        self._check_open()
        return next((t for t in self._tokens.values() if t.digest == digest), None)

    async def list_tokens(self) -> list[TokenRecord]:
        """Every token, oldest first."""
        self._check_open()
        return list(self._tokens.values())

    async def delete_token(self, token_id: str) -> bool:
        """Revoke a token."""
        self._check_open()
        return self._tokens.pop(token_id, None) is not None

    async def touch_token(self, token_id: str, at: datetime) -> None:
        """Record that a token was used at ``at`` (nothing if it is gone)."""
        self._check_open()
        token = self._tokens.get(token_id)
        if token is not None:
            self._tokens[token_id] = replace(token, last_used_at=at)
