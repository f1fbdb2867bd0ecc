"""``SharedMemoryStore``: a memory store that says it is shared, for several engines in one test.

Each engine on it plays a process of its own over one database: the store stays open until
the last engine closed it, and every write that another process would hear of through
PostgreSQL's ``NOTIFY`` is reported to every engine's ``on_change`` callback (the writer's
too, which an engine must bear: reports are advisory). Topics in ``quiet`` are not reported,
so that a test sees the re-scan timers (or one process alone) do the work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import ClassVar

from emitflow.runtime import Engine
from emitflow.store.memory import MemoryStore
from emitflow.store.records import (
    NewEvent,
    NewRun,
    OutboxItem,
    RunRecord,
    StoredEvent,
    Transition,
)

__all__ = ["SharedMemoryStore", "crash"]


async def crash(engine: Engine) -> None:
    """Stop an engine as a killed process stops: its loops and runs end, nothing is closed
    and nothing more is written (its leases run out)."""
    tasks = [*engine._background, *engine._runs._tasks]
    if engine._heartbeat is not None:
        tasks.append(engine._heartbeat)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    engine._background, engine._heartbeat = [], None


class SharedMemoryStore(MemoryStore):
    """A ``MemoryStore`` with ``shared = True`` and change reports."""

    shared: ClassVar[bool] = True

    def __init__(self, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self._callbacks: list[Callable[[str], None]] = []
        self._opened = 0
        self.quiet: set[str] = set()
        self.reports: list[str] = []

    def on_change(self, callback: Callable[[str], None]) -> None:
        self._callbacks.append(callback)

    def report(self, topic: str) -> None:
        """Tell every engine of a change (as a ``NOTIFY`` would)."""
        self.reports.append(topic)
        if topic in self.quiet:
            return
        for callback in tuple(self._callbacks):
            callback(topic)

    async def open(self) -> None:
        self._opened += 1
        await super().open()

    async def close(self) -> None:
        self._opened = max(self._opened - 1, 0)
        if not self._opened:
            await super().close()

    async def enqueue_events(self, events: Sequence[NewEvent]) -> list[OutboxItem]:
        items = await super().enqueue_events(events)
        self.report("outbox")
        return items

    async def append_events(self, events: Sequence[NewEvent]) -> list[StoredEvent]:
        stored = await super().append_events(events)
        self.report("events")
        return stored

    async def create_run(self, new: NewRun) -> tuple[RunRecord, bool]:
        made = await super().create_run(new)
        if new.lease is None:
            self.report("runs")
        return made

    async def create_runs(self, news: Sequence[NewRun]) -> list[tuple[RunRecord, bool]]:
        made = await super().create_runs(news)
        if any(new.lease is None for new in news):
            self.report("runs")
        return made

    async def commit_transition(
        self, transition: Transition, events: Sequence[NewEvent] = ()
    ) -> list[OutboxItem]:
        items = await super().commit_transition(transition, events)
        if items:
            self.report("outbox")
        return items

    async def commit_transitions(
        self, steps: Sequence[tuple[Transition, Sequence[NewEvent]]]
    ) -> list[list[OutboxItem]]:
        items = await super().commit_transitions(steps)
        if any(items):
            self.report("outbox")
        return items
