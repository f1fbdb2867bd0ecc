"""API tokens: making them, and knowing them again from the secret a request presents.

A secret is ``efk_`` and 256 random bits (URL-safe base64). The store keeps its SHA-256 digest
only — with that much randomness a fast digest cannot be searched, so no slow password hash is
needed — and the secret is shown once, when the token is made. Verifying looks the digest up
(an index, not a comparison per token) and compares it again in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime

from emitflow.api.auth import AdminTokenVerifier, Principal, Scope
from emitflow.errors import RequestError
from emitflow.ids import random_id
from emitflow.store.base import TokenStore
from emitflow.store.records import TokenRecord

__all__ = ["SECRET_PREFIX", "StoreTokenVerifier", "digest", "make_token", "parse_scopes"]

SECRET_PREFIX = "efk_"


def digest(secret: str) -> str:
    """The SHA-256 hex digest the store keeps for a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(names: Iterable[str]) -> tuple[Scope, ...]:
    """Scopes by name (400 naming an unknown one); none given = ``read``."""
    found: list[Scope] = []
    for name in names:
        try:
            scope = Scope(name)
        except ValueError:
            allowed = ", ".join(s.value for s in Scope)
            raise RequestError(
                400, "bad_request", f"scope {name!r} is unknown; use one of {allowed}"
            ) from None
        if scope not in found:
            found.append(scope)
    return tuple(found) or (Scope.READ,)


async def make_token(
    store: TokenStore, *, name: str, scopes: Iterable[str], now: datetime
) -> tuple[TokenRecord, str]:
    """A new token in the store, and its secret (shown once)."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    record = TokenRecord(
        id=random_id("tok"),
        name=name,
        scopes=tuple(scope.value for scope in parse_scopes(scopes)),
        digest=digest(secret),
        created_at=now,
    )
    await store.put_token(record)
    return record, secret


class StoreTokenVerifier:
    """Tokens of the store, and the admin token of the settings."""

    def __init__(self, store: TokenStore, admin_token: str | None = None) -> None:
        self._store = store
        self._admin = AdminTokenVerifier(admin_token)

    async def verify(self, secret: str) -> Principal | None:
        """The principal of a live token."""
        admin = await self._admin.verify(secret)
        if admin is not None:
            return admin
        if not secret.startswith(SECRET_PREFIX):
            return None
        wanted = digest(secret)
        record = await self._store.find_token(wanted)
        if record is None or not hmac.compare_digest(record.digest, wanted):
            return None
        return Principal(
            token_id=record.id,
            scopes=frozenset(Scope(s) for s in record.scopes if s in Scope.__members__.values()),
        )
