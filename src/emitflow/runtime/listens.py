"""``ListenHub``: the runtime's ``ListenPort`` — events for runs waiting in ``listen`` tasks.

Entering a ``listen`` registers a ``Wait`` (run id, task reference) in the store with the newest
log position as its starting point; every event the dispatcher logs afterwards (emitted or
ingested) is offered to the waiting task, which keeps what its strategy consumes. Each consumed
event is saved in the wait's state with the position it was read at. After a restart the
resumed run re-enters the listen, takes its saved progress back, and first reads the stored
events it has not seen (after the saved position), then live ones — so an event logged while
the process was down, or before the resumed run got back to its listen, is not missed, and none
is read twice. Leaving the listen removes the wait; so does the end of the run, in the
transaction that commits it (a listen that timed out or faulted leaves nothing behind).

On a store several processes share, the events are offered by a ``LogFollower`` (those that
any process logged); ``starting`` lets it fix its starting point before an inbox is added.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from emitflow.store.base import EventLog, RunStore, WaitStore
from emitflow.store.records import RESERVED_CHANNELS, StoredEvent, Wait

__all__ = ["ListenHub"]

logger = logging.getLogger(__name__)

_REPLAY_PAGE = 500


class _Store(EventLog, RunStore, WaitStore, Protocol):
    """What waiting runs need of the store."""


def _key(position: str) -> tuple[int, int]:
    millis, _, seq = position.partition("-")
    return int(millis), int(seq)


class _Inbox:
    """One waiting task: a backlog read from the log, then the live events."""

    def __init__(self, hub: ListenHub, wait: Wait, saved: Mapping[str, Any] | None) -> None:
        self._hub = hub
        self._wait = wait
        self._saved = saved
        self.live: asyncio.Queue[StoredEvent] = asyncio.Queue()
        self._backlog: list[StoredEvent] = []
        self._last: tuple[int, int] = _key(str(wait.state.get("position", "0-0")))
        self.run_id = wait.run_id

    async def load_backlog(self) -> None:
        """The stored events after the position this wait has read up to, oldest first."""
        cursor = "{}-{}".format(*self._last)
        while True:
            page = await self._hub.store.list_events(None, limit=_REPLAY_PAGE, after=cursor)
            self._backlog.extend(reversed(page.items))
            if not page.has_more or page.start_cursor is None:
                return
            cursor = page.start_cursor

    async def next(self) -> Mapping[str, Any]:
        """The next event not read yet."""
        while True:
            stored = self._backlog.pop(0) if self._backlog else await self.live.get()
            if stored.channel in RESERVED_CHANNELS:
                continue
            key = _key(stored.position)
            if key <= self._last:
                continue
            self._last = key
            return stored.event

    def saved(self) -> Mapping[str, Any] | None:
        """The progress saved before a restart."""
        return self._saved

    async def save(self, state: Mapping[str, Any]) -> None:
        """Keep the progress and the position read up to."""
        position = "{}-{}".format(*self._last)
        wait = Wait(
            run_id=self._wait.run_id,
            reference=self._wait.reference,
            workflow_id=self._wait.workflow_id,
            state={"position": position, "progress": dict(state)},
        )
        await self._hub.store.put_wait(wait)

    async def close(self) -> None:
        """The listen is over: forget the wait."""
        self.detach()
        await self._hub.store.delete_wait(self._wait.run_id, self._wait.reference)

    def detach(self) -> None:
        """Stop receiving live events; the stored wait stays for a resumed run."""
        self._hub.forget(self)


class ListenHub:
    """Offers every logged event to the ``listen`` tasks waiting in this process."""

    def __init__(self, store: _Store, *, changed: Callable[[int], None] | None = None) -> None:
        self.store = store
        self._inboxes: set[_Inbox] = set()
        #: Told how many runs wait when one starts or stops waiting (the engine's idle check).
        self._changed = changed
        #: Awaited before an inbox is added (the log follower's start).
        self.starting: Callable[[], Awaitable[None]] | None = None

    @property
    def waiting(self) -> int:
        """How many runs of this process are blocked in a ``listen`` task."""
        return len({inbox.run_id for inbox in self._inboxes})

    async def open(self, run_id: str, reference: str) -> _Inbox:
        """Register (or take back, after a restart) the wait of a run's ``listen`` task."""
        existing = [
            w for w in await self.store.list_waits(run_id=run_id) if w.reference == reference
        ]
        if existing and isinstance(existing[0].state, Mapping):
            wait = existing[0]
            progress = wait.state.get("progress")
            saved = progress if isinstance(progress, Mapping) else None
        else:
            run = await self.store.get_run(run_id)
            newest = (await self.store.list_events(None, limit=1)).start_cursor or "0-0"
            wait = Wait(
                run_id=run_id,
                reference=reference,
                workflow_id=run.workflow_id,
                state={"position": newest},
            )
            await self.store.put_wait(wait)
            saved = None
        inbox = _Inbox(self, wait, saved)
        if self.starting is not None:
            await self.starting()
        self._inboxes.add(inbox)  # live first, then the backlog: nothing falls between
        await inbox.load_backlog()
        self._tell()
        return inbox

    def forget(self, inbox: _Inbox) -> None:
        """Stop offering events to an inbox."""
        if inbox in self._inboxes:
            self._inboxes.discard(inbox)
            self._tell()

    def _tell(self) -> None:
        if self._changed is not None:
            self._changed(self.waiting)

    def offer(self, events: list[StoredEvent]) -> None:
        """Hand freshly logged events to every waiting task."""
        if not self._inboxes:
            return
        for inbox in tuple(self._inboxes):
            for stored in events:
                inbox.live.put_nowait(stored)
