"""Routes: ingesting CloudEvents over the HTTP binding, and listing stored events."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from emitflow.api.auth import Scope, require
from emitflow.api.bodies import parse_json
from emitflow.api.deps import EngineDep, PageLimit, SettingsDep
from emitflow.api.openapi import body
from emitflow.api.summaries import Cursor, check_position
from emitflow.errors import RequestError
from emitflow.events.cloudevent import CloudEvent
from emitflow.events.http_binding import parse_http
from emitflow.store.records import EventQuery, StoredEvent
from emitflow.store.views import page_body, stored_view

__all__ = ["EventFilters", "event_filters", "router"]

router = APIRouter(tags=["events"])


@router.post(
    "/v1/events",
    status_code=202,
    dependencies=[Depends(require(Scope.INGEST))],
    openapi_extra=body(
        {
            "application/cloudevents+json": {"type": "object"},
            "application/cloudevents-batch+json": {"type": "array", "items": {"type": "object"}},
            "application/json": {},
        }
    ),
)
async def ingest_events(
    request: Request, engine: EngineDep, settings: SettingsDep
) -> dict[str, Any]:
    """Accept CloudEvents in binary, structured or batch mode; all of them or none."""
    body = await request.body()
    headers = {name.lower(): value for name, value in request.headers.items()}
    events = parse_http(headers, body, loads=parse_json)
    for index, event in enumerate(events):
        _check_size(event, index if len(events) > 1 else None, settings.max_event_bytes)
    items = await engine.ingest_many(events)
    return {
        "data": [
            {"id": item.event.id, "source": item.event.source, "emitter_id": item.emitter_id}
            for item in items
        ]
    }


def _check_size(event: CloudEvent, index: int | None, limit: int) -> None:
    size = len(json.dumps(event.to_dict(), separators=(",", ":")).encode())
    if size > limit:
        where = "the event" if index is None else f"event #{index} of the batch"
        raise RequestError(
            413,
            "event_too_large",
            f"{where} is {size} bytes as JSON, over the limit of {limit}; "
            "store large payloads elsewhere and send a reference",
        )


# A string, parsed here: pydantic's datetime also takes numbers (``until=0.5``), which the
# schema does not say and RFC 3339 does not allow.
Moment = Annotated[
    str | None,
    Query(
        description="An RFC 3339 time with its zone, e.g. 2026-11-22T10:00:00Z",
        json_schema_extra={"format": "date-time"},
    ),
]


def _moment(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text) if "T" in text.upper() else None
    except ValueError:
        moment = None
    if moment is None:
        raise RequestError(
            400, "bad_request", f"{name}={text!r} is not an RFC 3339 time like 2026-11-22T10:00:00Z"
        )
    if moment.tzinfo is None:
        raise RequestError(
            400, "bad_request", f"{name}: give a time zone, e.g. 2026-11-22T10:00:00Z"
        )
    return moment


class EventFilters:
    """The filters of ``GET /v1/events`` and its stream, checked."""

    def __init__(
        self,
        type: str | None = None,
        source: str | None = None,
        subject: str | None = None,
        emitter_id: str | None = None,
        event_name: str | None = None,
        since: Moment = None,
        until: Moment = None,
    ) -> None:
        self.query = EventQuery(
            emitter_id=emitter_id,
            channel=event_name,
            type=type,
            source=source,
            subject=subject,
            since=_moment(since, "since"),
            until=_moment(until, "until"),
        )

    def matches(self, stored: StoredEvent) -> bool:
        """Whether a logged event passes these filters (for the live stream)."""
        query, event = self.query, stored.event
        checks = (
            (query.emitter_id, stored.emitter_id),
            (query.channel, stored.channel),
            (query.type, event.get("type")),
            (query.source, event.get("source")),
            (query.subject, event.get("subject")),
        )
        return all(wanted is None or wanted == actual for wanted, actual in checks)


event_filters = Depends(EventFilters)


@router.get("/v1/events", dependencies=[Depends(require(Scope.READ))], response_model=None)
async def list_events(
    engine: EngineDep,
    limit: PageLimit,
    filters: EventFilters = event_filters,
    before: Cursor = None,
    after: Cursor = None,
) -> JSONResponse:
    """Stored CloudEvents, newest first, filtered; cursors are positions."""
    page = await engine.list_events(
        filters.query,
        limit=limit,
        before=check_position(before, "before"),
        after=check_position(after, "after"),
    )
    return JSONResponse(page_body(page, stored_view))
