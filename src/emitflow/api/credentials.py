"""API tokens: making them, and knowing them again from the secret a request presents.

A secret is ``efk_`` and 256 random bits (URL-safe base64). The store keeps its SHA-256 digest
only — with that much randomness a fast digest cannot be searched, so no slow password hash is
needed — and the secret is shown once, when the token is made. Verifying looks the digest up
(an index, not a comparison per token) and compares it again in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from emitflow.api.auth import AdminTokenVerifier, Principal, Scope
from emitflow.clock import Clock
from emitflow.errors import RequestError, StoreError
from emitflow.ids import random_id
from emitflow.runtime.workflows import WORKFLOW_ID
from emitflow.store.base import TokenStore
from emitflow.store.records import TokenRecord

__all__ = [
    "LAST_USE_RESOLUTION",
    "LIMITABLE_SCOPES",
    "SECRET_PREFIX",
    "StoreTokenVerifier",
    "digest",
    "make_token",
    "parse_resources",
    "parse_scopes",
]

logger = logging.getLogger(__name__)

SECRET_PREFIX = "efk_"
#: A token's ``last_used_at`` is kept to this precision.
LAST_USE_RESOLUTION = timedelta(minutes=1)
#: The scopes a token limited to some workflows may hold.
LIMITABLE_SCOPES = frozenset({Scope.READ, Scope.HOOKS})


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


def parse_resources(workflow_ids: Iterable[str], scopes: Iterable[Scope]) -> tuple[str, ...]:
    """The workflows a token is limited to (400 naming a bad id, or a scope that cannot be
    limited); none given = every workflow."""
    found: list[str] = []
    for workflow_id in workflow_ids:
        if not isinstance(workflow_id, str) or not WORKFLOW_ID.match(workflow_id):
            raise RequestError(
                400, "bad_request", f"{workflow_id!r} is not a workflow id like 'p_orders'"
            )
        if workflow_id not in found:
            found.append(workflow_id)
    wide = sorted(scope.value for scope in scopes if scope not in LIMITABLE_SCOPES)
    if found and wide:
        raise RequestError(
            400,
            "bad_request",
            f"a token limited to workflows may hold only the read and hooks scopes, not "
            f"{', '.join(wide)}",
        )
    return tuple(found)


async def make_token(
    store: TokenStore,
    *,
    name: str,
    scopes: Iterable[str],
    now: datetime,
    workflows: Iterable[str] = (),
) -> tuple[TokenRecord, str]:
    """A new token in the store, and its secret (shown once); ``workflows`` limits it."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    parsed = parse_scopes(scopes)
    record = TokenRecord(
        id=random_id("tok"),
        name=name,
        scopes=tuple(scope.value for scope in parsed),
        digest=digest(secret),
        created_at=now,
        resources=parse_resources(workflows, parsed),
    )
    await store.put_token(record)
    return record, secret


class StoreTokenVerifier:
    """Tokens of the store, and the admin token of the settings.

    With a ``clock``, each use is recorded as the token's ``last_used_at``, at most once per
    ``LAST_USE_RESOLUTION`` (a write per request would cost every request a commit).
    """

    def __init__(
        self, store: TokenStore, admin_token: str | None = None, *, clock: Clock | None = None
    ) -> None:
        self._store = store
        self._admin = AdminTokenVerifier(admin_token)
        self._clock = clock

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
        await self._used(record)
        return Principal(
            token_id=record.id,
            scopes=frozenset(Scope(s) for s in record.scopes if s in Scope.__members__.values()),
            resources=frozenset(record.resources) if record.resources else None,
        )

    async def _used(self, record: TokenRecord) -> None:
        if self._clock is None:
            return
        now = self._clock.now()
        last = record.last_used_at
        if last is not None and now - last < LAST_USE_RESOLUTION:
            return
        try:
            await self._store.touch_token(record.id, now)
        except StoreError as exc:
            # Knowing the last use is not worth refusing the request (a full disk, say).
            logger.warning(
                "could not record a token's use", extra={"token_id": record.id, "error": str(exc)}
            )
