"""``LogFollower``: the event log as live readers see it when several processes share a store.

On one process the dispatcher hands each event it logs to the live feed (SSE) and to the runs
waiting in ``listen`` tasks. With several processes an event may be logged by any of them, so
on a shared store the follower is the one that hands events on: it reads the log after the
last position it handed on, oldest first, and publishes what it read, in log order, to the feed
and the listen hub, so that nothing is handed on twice and nothing is skipped (the store never
lets an event appear behind a position already read).

It reads only while someone listens (a feed reader or a waiting ``listen``): woken by this
process's dispatcher after it logged events, by the store's ``events`` change (another process
logged some), and every ``rescan_seconds`` besides (a change report may be lost). With nobody
listening it reads nothing and forgets its position; the first to listen again awaits
``attach``, which reads the newest position, so that what is logged after it is not missed (a
reader added with the plain ``EventFeed.reader`` is noticed within ``rescan_seconds``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from emitflow.runtime.feed import EventFeed
from emitflow.runtime.listens import ListenHub
from emitflow.store.base import EventLog

__all__ = ["LogFollower"]

logger = logging.getLogger(__name__)

_PAGE = 500


class LogFollower:
    """Reads the shared log after its position and hands the events to live readers."""

    def __init__(
        self, store: EventLog, feed: EventFeed, listens: ListenHub, *, rescan_seconds: float
    ) -> None:
        self._store = store
        self._feed = feed
        self._listens = listens
        self._rescan = rescan_seconds
        self._signal = asyncio.Event()
        self._position: str | None = None
        self._starting: asyncio.Lock = asyncio.Lock()
        feed.starting = self.attach
        listens.starting = self.attach

    @property
    def position(self) -> str | None:
        """The last position handed on (``None`` while nobody listens)."""
        return self._position

    @property
    def listened(self) -> bool:
        """True while a feed reader or a waiting ``listen`` wants events."""
        return self._feed.readers > 0 or self._listens.waiting > 0

    def wake(self) -> None:
        """Events were logged (here or elsewhere): read them soon."""
        self._signal.set()

    async def attach(self) -> None:
        """Fix the starting point (the newest position) if there is none yet."""
        if self._position is not None:
            return
        async with self._starting:
            if self._position is None:
                newest = await self._store.list_events(None, limit=1)
                self._position = newest.start_cursor or "0-0"
        self._signal.set()

    async def follow(self) -> int:
        """Hand on every event logged after the position; how many."""
        handed = 0
        while self._position is not None:
            page = await self._store.list_events(None, limit=_PAGE, after=self._position)
            if not page.items:
                return handed
            events = list(reversed(page.items))
            self._position = events[-1].position
            self._feed.publish(events)
            self._listens.offer(events)
            handed += len(events)
            if not page.has_more:
                return handed
        return handed

    async def run(self) -> None:
        """Follow while someone listens, sleeping until woken or the re-scan; until cancelled."""
        while True:
            self._signal.clear()
            if not self.listened:
                self._position = None  # nobody to hand events to: start afresh when asked
            else:
                try:
                    # A reader added without ``attach`` (``EventFeed.reader``) starts here.
                    await self.attach()
                    await self.follow()
                except Exception:
                    logger.exception("reading the event log failed; retrying")
            # Idle, the loop only looks whether someone started listening: no query.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._rescan):  # not wait_for: see Dispatcher.run
                    await self._signal.wait()
