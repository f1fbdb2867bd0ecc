"""The event log and outbox of ``SqliteStore``.

Each ``_name(conn, …)`` function is the body of one transaction, run on the connection's thread
by ``SqliteDatabase``; the async methods encode their arguments, hand the body over, and return.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

from emitflow.clock import Clock
from emitflow.errors import StoreError
from emitflow.store import codec
from emitflow.store.paging import Window, lease_end, make_page
from emitflow.store.queries import queries
from emitflow.store.records import (
    EventQuery,
    NewEvent,
    OutboxItem,
    Page,
    RetentionPolicy,
    StoredEvent,
)
from emitflow.store.rows import EVENT, OUTBOX
from emitflow.store.sqlite import statements
from emitflow.store.sqlite.database import SqliteDatabase

__all__ = [
    "Encoded",
    "SqliteEvents",
    "encode_events",
    "insert_outbox",
    "outbox_items",
]

Encoded = list[tuple[NewEvent, str, str]]

Q = queries("sqlite")

#: Appends, outbox writes and outbox removals of at most this many events are small enough to
#: run on the event loop's thread when the writer is idle (``SqliteDatabase.write(inline=...)``):
#: a hand-off to the writer thread costs more than their few statements. A claim is one
#: statement whatever its limit, so it always may.
INLINE_EVENTS = 16


def encode_events(events: Sequence[NewEvent]) -> Encoded:
    """Each event with its CloudEvent and metadata as JSON text (``StoreError`` if not JSON)."""
    return [
        (new, codec.dumps(new.event.to_dict()), codec.dumps(dict(new.metadata))) for new in events
    ]


def insert_outbox(conn: sqlite3.Connection, encoded: Encoded, now_us: int) -> range:
    """Add events to the outbox inside the caller's transaction; the new rows' ids, in order."""
    if not encoded:
        return range(0)
    rows = [(new.emitter_id, new.channel, body, meta, now_us) for new, body, meta in encoded]
    count = conn.executemany(Q["insert_outbox"], rows).rowcount
    # AUTOINCREMENT gives each row one more than the largest id ever used, and the transaction
    # holds the database, so the rows just inserted have consecutive ids ending at this one.
    last = int(conn.execute(Q["last_insert_rowid"]).fetchone()[0])
    if count != len(rows):
        raise StoreError(f"the outbox took {count} of {len(rows)} rows")
    return range(last - count + 1, last + 1)


def outbox_items(encoded: Encoded, ids: range, now_us: int) -> list[OutboxItem]:
    """The outbox items just inserted, made from what the caller gave (on the event loop).

    The event is the caller's own ``CloudEvent`` (valid by construction, and frozen): decoding
    and validating it again from the JSON just written would only cost time. The metadata is a
    fresh copy, decoded from what was written, like every JSON value the store gives back.
    """
    created_at = codec.from_micros(now_us)
    return [
        OutboxItem(
            id=item_id,
            emitter_id=new.emitter_id,
            channel=new.channel,
            event=new.event,
            metadata=codec.loads(meta),
            created_at=created_at,
            attempts=0,
        )
        for item_id, (new, _, meta) in zip(ids, encoded, strict=True)
    ]


def _append(conn: sqlite3.Connection, encoded: Encoded, floor: int) -> list[int | StoredEvent]:
    """Insert the events; for each, its new position, or the duplicate already stored."""
    if not encoded:
        return []
    last = int(conn.execute(Q["last_position"]).fetchone()[0])
    positions, rows = [], []
    for new, body, meta in encoded:
        last = max(floor, last + 1)  # codec.next_position, with the floor already shifted
        event = new.event
        positions.append(last)
        rows.append(
            (
                last,
                new.emitter_id,
                new.channel,
                event.source,
                event.id,
                event.type,
                event.subject,
                body,
                meta,
            )
        )
    inserted = conn.executemany(Q["append_event"], rows).rowcount
    if inserted == len(rows):
        return list(positions)
    # Some were duplicates (a redelivery): only the rows inserted hold their positions.
    kept = {int(row[0]) for row in conn.execute(Q["inserted_since"], (positions[0],))}
    out: list[int | StoredEvent] = []
    for pos, (new, _, _) in zip(positions, encoded, strict=True):
        if pos in kept:
            out.append(pos)
            continue
        key = (new.emitter_id, new.event.source, new.event.id)
        existing = conn.execute(Q["existing_event"], key).fetchone()
        if existing is None:
            raise StoreError(f"event {new.event.id!r} conflicts with no stored event")
        out.append(EVENT.from_row(existing))
    return out


def _appended(encoded: Encoded, results: list[int | StoredEvent]) -> list[StoredEvent]:
    """The stored events of an append, decoded from what was written (on the event loop)."""
    out = []
    for (new, body, meta), result in zip(encoded, results, strict=True):
        if isinstance(result, StoredEvent):
            out.append(result)
            continue
        out.append(
            StoredEvent(
                position=codec.position_text(result),
                emitter_id=new.emitter_id,
                channel=new.channel,
                indexed_at_ms=codec.position_ms(result),
                event=codec.loads(body),
                metadata=codec.loads(meta),
            )
        )
    return out


def _page(conn: sqlite3.Connection, query: EventQuery, window: Window) -> Page[StoredEvent]:
    rows = conn.execute(*statements.events_page(query, window)).fetchall()
    total = None
    if query.counted:
        if query.channel is None:
            counted = conn.execute(Q["count_events"], (query.emitter_id,))
        else:
            counted = conn.execute(Q["count_channel_events"], (query.emitter_id, query.channel))
        total = int(counted.fetchone()[0] or 0)
    return make_page([EVENT.from_row(row) for row in rows], window, lambda s: s.position, total)


def _delete(conn: sqlite3.Connection, statement: tuple[str, list[Any]]) -> int:
    conn.execute(Q["keep_high_water"])
    return conn.execute(*statement).rowcount


def _retain(conn: sqlite3.Connection, cutoff: int | None, keep: int | None) -> int:
    conn.execute(Q["keep_high_water"])
    deleted = 0
    if cutoff is not None:
        deleted += conn.execute(Q["delete_events_before"], (cutoff,)).rowcount
    if keep is not None:
        streams = conn.execute(Q["long_streams"], (keep,)).fetchall()
        for emitter_id, channel in streams:
            if keep == 0:
                deleted += conn.execute(Q["delete_stream"], (emitter_id, channel)).rowcount
            else:
                trim = (emitter_id, channel, keep - 1)
                deleted += conn.execute(Q["trim_stream"], trim).rowcount
    return deleted


def _claim(conn: sqlite3.Connection, until: int, now: int, limit: int) -> list[OutboxItem]:
    rows = conn.execute(Q["claim_outbox"], (until, now, limit)).fetchall()
    return sorted((OUTBOX.from_row(row) for row in rows), key=lambda item: item.id)


def _mark_done(conn: sqlite3.Connection, ids: list[int]) -> int:
    done = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        done += conn.execute(*statements.mark_outbox_done(chunk)).rowcount
    return done


class SqliteEvents:
    """Event log and outbox operations; ``SqliteStore`` adds the rest."""

    _db: SqliteDatabase
    _clock: Clock

    # --- event log -----------------------------------------------------------------------

    async def append_events(self, events: Sequence[NewEvent]) -> list[StoredEvent]:
        """Append events in order; a duplicate gives back the event already stored."""
        floor = codec.epoch_ms(self._clock.now()) << codec.SEQ_BITS
        encoded = encode_events(events)
        results = await self._db.write(
            partial(_append, encoded=encoded, floor=floor), inline=len(encoded) <= INLINE_EVENTS
        )
        return _appended(encoded, results)

    async def list_events(
        self,
        query: EventQuery | None = None,
        *,
        limit: int = 10,
        before: str | None = None,
        after: str | None = None,
    ) -> Page[StoredEvent]:
        """Events newest first; cursors are positions."""
        query = query or EventQuery()
        window = Window.of(
            limit,
            None if before is None else codec.position_key(before),
            None if after is None else codec.position_key(after),
        ).narrowed(*codec.position_bounds(query.since, query.until))
        return await self._db.read(partial(_page, query=query, window=window))

    async def delete_events(
        self,
        emitter_id: str,
        *,
        start: str | None = None,
        end: str | None = None,
        channel: str | None = None,
    ) -> int:
        """Delete an emitter's events with ``start <= position <= end``."""
        statement = statements.delete_events(
            emitter_id,
            None if start is None else codec.position_key(start),
            None if end is None else codec.position_key(end),
            channel,
        )
        return await self._db.write(partial(_delete, statement=statement))

    async def apply_retention(self, policy: RetentionPolicy) -> int:
        """Delete events older than ``max_age`` and beyond ``max_count`` per stream."""
        cutoff = None
        if policy.max_age is not None:
            cutoff = codec.epoch_ms(self._clock.now() - policy.max_age) << codec.SEQ_BITS
        return await self._db.write(partial(_retain, cutoff=cutoff, keep=policy.max_count))

    # --- outbox --------------------------------------------------------------------------

    async def enqueue_events(self, events: Sequence[NewEvent]) -> list[OutboxItem]:
        """Put events in the outbox."""
        encoded, now_us = encode_events(events), codec.to_micros(self._clock.now())
        ids = await self._db.write(
            partial(insert_outbox, encoded=encoded, now_us=now_us),
            inline=len(encoded) <= INLINE_EVENTS,
        )
        return outbox_items(encoded, ids, now_us)

    async def claim_outbox(
        self, *, limit: int = 100, lease_seconds: float = 30.0
    ) -> list[OutboxItem]:
        """Lease the oldest rows not leased (or whose lease expired), in commit order."""
        now = self._clock.now()
        until = codec.to_micros(lease_end(now, limit, lease_seconds))
        return await self._db.write(
            partial(_claim, until=until, now=codec.to_micros(now), limit=limit), inline=True
        )

    async def mark_outbox_done(self, ids: Iterable[int]) -> int:
        """Remove rows once logged and routed."""
        wanted = sorted({int(item_id) for item_id in ids})
        return await self._db.write(
            partial(_mark_done, ids=wanted), inline=len(wanted) <= INLINE_EVENTS
        )
