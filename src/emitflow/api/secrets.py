"""Routes: secrets for served workflows — set (write-only), listed (names only), removed.

``PUT /v1/secrets/{name}`` takes ``{"value": "…"}`` (or an object, read as ``$secrets.name.key``),
or the value as a ``text/plain`` body; the value is stored sealed and never shown again.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request

from emitflow.api.auth import Scope, require
from emitflow.api.deps import EngineDep
from emitflow.api.openapi import body
from emitflow.errors import RequestError

__all__ = ["router"]

router = APIRouter(tags=["secrets"], dependencies=[Depends(require(Scope.ADMIN))])

_FORM = 'the body is {"value": "<the secret>"} (a string or an object), or the value as text/plain'


async def _value(request: Request) -> Any:
    raw = await request.body()
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(400, "bad_request", f"the body is not UTF-8; {_FORM}") from exc
    if media == "text/plain":
        return text
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        # The parser's message may quote the body, which is a secret: say only what is wrong.
        raise RequestError(400, "bad_request", f"the body is not valid JSON; {_FORM}") from exc
    if not isinstance(parsed, dict) or set(parsed) != {"value"}:
        raise RequestError(422, "invalid", _FORM)
    return parsed["value"]


@router.put(
    "/v1/secrets/{name}",
    openapi_extra=body(
        {
            "application/json": {
                "type": "object",
                "required": ["value"],
                "properties": {"value": {"type": ["string", "object"]}},
            },
            "text/plain": {"type": "string"},
        }
    ),
)
async def put_secret(name: str, request: Request, engine: EngineDep) -> dict[str, Any]:
    """Store a secret (sealed at rest); the value is never shown again."""
    value = await _value(request)
    await engine.secrets.put(name, value, engine.settings.clock.now())
    return {"data": {"name": name, "stored": True}}


@router.get("/v1/secrets")
async def list_secrets(engine: EngineDep) -> dict[str, Any]:
    """Every secret's name and where it comes from (``api`` or ``server``); never values."""
    return {"data": engine.secrets.names()}


@router.delete("/v1/secrets/{name}")
async def delete_secret(name: str, engine: EngineDep) -> dict[str, Any]:
    """Remove a secret stored through the API."""
    if not await engine.secrets.delete(name):
        raise RequestError(404, "not_found", f"no secret {name!r} was stored through the API")
    return {"data": {"name": name, "deleted": True}}
