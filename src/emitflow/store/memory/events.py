"""The in-memory event log and outbox: the half of ``MemoryStore`` that holds events."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from emitflow.clock import Clock
from emitflow.events.cloudevent import CloudEvent
from emitflow.store import codec
from emitflow.store.paging import Window, lease_end, make_page, scan
from emitflow.store.records import (
    EventQuery,
    NewEvent,
    OutboxItem,
    Page,
    RetentionPolicy,
    StoredEvent,
)

__all__ = ["MemoryEvents"]


def _matches(stored: StoredEvent, query: EventQuery) -> bool:
    event = stored.event
    checks = (
        (query.channel, stored.channel),
        (query.type, event.get("type")),
        (query.source, event.get("source")),
        (query.subject, event.get("subject")),
    )
    return all(wanted is None or wanted == actual for wanted, actual in checks)


class MemoryEvents:
    """Event log and outbox state and operations; ``MemoryStore`` adds the rest."""

    _clock: Clock

    def __init__(self) -> None:
        self._events: dict[int, StoredEvent] = {}
        self._keys: list[int] = []
        self._by_emitter: dict[str, list[int]] = {}
        self._dedupe: dict[tuple[str, str, str], int] = {}
        self._last_position = 0
        self._outbox: dict[int, OutboxItem] = {}
        self._outbox_leases: dict[int, datetime] = {}
        self._outbox_seq = 0

    def _check_open(self) -> None:
        """Raise ``StoreError`` unless the store is open (``MemoryStore`` decides)."""
        raise NotImplementedError

    # --- event log -----------------------------------------------------------------------

    async def append_events(self, events: Sequence[NewEvent]) -> list[StoredEvent]:
        """Append events in order; a duplicate gives back the event already stored."""
        self._check_open()
        # Encode the whole batch first, so a bad entry refuses it before anything is stored.
        prepared = [
            (new, codec.json_copy(new.event.to_dict()), codec.json_copy(dict(new.metadata)))
            for new in events
        ]
        out: list[StoredEvent] = []
        for new, body, meta in prepared:
            key = (new.emitter_id, new.event.source, new.event.id)
            existing = self._dedupe.get(key)
            if existing is not None:
                out.append(self._events[existing])
                continue
            position = codec.next_position(self._last_position, codec.epoch_ms(self._clock.now()))
            self._last_position = position
            stored = StoredEvent(
                position=codec.position_text(position),
                emitter_id=new.emitter_id,
                channel=new.channel,
                indexed_at_ms=codec.position_ms(position),
                event=body,
                metadata=meta,
            )
            self._events[position] = stored
            self._keys.append(position)
            self._by_emitter.setdefault(new.emitter_id, []).append(position)
            self._dedupe[key] = position
            out.append(stored)
        return out

    async def list_events(
        self,
        query: EventQuery | None = None,
        *,
        limit: int = 10,
        before: str | None = None,
        after: str | None = None,
    ) -> Page[StoredEvent]:
        """Events newest first; cursors are positions."""
        self._check_open()
        query = query or EventQuery()
        window = Window.of(
            limit,
            None if before is None else codec.position_key(before),
            None if after is None else codec.position_key(after),
        ).narrowed(*codec.position_bounds(query.since, query.until))
        keys = (
            self._keys if query.emitter_id is None else self._by_emitter.get(query.emitter_id, [])
        )
        found = scan(keys, window, lambda key: _matches(self._events[key], query))
        total = None
        if query.counted:
            total = sum(1 for key in keys if _matches(self._events[key], query))
        rows = [self._events[key] for key in found]
        return make_page(rows, window, lambda stored: stored.position, total)

    async def delete_events(
        self,
        emitter_id: str,
        *,
        start: str | None = None,
        end: str | None = None,
        channel: str | None = None,
    ) -> int:
        """Delete an emitter's events with ``start <= position <= end``."""
        self._check_open()
        low = 0 if start is None else codec.position_key(start)
        high = None if end is None else codec.position_key(end)
        doomed = [
            key
            for key in self._by_emitter.get(emitter_id, [])
            if key >= low
            and (high is None or key <= high)
            and (channel is None or self._events[key].channel == channel)
        ]
        self._forget(doomed)
        return len(doomed)

    async def apply_retention(self, policy: RetentionPolicy) -> int:
        """Delete events older than ``max_age`` and beyond ``max_count`` per stream."""
        self._check_open()
        doomed: set[int] = set()
        if policy.max_age is not None:
            cutoff = codec.epoch_ms(self._clock.now() - policy.max_age) << codec.SEQ_BITS
            doomed.update(key for key in self._keys if key < cutoff)
        if policy.max_count is not None:
            streams: dict[tuple[str, str], list[int]] = {}
            for key in self._keys:
                stored = self._events[key]
                streams.setdefault((stored.emitter_id, stored.channel), []).append(key)
            for keys in streams.values():
                doomed.update(keys[: max(0, len(keys) - policy.max_count)])
        self._forget(doomed)
        return len(doomed)

    def _forget(self, keys: Iterable[int]) -> None:
        gone = set(keys)
        if not gone:
            return
        for key in gone:
            stored = self._events.pop(key)
            source, event_id = str(stored.event["source"]), str(stored.event["id"])
            del self._dedupe[(stored.emitter_id, source, event_id)]
        self._keys = [key for key in self._keys if key not in gone]
        for emitter_id, keys in list(self._by_emitter.items()):
            kept = [key for key in keys if key not in gone]
            if kept:
                self._by_emitter[emitter_id] = kept
            else:
                del self._by_emitter[emitter_id]

    # --- outbox --------------------------------------------------------------------------

    def _prepare_outbox(self, events: Sequence[NewEvent]) -> list[OutboxItem]:
        """Outbox items for ``events``, encoded and numbered but not yet stored."""
        now = codec.utc(self._clock.now())
        return [
            OutboxItem(
                id=self._outbox_seq + offset,
                emitter_id=new.emitter_id,
                channel=new.channel,
                event=CloudEvent.from_dict(codec.json_copy(new.event.to_dict())),
                metadata=codec.json_copy(dict(new.metadata)),
                created_at=now,
                attempts=0,
            )
            for offset, new in enumerate(events, start=1)
        ]

    def _push_outbox(self, items: Sequence[OutboxItem]) -> None:
        for item in items:
            self._outbox[item.id] = item
            self._outbox_seq = max(self._outbox_seq, item.id)

    async def enqueue_events(self, events: Sequence[NewEvent]) -> list[OutboxItem]:
        """Put events in the outbox."""
        self._check_open()
        items = self._prepare_outbox(events)
        self._push_outbox(items)
        return items

    async def claim_outbox(
        self, *, limit: int = 100, lease_seconds: float = 30.0
    ) -> list[OutboxItem]:
        """Lease the oldest rows not leased (or whose lease expired), in commit order."""
        self._check_open()
        now = self._clock.now()
        until = lease_end(now, limit, lease_seconds)
        claimed: list[OutboxItem] = []
        for item_id, item in self._outbox.items():
            if len(claimed) >= limit:
                break
            lease = self._outbox_leases.get(item_id)
            if lease is not None and lease > now:
                continue
            taken = replace(item, attempts=item.attempts + 1)
            self._outbox[item_id] = taken
            self._outbox_leases[item_id] = until
            claimed.append(taken)
        return claimed

    async def mark_outbox_done(self, ids: Iterable[int]) -> int:
        """Remove rows once logged and routed."""
        self._check_open()
        done = 0
        for item_id in set(ids):
            if self._outbox.pop(item_id, None) is not None:
                self._outbox_leases.pop(item_id, None)
                done += 1
        return done
