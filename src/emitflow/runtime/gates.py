"""Per-workflow concurrency: how many runs of one workflow go at once, and who waits.

A ``Gate`` runs at most ``limit`` jobs at a time (``None``: no limit) and queues the rest in
order. Event deliveries ask first (``offer``): with the queue full, or with an earlier event
for the same workflow still waiting for room, the delivery is refused and the gate remembers
that outbox row, so the rows it refused are let in strictly in outbox order once room appears.
That is what keeps "concurrency 1 = one run at a time, in event order" true under overflow.
Manual and timer starts are never refused (``admit`` always queues); a public hook's start
is, past a bound on the runs waiting (``reserve``), so that a flood of requests cannot queue
without end.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["Gate", "Job"]

logger = logging.getLogger(__name__)

#: A run to execute once the gate lets it through.
Job = Callable[[], Coroutine[Any, Any, None]]


class Gate:
    """The concurrency limit and bounded queue of one workflow."""

    def __init__(
        self,
        workflow_id: str,
        limit: int | None,
        queue_size: int,
        *,
        room: Callable[[], None],
        spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]],
    ) -> None:
        self.workflow_id = workflow_id
        self.limit = limit
        self.queue_size = queue_size
        self._room = room
        self._spawn = spawn
        self._running = 0
        self._promised = 0  # deliveries let in whose runs are not admitted yet
        self._queue: deque[Job] = deque()
        self._refused: list[int] = []
        self._reserved = 0
        self.closed = False

    @property
    def busy(self) -> int:
        """Runs executing or queued here."""
        return self._running + len(self._queue)

    @property
    def running(self) -> int:
        """Runs executing now."""
        return self._running

    @property
    def queued(self) -> int:
        """Runs waiting for a slot."""
        return len(self._queue)

    @property
    def backlog(self) -> int:
        """Runs in flight past the concurrency limit, counting hook starts under way: what
        ``reserve`` bounds. Without a limit every run in flight counts (each may wait for a
        code-step worker)."""
        return max(self.busy + self._reserved - (self.limit or 0), 0)

    def reserve(self, bound: int) -> bool:
        """Hold a place for a run about to be started (a public hook), unless ``backlog`` is
        already ``bound``; ``unreserve`` once it is admitted (or was not created)."""
        if self.backlog >= bound:
            return False
        self._reserved += 1
        return True

    def unreserve(self) -> None:
        """A place held by ``reserve`` is no longer needed."""
        self._reserved = max(self._reserved - 1, 0)

    @property
    def refused(self) -> bool:
        """True while some outbox row was refused and not yet let in."""
        return bool(self._refused)

    def offer(self, outbox_id: int) -> bool:
        """May the delivery of this outbox row be admitted now? If not, it is remembered.

        A delivery let in holds a place (running or queued) until ``release``, so the runs of
        a batch of events, created together after they were all offered, still fit the limit
        and the queue.
        """
        has_room = self.limit is None or self._promised < self._places()
        first_waiting = not self._refused or outbox_id <= self._refused[0]
        if has_room and first_waiting:
            if self._refused and self._refused[0] == outbox_id:
                self._refused.pop(0)
            self._promised += 1
            return True
        if outbox_id not in self._refused:
            self._refused.append(outbox_id)
            self._refused.sort()
        return False

    def release(self) -> None:
        """A delivery let in by ``offer`` is over (its run admitted, or none was needed)."""
        self._promised = max(self._promised - 1, 0)

    def _places(self) -> int:
        """Runs that could still be admitted: free slots, then room in the queue."""
        limit = self.limit if self.limit is not None else 0
        return max(limit - self._running, 0) + self.queue_size - len(self._queue)

    def forget(self, outbox_id: int) -> None:
        """Stop waiting for a row (it was delivered elsewhere, or given up)."""
        if outbox_id in self._refused:
            self._refused.remove(outbox_id)

    def admit(self, job: Job) -> None:
        """Run ``job`` now if a slot is free, else queue it (never refused)."""
        if self.limit is None or self._running < self.limit:
            self._start(job)
        else:
            self._queue.append(job)

    def _start(self, job: Job) -> None:
        self._running += 1
        self._spawn(self._guarded(job))

    async def _guarded(self, job: Job) -> None:
        try:
            await job()
        finally:
            self._running -= 1
            self._next()

    def _next(self) -> None:
        if self.closed:
            return
        if self._queue and (self.limit is None or self._running < self.limit):
            self._start(self._queue.popleft())
        if self._refused:
            self._room()
