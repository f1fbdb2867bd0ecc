"""Routes: API tokens — made (the secret shown once), listed (never the secret), revoked.

A token's view shows its scopes, the workflows it is limited to (``[]``: every one), when it
was made and when it was last used (to the minute; ``null`` if never)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from emitflow.api.auth import Scope, require
from emitflow.api.credentials import make_token
from emitflow.api.deps import EngineDep
from emitflow.errors import RequestError
from emitflow.store.views import token_view

__all__ = ["router"]

router = APIRouter(tags=["tokens"], dependencies=[Depends(require(Scope.ADMIN))])


class NewToken(BaseModel):
    """What a new token is called and may do."""

    name: str = Field(default="api", max_length=200)
    scopes: list[str] = Field(default_factory=lambda: ["read"])
    workflows: list[str] = Field(
        default_factory=list,
        description="Limit the token to these workflows (read and hooks tokens); none: all.",
    )


@router.post("/v1/tokens", status_code=201)
async def create_token(new: NewToken, engine: EngineDep) -> dict[str, Any]:
    """Make a token; the answer holds its secret, which is never shown again."""
    record, secret = await make_token(
        engine,
        name=new.name,
        scopes=new.scopes,
        now=engine.settings.clock.now(),
        workflows=new.workflows,
    )
    return {"data": {**token_view(record), "token": secret}}


@router.get("/v1/tokens")
async def list_tokens(engine: EngineDep) -> dict[str, Any]:
    """Every token, oldest first, without secrets."""
    return {"data": [token_view(record) for record in await engine.list_tokens()]}


@router.delete("/v1/tokens/{token_id}")
async def delete_token(token_id: str, engine: EngineDep) -> dict[str, Any]:
    """Revoke a token."""
    if not await engine.delete_token(token_id):
        raise RequestError(404, "not_found", f"no token {token_id!r}")
    return {"data": {"id": token_id, "deleted": True}}
