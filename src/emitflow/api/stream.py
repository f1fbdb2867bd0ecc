"""Route: ``GET /v1/events/stream``, a live tail of the event log as Server-Sent Events.

Each message: ``id:`` the event's position, ``data:`` the stored event as ``GET /v1/events``
lists it (the whole CloudEvent inside). With ``Last-Event-ID`` (or ``?after=``) the stream
first replays the stored events after that position, then goes live, with no gap and no
duplicate: the live reader is attached before the replay, and anything at or before the last
position sent is skipped. A client that falls more than the reader's queue behind is caught
up from the store the same way. A comment line is sent every ``heartbeat_seconds`` of quiet.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import StreamingResponse

from emitflow.api.auth import Scope, require
from emitflow.api.deps import EngineDep, SettingsDep
from emitflow.api.events import EventFilters, event_filters
from emitflow.api.summaries import Cursor, check_position
from emitflow.runtime.engine import Engine
from emitflow.runtime.feed import FeedReader
from emitflow.store.records import StoredEvent
from emitflow.store.views import stored_view

__all__ = ["router"]

router = APIRouter(tags=["events"])
_REPLAY_PAGE = 500


def _key(position: str) -> tuple[int, int]:
    millis, _, seq = position.partition("-")
    return int(millis), int(seq)


_MESSAGES: OrderedDict[str, bytes] = OrderedDict()
_MESSAGE_CACHE = 4_096


def _message(stored: StoredEvent) -> bytes:
    # Every client of the stream sends the same bytes for an event: encode it once.
    cached = _MESSAGES.get(stored.position)
    if cached is not None:
        return cached
    data = json.dumps(stored_view(stored), ensure_ascii=False, separators=(",", ":"))
    message = f"id: {stored.position}\ndata: {data}\n\n".encode()
    _MESSAGES[stored.position] = message
    if len(_MESSAGES) > _MESSAGE_CACHE:
        _MESSAGES.popitem(last=False)
    return message


class _Tail:
    """One client's stream: replay from the store, then the live feed."""

    def __init__(self, engine: Engine, filters: EventFilters, last: str | None) -> None:
        self._engine = engine
        self._filters = filters
        self._last = None if last is None else _key(last)

    async def replay(self) -> AsyncIterator[bytes]:
        """Stored events after the last position sent, oldest first."""
        while self._last is not None:
            cursor = f"{self._last[0]}-{self._last[1]}"
            page = await self._engine.list_events(
                self._filters.query, limit=_REPLAY_PAGE, after=cursor
            )
            for stored in reversed(page.items):
                chunk = self.send(stored)
                if chunk:
                    yield chunk
            if not page.has_more:
                return

    def send(self, stored: StoredEvent) -> bytes:
        """The message for an event, or nothing if it was sent already or does not match."""
        key = _key(stored.position)
        if self._last is not None and key <= self._last:
            return b""
        if not self._filters.matches(stored):
            return b""
        self._last = key
        return _message(stored)


async def _stream(
    engine: Engine, filters: EventFilters, last: str | None, heartbeat: float
) -> AsyncIterator[bytes]:
    # Without a position to resume from, the stream is live only (from when it attached).
    tail = _Tail(engine, filters, last)
    # Attached before the greeting: a client that has read it misses nothing logged after.
    reader: FeedReader = await engine.feed.attach()
    try:
        yield b": emitflow event stream\n\n"
        while True:
            async for chunk in tail.replay():
                yield chunk
            while not reader.lagged.is_set() or not reader.queue.empty():
                try:
                    stored = await asyncio.wait_for(reader.queue.get(), heartbeat)
                except TimeoutError:
                    yield b": heartbeat\n\n"
                    continue
                # Whatever else is queued goes out in the same write.
                chunks = [tail.send(stored)]
                while not reader.queue.empty():
                    chunks.append(tail.send(reader.queue.get_nowait()))
                chunk = b"".join(chunks)
                if chunk:
                    yield chunk
            # Fell behind: attach afresh, catch up from the store, go on live.
            reader.close()
            reader = await engine.feed.attach()
    finally:
        reader.close()


@router.get(
    "/v1/events/stream",
    dependencies=[Depends(require(Scope.READ))],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_events(
    engine: EngineDep,
    settings: SettingsDep,
    filters: EventFilters = event_filters,
    after: Cursor = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """Live events as Server-Sent Events, resuming after ``Last-Event-ID`` when given."""
    resume = check_position(last_event_id or after, "Last-Event-ID")
    chunks = _stream(engine, filters, resume, settings.heartbeat_seconds)
    return StreamingResponse(
        chunks,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
