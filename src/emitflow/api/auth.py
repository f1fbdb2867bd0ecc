"""Bearer tokens and their scopes: ``Depends(require(Scope.READ))`` guards a route.

A route asks for one scope; ``admin`` holds every scope. No ``Authorization`` header (or not a
bearer token) is 401; a token that is unknown is 401; a known token without the scope is 403.
Secrets are compared in constant time and never logged or echoed. Where tokens come from is the
``TokenVerifier`` on ``app.state.tokens``: the admin token of ``ApiSettings`` always, and the
store's tokens (created by ``emitflow tokens create`` or the API) once wired in.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from emitflow.errors import RequestError

__all__ = ["AdminTokenVerifier", "Principal", "Scope", "TokenVerifier", "require"]


class Scope(StrEnum):
    """What a token may do."""

    ADMIN = "admin"
    READ = "read"
    INGEST = "ingest"
    HOOKS = "hooks"


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Who a verified token belongs to: its id (never its secret) and scopes."""

    token_id: str
    scopes: frozenset[Scope]

    def allows(self, scope: Scope) -> bool:
        """Whether the token holds ``scope`` (``admin`` holds them all)."""
        return Scope.ADMIN in self.scopes or scope in self.scopes


class TokenVerifier(Protocol):
    """Finds the principal of a presented secret, or ``None``."""

    async def verify(self, secret: str) -> Principal | None:
        """The token's principal if ``secret`` is a live token."""
        ...


class AdminTokenVerifier:
    """Accepts one admin secret (``EMITFLOW_TOKEN``), compared in constant time."""

    def __init__(self, secret: str | None) -> None:
        self._secret = None if secret is None else secret.encode()

    async def verify(self, secret: str) -> Principal | None:
        """The admin principal when ``secret`` is the admin token."""
        if self._secret is not None and hmac.compare_digest(secret.encode(), self._secret):
            return Principal(token_id="env", scopes=frozenset({Scope.ADMIN}))
        return None


_bearer = HTTPBearer(auto_error=False, description="An emitflow API token.")


def require(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets a request through only with a token holding ``scope``."""

    async def check(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Security(_bearer),  # noqa: B008
    ) -> Principal:
        if credentials is None or not credentials.credentials:
            raise RequestError(
                401,
                "unauthorized",
                "this route needs 'Authorization: Bearer <token>'",
            )
        verifier: TokenVerifier = request.app.state.tokens
        principal = await verifier.verify(credentials.credentials)
        if principal is None:
            raise RequestError(401, "unauthorized", "the bearer token is not valid")
        if not principal.allows(scope):
            raise RequestError(
                403, "forbidden", f"this token lacks the '{scope.value}' scope this route needs"
            )
        return principal

    return check
