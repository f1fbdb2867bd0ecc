"""``EventFeed``: every event the dispatcher appends to the log, handed to live readers.

A reader (an SSE client) gets a bounded queue. Publishing never waits: a reader whose queue is
full is marked ``lagged`` and gets nothing more from the feed; it is expected to catch up from
the store (the log holds every event, and the reader knows its last position) and subscribe
again. With nobody reading, publishing costs one length check.

On a store several processes share, the feed is fed by a ``LogFollower`` (every event of the
log, whoever appended it); ``attach`` then lets the follower fix its starting point before the
reader is added, so that nothing logged after ``attach`` returns is missed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from emitflow.store.records import StoredEvent

__all__ = ["EventFeed", "FeedReader"]

DEFAULT_READER_QUEUE = 10_000


class FeedReader:
    """One live reader's queue of stored events; ``lagged`` once it fell behind."""

    def __init__(self, feed: EventFeed, size: int) -> None:
        self._feed = feed
        self.queue: asyncio.Queue[StoredEvent] = asyncio.Queue(maxsize=size)
        self.lagged = asyncio.Event()

    def offer(self, events: Iterable[StoredEvent]) -> None:
        """Queue events unless the reader has fallen behind (then it stops receiving)."""
        if self.lagged.is_set():
            return
        for event in events:
            try:
                self.queue.put_nowait(event)
            except asyncio.QueueFull:
                self.lagged.set()
                return

    def close(self) -> None:
        """Stop receiving."""
        self._feed.discard(self)


class EventFeed:
    """Fans logged events out to live readers without ever blocking the dispatcher."""

    def __init__(self) -> None:
        self._readers: set[FeedReader] = set()
        #: Awaited by ``attach`` before a reader is added (the log follower's start).
        self.starting: Callable[[], Awaitable[None]] | None = None

    def reader(self, *, size: int = DEFAULT_READER_QUEUE) -> FeedReader:
        """A new reader; call ``close()`` when done."""
        reader = FeedReader(self, size)
        self._readers.add(reader)
        return reader

    async def attach(self, *, size: int = DEFAULT_READER_QUEUE) -> FeedReader:
        """A new reader that gets every event logged from now on; call ``close()`` when done."""
        if self.starting is not None:
            await self.starting()
        return self.reader(size=size)

    def discard(self, reader: FeedReader) -> None:
        """Forget a reader."""
        self._readers.discard(reader)

    @property
    def readers(self) -> int:
        """How many readers are attached."""
        return len(self._readers)

    def publish(self, events: list[StoredEvent]) -> None:
        """Hand freshly logged events (in log order) to every reader."""
        if not self._readers or not events:
            return
        for reader in tuple(self._readers):
            reader.offer(events)
