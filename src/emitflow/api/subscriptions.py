"""Routes: subscriptions, the Pipedream triple in the query string (filters in a JSON body)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from emitflow.api.auth import Scope, principal_of, require
from emitflow.api.bodies import parse_json
from emitflow.api.deps import EngineDep
from emitflow.api.openapi import body
from emitflow.errors import ConfigurationError, RequestError
from emitflow.store.views import subscription_view

__all__ = ["router"]

router = APIRouter(tags=["subscriptions"])
_admin = [Depends(require(Scope.ADMIN))]

EmitterId = Annotated[str, Query(min_length=1, description="p_…, dc_…, or the globs p_*, dc_*")]
ListenerId = Annotated[str, Query(min_length=1, description="p_… workflow or wh_… webhook")]
EventName = Annotated[str, Query(description="The channel; empty for the default one.")]


async def _filters(request: Request) -> list[Any] | None:
    body = await request.body()
    if not body.strip():
        return None
    value = parse_json(body)
    if isinstance(value, dict) and set(value) <= {"filters"}:
        filters = value.get("filters")
        if filters is None or isinstance(filters, list):
            return filters
    raise RequestError(
        400,
        "bad_request",
        'the body, when given, is {"filters": [...]} in the CloudEvents Subscriptions API '
        "dialects (exact, prefix, suffix, all, any, not, sql)",
    )


@router.post(
    "/v1/subscriptions",
    dependencies=_admin,
    openapi_extra=body(
        {"application/json": {"type": "object", "properties": {"filters": {"type": "array"}}}},
        required=False,
    ),
)
async def create_subscription(
    request: Request,
    engine: EngineDep,
    emitter_id: EmitterId,
    listener_id: ListenerId,
    event_name: EventName = "",
) -> dict[str, Any]:
    """Subscribe a listener to an emitter's channel (the same triple again: the same id).

    ``emitter_id=dc_<x>`` for a deployed workflow ``p_<x>`` subscribes to that workflow (the
    answer names it); an emitter that could never fire is a 422 naming the accepted forms. A
    workflow subscribed to itself is answered with a ``warning``."""
    filters = await _filters(request)
    try:
        subscription = await engine.subscribe(
            emitter_id=emitter_id, listener_id=listener_id, event_name=event_name, filters=filters
        )
    except ConfigurationError as exc:
        raise RequestError(422, "invalid", str(exc)) from exc
    answer: dict[str, Any] = {"data": subscription_view(subscription)}
    warning = _self_subscription(subscription.emitter_id, listener_id, engine.settings.max_hops)
    if warning is not None:
        answer["warning"] = warning
    return answer


def _self_subscription(emitter_id: str, listener_id: str, max_hops: int) -> str | None:
    if emitter_id != listener_id and not (emitter_id == "p_*" and listener_id.startswith("p_")):
        return None
    return (
        f"{listener_id} listens to its own events: each run it starts can start another; the "
        f"loop guard stops the chain after {max_hops} hops (an event stored on $errors), so "
        "filter the subscription (event_name or filters) unless a loop is what you want"
    )


@router.delete("/v1/subscriptions", dependencies=_admin)
async def delete_subscription(
    engine: EngineDep,
    emitter_id: EmitterId,
    listener_id: ListenerId,
    event_name: EventName = "",
) -> dict[str, Any]:
    """Unsubscribe the triple."""
    removed = await engine.unsubscribe(
        emitter_id=emitter_id, listener_id=listener_id, event_name=event_name
    )
    if not removed:
        raise RequestError(
            404,
            "not_found",
            f"no subscription of {listener_id!r} to {emitter_id!r} on channel {event_name!r}",
        )
    return {"data": {"emitter_id": emitter_id, "listener_id": listener_id, "deleted": True}}


@router.get("/v1/subscriptions", dependencies=[Depends(require(Scope.READ, lists=True))])
async def list_subscriptions(
    request: Request,
    engine: EngineDep,
    emitter_id: str | None = None,
    listener_id: str | None = None,
) -> dict[str, Any]:
    """Subscriptions in creation order, optionally of one emitter or listener (for a token
    limited to some workflows, those whose emitter or listener is one of them)."""
    principal = principal_of(request)
    found = await engine.subscriptions(emitter_id=emitter_id, listener_id=listener_id)
    return {
        "data": [
            subscription_view(subscription)
            for subscription in found
            if principal is None
            or principal.reaches(subscription.emitter_id)
            or principal.reaches(subscription.listener_id)
        ]
    }
