"""Routes: webhook listeners ``wh_…`` — create, list with health, enable, remove, deliveries.

The HTTP-only view of the destinations (``/v1/destinations`` holds brokers as well)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from emitflow.api.auth import Scope, require
from emitflow.api.deps import EngineDep, PageLimit
from emitflow.brokers.factory import is_broker_url
from emitflow.errors import RequestError
from emitflow.runtime.webhooks import masked_url
from emitflow.store.records import DELIVERY_STATUSES, Webhook, WebhookDelivery
from emitflow.store.views import time_text

__all__ = ["router"]

router = APIRouter(tags=["webhooks"])
_read = [Depends(require(Scope.READ))]
_admin = [Depends(require(Scope.ADMIN))]


def webhook_view(webhook: Webhook) -> dict[str, Any]:
    """A webhook with its health; the URL with its password and query values masked."""
    return {
        "id": webhook.id,
        "name": webhook.name,
        "url": masked_url(webhook.url),
        "mode": webhook.mode,
        "active": webhook.state != "disabled",
        "health": {
            "state": webhook.state,
            "consecutive_failures": webhook.failures,
            "last_error": webhook.last_error,
        },
        "created_at": time_text(webhook.created_at),
        "updated_at": time_text(webhook.updated_at),
    }


def delivery_view(delivery: WebhookDelivery) -> dict[str, Any]:
    """A delivery (a dead letter when its status is ``dead``)."""
    return {
        "id": delivery.id,
        "webhook_id": delivery.webhook_id,
        "event_position": delivery.position,
        "event": dict(delivery.event),
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": time_text(delivery.next_attempt_at)
        if delivery.status == "pending"
        else None,
        "last_error": delivery.last_error,
    }


@router.post("/v1/webhooks", status_code=201, dependencies=_admin)
async def create_webhook(
    engine: EngineDep,
    url: Annotated[str, Query(min_length=1, description="Where events are POSTed.")],
    name: str = "",
    mode: Annotated[str, Query(pattern="^(binary|structured)$")] = "binary",
) -> dict[str, Any]:
    """Create a webhook listener; subscribe it with ``listener_id=wh_…``."""
    if is_broker_url(url):
        raise RequestError(
            400, "bad_request", "a broker URL is a destination: POST /v1/destinations?url=…"
        )
    webhook = await engine.create_webhook(url, name=name, mode=mode)
    return {"data": webhook_view(webhook)}


@router.get("/v1/webhooks", dependencies=_read)
async def list_webhooks(engine: EngineDep) -> dict[str, Any]:
    """Every webhook with its health."""
    found = [w for w in await engine.webhooks() if not is_broker_url(w.url)]
    return {"data": [webhook_view(w) for w in found]}


@router.get("/v1/webhooks/{webhook_id}", dependencies=_read)
async def get_webhook(webhook_id: str, engine: EngineDep) -> dict[str, Any]:
    """A webhook with its health."""
    return {"data": webhook_view(await engine.get_webhook(webhook_id))}


@router.delete("/v1/webhooks/{webhook_id}", dependencies=_admin)
async def delete_webhook(webhook_id: str, engine: EngineDep) -> dict[str, Any]:
    """Remove a webhook, its subscriptions and deliveries."""
    if not await engine.delete_webhook(webhook_id):
        raise RequestError(404, "not_found", f"no webhook {webhook_id!r}")
    return {"data": {"id": webhook_id, "deleted": True}}


@router.post("/v1/webhooks/{webhook_id}/enable", dependencies=_admin)
async def enable_webhook(webhook_id: str, engine: EngineDep) -> dict[str, Any]:
    """Make a disabled webhook healthy again."""
    return {"data": webhook_view(await engine.enable_webhook(webhook_id))}


@router.get("/v1/webhooks/{webhook_id}/deliveries", dependencies=_read)
async def list_deliveries(
    webhook_id: str, engine: EngineDep, limit: PageLimit, status: str | None = None
) -> dict[str, Any]:
    """A webhook's deliveries, newest first; ``status=dead`` lists its dead letters."""
    if status is not None and status not in DELIVERY_STATUSES:
        raise RequestError(400, "bad_request", f"status={status!r}: use pending, delivered or dead")
    found = await engine.webhook_deliveries(webhook_id, status=status, limit=limit)
    return {"data": [delivery_view(d) for d in found]}
