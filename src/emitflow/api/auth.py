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

__all__ = [
    "AdminTokenVerifier",
    "Principal",
    "Scope",
    "TokenVerifier",
    "check_resources",
    "principal_of",
    "require",
]


class Scope(StrEnum):
    """What a token may do."""

    ADMIN = "admin"
    READ = "read"
    INGEST = "ingest"
    HOOKS = "hooks"


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Who a verified token belongs to: its id (never its secret), scopes, and the workflows it
    is limited to (``None``: every one)."""

    token_id: str
    scopes: frozenset[Scope]
    resources: frozenset[str] | None = None

    def allows(self, scope: Scope) -> bool:
        """Whether the token holds ``scope`` (``admin`` holds them all)."""
        return Scope.ADMIN in self.scopes or scope in self.scopes

    def reaches(self, workflow_id: str) -> bool:
        """Whether the token may act on this workflow."""
        return self.resources is None or workflow_id in self.resources


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


def require(scope: Scope, *, lists: bool = False) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets a request through only with a token holding ``scope``.

    A token limited to some workflows passes only where the request names one of them (see
    ``check_resources``); ``lists`` marks a route that lists things and keeps, for
    such a token, only what belongs to its workflows."""

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
        if principal.resources is not None:
            await check_resources(request, principal, lists=lists)
        request.state.principal = principal
        return principal

    return check


async def check_resources(request: Request, principal: Principal, *, lists: bool) -> None:
    """403 unless the request is about a workflow the limited token reaches.

    The workflow is the path's ``workflow_id``, the workflow of the path's ``run_id``, or the
    ``emitter_id`` filter of an event query; a listing route (``lists``) passes and shows only
    what belongs to the token's workflows. Anything else reads across workflows: refused.
    """
    params = request.path_params
    workflow_id = params.get("workflow_id")
    if workflow_id is None and "run_id" in params:
        run = await request.app.state.engine.get_run(params["run_id"])
        workflow_id = run.workflow_id
    if workflow_id is None:
        workflow_id = request.query_params.get("emitter_id")
    if workflow_id is None and lists:
        return
    allowed = ", ".join(sorted(principal.resources or ()))
    if workflow_id is None:
        raise RequestError(
            403,
            "forbidden",
            f"this token is limited to the workflows {allowed}; this route reads across "
            "workflows (name one, e.g. with emitter_id=)",
        )
    if not principal.reaches(workflow_id):
        raise RequestError(403, "forbidden", f"this token is limited to the workflows {allowed}")


def principal_of(request: Request) -> Principal | None:
    """The principal ``require`` let through for this request, if any."""
    principal: Principal | None = getattr(request.state, "principal", None)
    return principal
