"""The event log and outbox of ``PostgresStore``.

Positions are allocated under a lock held to commit: an append locks the ``last_position`` row
of ``store_meta``, numbers its events after it, inserts them, and writes the last one back, in
one statement (``append_events``: one round trip, its own transaction). Appends therefore run
one at a time across every process on the database, and commit in position order: a reader
paging the log while others write never sees a position appear behind one it has already read
(no gap fills in behind a cursor). That serialises appends, which the dispatcher makes in
batches (one statement per batch of claimed outbox rows), so the lock is taken once per batch,
not per event. Deleting events takes the same lock, so the per-stream counts that triggers keep
are always updated in one order (no deadlock between an append and a retention pass).

Within one process, appends and outbox inserts also go one at a time, in the order they were
called (``_ordered``), as SQLite's single writer does: positions and outbox ids then follow the
order of the calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg

from emitflow.clock import Clock
from emitflow.errors import StoreError
from emitflow.store import codec
from emitflow.store.paging import Window, lease_end, make_page
from emitflow.store.postgres.database import PostgresDatabase, status_count
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

__all__ = ["Encoded", "PostgresEvents", "encode_events", "insert_outbox", "outbox_items"]

Q = queries("postgres")
Encoded = list[tuple[NewEvent, str, str]]
_FILTER_COLUMNS = ("emitter_id", "channel", "type", "source", "subject")
# What a StoredEvent is made of: the indexed copies of the CloudEvent's attributes stay behind.
_PAGE_COLUMNS = "pos, emitter_id, channel, event, metadata"


def encode_events(events: Sequence[NewEvent]) -> Encoded:
    """Each event with its CloudEvent and metadata as JSON text (``StoreError`` if not JSON)."""
    return [
        (new, codec.dumps(new.event.to_dict()), codec.dumps(dict(new.metadata))) for new in events
    ]


async def insert_outbox(conn: asyncpg.Connection, encoded: Encoded, now_us: int) -> list[int]:
    """Add events to the outbox inside the caller's transaction; the new rows' ids, in order."""
    if not encoded:
        return []
    records = await conn.fetch(
        Q["insert_outbox"],
        [new.emitter_id for new, _, _ in encoded],
        [new.channel for new, _, _ in encoded],
        [body for _, body, _ in encoded],
        [meta for _, _, meta in encoded],
        now_us,
    )
    ids = sorted(int(record["id"]) for record in records)
    if len(ids) != len(encoded):
        raise StoreError(f"the outbox took {len(ids)} of {len(encoded)} rows")
    return ids


def outbox_items(encoded: Encoded, ids: Sequence[int], now_us: int) -> list[OutboxItem]:
    """The outbox items just inserted, made from what the caller gave."""
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


async def _append(
    conn: asyncpg.Connection, encoded: Encoded, floor: int
) -> list[int | StoredEvent]:
    """Append in one statement (its own transaction); each event's position, or the duplicate
    already stored."""
    events = [new.event for new, _, _ in encoded]
    found = await conn.fetchrow(
        Q["append_events"],
        floor,
        [new.emitter_id for new, _, _ in encoded],
        [new.channel for new, _, _ in encoded],
        [event.source for event in events],
        [event.id for event in events],
        [event.type for event in events],
        [event.subject for event in events],
        [body for _, body, _ in encoded],
        [meta for _, _, meta in encoded],
    )
    last = int(found["last"])
    positions = [max(floor + n, last + n + 1) for n in range(len(encoded))]
    inserted = {int(pos) for pos in found["inserted"]}
    if len(inserted) == len(positions):
        return list(positions)
    # Some were duplicates (a redelivery): they give back the event already stored.
    out: list[int | StoredEvent] = []
    for pos, (new, _, _) in zip(positions, encoded, strict=True):
        if pos in inserted:
            out.append(pos)
            continue
        existing = await conn.fetchrow(
            Q["existing_event"], new.emitter_id, new.event.source, new.event.id
        )
        if existing is None:
            raise StoreError(f"event {new.event.id!r} conflicts with no stored event")
        out.append(EVENT.from_row(existing))
    return out


def _appended(encoded: Encoded, results: list[int | StoredEvent]) -> list[StoredEvent]:
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


def page_sql(query: EventQuery, window: Window) -> tuple[str, list[Any]]:
    """The SELECT of one page of events and its parameters (``limit + 1`` rows). A counted
    query reads the stream's total in the same statement (one snapshot, one round trip): each
    row carries it in ``total``, and a page without rows is one row of ``NULL`` columns."""
    clauses: list[str] = []
    params: list[Any] = []
    values = (query.emitter_id, query.channel, query.type, query.source, query.subject)
    for column, value in zip(_FILTER_COLUMNS, values, strict=True):
        if value is not None:
            params.append(value)
            clauses.append(f"{column} = ${len(params)}")
    for bound, op in ((window.lower, ">"), (window.upper, "<")):
        if bound is not None:
            params.append(bound)
            clauses.append(f"pos {op} ${len(params)}")
    where = " AND ".join(clauses) or "TRUE"
    order = "ASC" if window.ascending else "DESC"
    params.append(window.limit + 1)
    page = (
        f"SELECT {_PAGE_COLUMNS} FROM events WHERE {where} ORDER BY pos {order}"
        f" LIMIT ${len(params)}"
    )
    if not query.counted:
        return page, params
    counted = "emitter_id = $1" + ("" if query.channel is None else " AND channel = $2")
    return (
        f"WITH page AS ({page}) SELECT counts.total, page.* FROM"
        f" (SELECT coalesce(sum(n), 0)::bigint AS total FROM event_counts WHERE {counted})"
        f" counts LEFT JOIN page ON TRUE ORDER BY page.pos {order}",
        params,
    )


class PostgresEvents:
    """Event log and outbox operations; ``PostgresStore`` adds the rest."""

    _db: PostgresDatabase
    _clock: Clock
    _ordered: asyncio.Lock

    # --- event log -----------------------------------------------------------------------

    async def append_events(self, events: Sequence[NewEvent]) -> list[StoredEvent]:
        """Append events in order; a duplicate gives back the event already stored."""
        floor = codec.epoch_ms(self._clock.now()) << codec.SEQ_BITS
        encoded = encode_events(events)
        if not encoded:
            return []
        async with self._ordered, self._db.connection() as conn:  # one statement
            results = await _append(conn, encoded, floor)
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
        sql, params = page_sql(query, window)
        async with self._db.connection() as conn:
            found = await conn.fetch(sql, *params)
        total = None
        if query.counted:
            total = int(found[0]["total"])
            found = [row for row in found if row["pos"] is not None]
        return make_page([EVENT.from_row(r) for r in found], window, _cursor, total)

    async def delete_events(
        self,
        emitter_id: str,
        *,
        start: str | None = None,
        end: str | None = None,
        channel: str | None = None,
    ) -> int:
        """Delete an emitter's events with ``start <= position <= end``."""
        params: list[Any] = [emitter_id]
        clauses = ["emitter_id = $1"]
        for bound, op in ((start, ">="), (end, "<=")):
            if bound is not None:
                params.append(codec.position_key(bound))
                clauses.append(f"pos {op} ${len(params)}")
        if channel is not None:
            params.append(channel)
            clauses.append(f"channel = ${len(params)}")
        async with self._db.transaction() as conn:
            await conn.fetchval(Q["lock_positions"])
            status = await conn.execute(
                f"DELETE FROM events WHERE {' AND '.join(clauses)}", *params
            )
        return status_count(status)

    async def apply_retention(self, policy: RetentionPolicy) -> int:
        """Delete events older than ``max_age`` and beyond ``max_count`` per stream."""
        cutoff = None
        if policy.max_age is not None:
            cutoff = codec.epoch_ms(self._clock.now() - policy.max_age) << codec.SEQ_BITS
        keep = policy.max_count
        if cutoff is None and keep is None:
            return 0
        deleted = 0
        async with self._db.transaction() as conn:
            await conn.fetchval(Q["lock_positions"])
            if cutoff is not None:
                deleted += status_count(await conn.execute(Q["delete_events_before"], cutoff))
            if keep is not None:
                for stream in await conn.fetch(Q["long_streams"], keep):
                    key = (stream["emitter_id"], stream["channel"])
                    if keep == 0:
                        status = await conn.execute(Q["delete_stream"], *key)
                    else:
                        status = await conn.execute(Q["trim_stream"], *key, keep - 1)
                    deleted += status_count(status)
        return deleted

    # --- outbox --------------------------------------------------------------------------

    async def enqueue_events(self, events: Sequence[NewEvent]) -> list[OutboxItem]:
        """Put events in the outbox."""
        encoded, now_us = encode_events(events), codec.to_micros(self._clock.now())
        if not encoded:
            return []
        async with self._ordered, self._db.connection() as conn:  # one statement
            ids = await insert_outbox(conn, encoded, now_us)
        return outbox_items(encoded, ids, now_us)

    async def claim_outbox(
        self, *, limit: int = 100, lease_seconds: float = 30.0
    ) -> list[OutboxItem]:
        """Lease the oldest rows not leased (or whose lease expired), in commit order."""
        now = self._clock.now()
        until = codec.to_micros(lease_end(now, limit, lease_seconds))
        async with self._db.connection() as conn:  # one statement
            found = await conn.fetch(Q["claim_outbox"], until, codec.to_micros(now), limit)
        return sorted((OUTBOX.from_row(r) for r in found), key=lambda item: item.id)

    async def mark_outbox_done(self, ids: Iterable[int]) -> int:
        """Remove rows once logged and routed."""
        wanted = sorted({int(item_id) for item_id in ids})
        if not wanted:
            return 0
        async with self._db.connection() as conn:  # one statement
            return status_count(await conn.execute(Q["mark_outbox_done"], wanted))


def _cursor(stored: StoredEvent) -> str:
    return stored.position
