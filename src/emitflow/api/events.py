"""Routes: ingesting CloudEvents over the HTTP binding, and listing stored events."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from emitflow.api.auth import Scope, require
from emitflow.api.bodies import parse_json
from emitflow.api.deps import EngineDep, PageLimit
from emitflow.api.openapi import body
from emitflow.api.settings import ApiSettings
from emitflow.api.summaries import Cursor, check_position
from emitflow.errors import RequestError
from emitflow.events.cloudevent import CloudEvent
from emitflow.events.http_binding import parse_http
from emitflow.runtime.engine import Engine
from emitflow.store.records import EventQuery, StoredEvent
from emitflow.store.views import page_body, stored_view

__all__ = ["EventFilters", "event_filters", "router"]

router = APIRouter(tags=["events"])


#: What ``POST /v1/events`` answers: each accepted event's id, source and emitter id.
_ACCEPTED_SCHEMA = {
    "type": "object",
    "properties": {
        "data": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "source": {"type": "string"},
                    "emitter_id": {"type": "string"},
                },
            },
        }
    },
}


@router.post(
    "/v1/events",
    status_code=202,
    response_model=None,
    responses={
        202: {
            "description": "Every event is stored: all of them or none.",
            "content": {"application/json": {"schema": _ACCEPTED_SCHEMA}},
        }
    },
    dependencies=[Depends(require(Scope.INGEST))],
    openapi_extra=body(
        {
            "application/cloudevents+json": {"type": "object"},
            "application/cloudevents-batch+json": {"type": "array", "items": {"type": "object"}},
            "application/json": {},
        }
    ),
)
async def ingest_events(request: Request) -> JSONResponse:
    """Accept CloudEvents in binary, structured or batch mode; all of them or none."""
    # The busiest route: the engine and settings are read here rather than through
    # dependencies, and the answer is written as it is (FastAPI would validate and re-encode
    # it), which together took a tenth of each request's time on the event loop.
    engine: Engine = request.app.state.engine
    settings: ApiSettings = request.app.state.settings
    body = await request.body()
    headers = {name.lower(): value for name, value in request.headers.items()}
    events = parse_http(headers, body, loads=parse_json)
    for index, event in enumerate(events):
        _check_size(event, index if len(events) > 1 else None, settings.max_event_bytes)
    items = await engine.ingest_many(events)
    data = [
        {"id": item.event.id, "source": item.event.source, "emitter_id": item.emitter_id}
        for item in items
    ]
    return JSONResponse({"data": data}, status_code=202)


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

    def __init__(self, query: EventQuery) -> None:
        self.query = query

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


async def _event_filters(
    type: str | None = None,
    source: str | None = None,
    subject: str | None = None,
    emitter_id: str | None = None,
    event_name: str | None = None,
    since: Moment = None,
    until: Moment = None,
) -> EventFilters:
    # A coroutine: FastAPI would run a class (or a plain function) in its thread pool.
    return EventFilters(
        EventQuery(
            emitter_id=emitter_id,
            channel=event_name,
            type=type,
            source=source,
            subject=subject,
            since=_moment(since, "since"),
            until=_moment(until, "until"),
        )
    )


event_filters = Depends(_event_filters)


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
