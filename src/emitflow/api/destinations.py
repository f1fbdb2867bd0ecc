"""Routes: destinations ``wh_…`` — webhooks and brokers alike — create (connection checked),
list with health, test, enable, remove, deliveries. ``/v1/webhooks`` is the HTTP-only view of
the same records."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from emitflow.api.auth import Scope, require
from emitflow.api.deps import EngineDep, PageLimit
from emitflow.api.webhooks import delivery_view, webhook_view
from emitflow.brokers.factory import is_broker_url
from emitflow.errors import BrokerError, RequestError
from emitflow.store.records import DELIVERY_STATUSES, Webhook

__all__ = ["router"]

router = APIRouter(tags=["destinations"])
_read = [Depends(require(Scope.READ))]
_admin = [Depends(require(Scope.ADMIN))]


def destination_view(destination: Webhook) -> dict[str, Any]:
    """A destination with its transport and health; secrets in its URL masked."""
    view = webhook_view(destination)
    view["transport"] = destination.url.split(":", 1)[0]
    return view


@router.post("/v1/destinations", status_code=201, dependencies=_admin)
async def create_destination(
    engine: EngineDep,
    url: Annotated[
        str,
        Query(
            min_length=1,
            description="http(s)://…, nats://…, amqp://…, mqtt://…, redis://…, kafka://…",
        ),
    ],
    name: str = "",
    mode: Annotated[str, Query(pattern="^(binary|structured)$")] = "binary",
) -> dict[str, Any]:
    """Create a destination; a broker is connected once first (422 naming it if it cannot
    be reached or refuses the credentials). Subscribe it with ``listener_id=wh_…``."""
    try:
        destination = await engine.create_webhook(url, name=name, mode=mode)
    except BrokerError as exc:
        raise RequestError(422, "broker_unreachable", str(exc)) from None
    return {"data": destination_view(destination)}


@router.get("/v1/destinations", dependencies=_read)
async def list_destinations(engine: EngineDep) -> dict[str, Any]:
    """Every destination with its health."""
    return {"data": [destination_view(d) for d in await engine.webhooks()]}


@router.get("/v1/destinations/{destination_id}", dependencies=_read)
async def get_destination(destination_id: str, engine: EngineDep) -> dict[str, Any]:
    """A destination with its health."""
    return {"data": destination_view(await engine.get_webhook(destination_id))}


@router.post("/v1/destinations/{destination_id}/test", dependencies=_admin)
async def test_destination(destination_id: str, engine: EngineDep) -> dict[str, Any]:
    """Send one test event straight to the destination: ``ok`` and, if not, the reason."""
    error = await engine.test_webhook(destination_id)
    return {"data": {"id": destination_id, "ok": error is None, "error": error}}


@router.post("/v1/destinations/{destination_id}/enable", dependencies=_admin)
async def enable_destination(destination_id: str, engine: EngineDep) -> dict[str, Any]:
    """Make a disabled destination healthy again."""
    return {"data": destination_view(await engine.enable_webhook(destination_id))}


@router.delete("/v1/destinations/{destination_id}", dependencies=_admin)
async def delete_destination(destination_id: str, engine: EngineDep) -> dict[str, Any]:
    """Remove a destination, its subscriptions and deliveries."""
    if not await engine.delete_webhook(destination_id):
        raise RequestError(404, "not_found", f"no destination {destination_id!r}")
    return {"data": {"id": destination_id, "deleted": True}}


@router.get("/v1/destinations/{destination_id}/deliveries", dependencies=_read)
async def list_destination_deliveries(
    destination_id: str, engine: EngineDep, limit: PageLimit, status: str | None = None
) -> dict[str, Any]:
    """A destination's deliveries, newest first; ``status=dead`` lists its dead letters."""
    if status is not None and status not in DELIVERY_STATUSES:
        raise RequestError(400, "bad_request", f"status={status!r}: use pending, delivered or dead")
    found = await engine.webhook_deliveries(destination_id, status=status, limit=limit)
    return {"data": [delivery_view(d) for d in found]}


def http_only(destination: Webhook) -> bool:
    """Whether a destination belongs in the ``/v1/webhooks`` view."""
    return not is_broker_url(destination.url)
