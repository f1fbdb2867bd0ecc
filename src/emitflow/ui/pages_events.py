"""Pages: the event log (filtered, keyset paged, with a pausable live tail), one event with
its whole CloudEvent and where it went, and sending it to a listener as a test."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from emitflow.api.deps import EngineDep
from emitflow.errors import EmitflowError, NotFoundError
from emitflow.runtime.engine import Engine
from emitflow.store.records import EventQuery, StoredEvent
from emitflow.ui.pages_workflows import parse_time
from emitflow.ui.render import page
from emitflow.ui.session import Session, current_session, writer_session

__all__ = ["router"]

router = APIRouter()
Reader = Annotated[Session, Depends(current_session)]
Writer = Annotated[Session, Depends(writer_session)]
_PAGE = 50
_POSITION = re.compile(r"^\d{1,15}-\d{1,15}$")
_HEARTBEAT = 15.0


@dataclass(frozen=True, slots=True)
class EventFilter:
    """The events page's filters as given (empty = any)."""

    emitter: str = ""
    channel: str | None = None
    type: str = ""
    subject: str = ""
    since: str = ""
    until: str = ""

    def query(self) -> EventQuery:
        """The store query (``EmitflowError`` for a bad time)."""
        return EventQuery(
            emitter_id=self.emitter or None,
            channel=self.channel,
            type=self.type or None,
            subject=self.subject or None,
            since=parse_time(self.since, "since"),
            until=parse_time(self.until, "until"),
        )

    def matches(self, stored: StoredEvent) -> bool:
        """Whether a live event passes the filters (times aside: live events are new)."""
        wanted = (
            (self.emitter or None, stored.emitter_id),
            (self.channel, stored.channel),
            (self.type or None, stored.event.get("type")),
            (self.subject or None, stored.event.get("subject")),
        )
        return all(want is None or want == have for want, have in wanted)


def _filter(
    emitter: str = "",
    channel: str | None = None,
    type: str = "",
    subject: str = "",
    since: str = "",
    until: str = "",
) -> EventFilter:
    # An empty channel field means any channel; the default channel is asked for as "default".
    picked = None if not channel else ("" if channel == "default" else channel)
    return EventFilter(emitter.strip(), picked, type.strip(), subject.strip(), since, until)


Filters = Annotated[EventFilter, Depends(_filter)]


def _cursor(value: str | None) -> str | None:
    return value if value and _POSITION.match(value) else None


def row(stored: StoredEvent) -> dict[str, Any]:
    """What the events table shows of an event (also the live tail's message)."""
    event = stored.event
    return {
        "position": stored.position,
        "emitter_id": stored.emitter_id,
        "channel": stored.channel,
        "type": event.get("type"),
        "subject": event.get("subject"),
        "time": event.get("time"),
        "id": event.get("id"),
    }


@router.get("/ui/events")
async def events_page(
    request: Request,
    engine: EngineDep,
    session: Reader,
    filters: Filters,
    before: str | None = None,
    after: str | None = None,
) -> Response:
    """The event log, newest first, filtered; keyset pages (no count per page)."""
    problem = None
    rows: list[dict[str, Any]] = []
    has_more = False
    try:
        found = await engine.find_events(
            filters.query(), limit=_PAGE, before=_cursor(before), after=_cursor(after)
        )
        rows, has_more = [row(stored) for stored in found.items], found.has_more
    except EmitflowError as exc:
        problem = str(exc)
    return page(
        request,
        "events.html",
        session,
        rows=rows,
        has_more=has_more,
        filters=filters,
        problem=problem,
        paged=before is not None or after is not None,
    )


async def _tail(engine: Engine, filters: EventFilter) -> AsyncIterator[bytes]:
    reader = engine.feed.reader()
    try:
        yield b": live tail\n\n"
        while not reader.lagged.is_set() or not reader.queue.empty():
            try:
                stored = await asyncio.wait_for(reader.queue.get(), _HEARTBEAT)
            except TimeoutError:
                yield b": heartbeat\n\n"
                continue
            if filters.matches(stored):
                data = json.dumps(row(stored), ensure_ascii=False)
                yield f"id: {stored.position}\ndata: {data}\n\n".encode()
        yield b"event: lagged\ndata: reload\n\n"
    finally:
        reader.close()


@router.get("/ui/events/stream")
async def events_tail(engine: EngineDep, session: Reader, filters: Filters) -> StreamingResponse:
    """The live tail of the events page (Server-Sent Events, one JSON row per event)."""
    return StreamingResponse(
        _tail(engine, filters),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/ui/emits/{emitter_id}")
async def emitted(
    request: Request, emitter_id: str, engine: EngineDep, session: Reader, source: str, id: str
) -> Response:
    """The logged event of a run's emit (by CloudEvent source and id)."""
    try:
        stored = await engine.find_emitted(emitter_id, source, id)
    except NotFoundError:
        message = "That emit is not in the event log (yet: emits are sent when the run ends)."
        return page(request, "error.html", session, 404, title="Not found", message=message)
    return RedirectResponse(f"/ui/events/{stored.position}", status_code=303)


@router.get("/ui/events/{position}")
async def event_page(
    request: Request, position: str, engine: EngineDep, session: Reader
) -> Response:
    """One event: the whole CloudEvent, the runs it started, its webhook deliveries."""
    try:
        if not _POSITION.match(position):
            raise NotFoundError(position)
        stored = await engine.event_at(position)
    except NotFoundError:
        message = f"There is no event at {position!r}."
        return page(request, "error.html", session, 404, title="Not found", message=message)
    reach = await engine.reach(stored.emitter_id, stored.channel, [stored.event])
    listeners = [x for x in reach.listeners if x.startswith("p_")]
    others = [w.id for w in await engine.workflows() if w.id not in listeners]
    return page(
        request,
        "event.html",
        session,
        stored=stored,
        reach=reach,
        candidates=listeners + [x for x in others if x != stored.emitter_id],
    )


@router.post("/ui/events/{position}/test")
async def test_event(
    request: Request,
    position: str,
    engine: EngineDep,
    session: Writer,
    listener_id: Annotated[str, Form(min_length=1, max_length=200)],
) -> Response:
    """Send this event to a listener as a test run; go to the run."""
    stored = await engine.event_at(position)
    run = await engine.send_test_event(listener_id, stored)
    return RedirectResponse(f"/ui/runs/{run.id}", status_code=303)
