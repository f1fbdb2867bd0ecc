"""News of other processes' writes: ``LISTEN`` on one dedicated connection.

Statement-level triggers (migration 0001) send ``NOTIFY`` on the channel of the store's schema
(``emitflow.<schema>``) with a topic of ``CHANGE_TOPICS`` as the payload; PostgreSQL delivers a
transaction's notifications when it commits, folded to one per topic. One connection outside
the pool listens; a lost connection is replaced in the background (with growing pauses), and
the reports sent meanwhile are lost, which the contract allows: users re-scan on a timer too.
This process's own writes are reported to it as well, which is harmless (a claim that finds
nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

from emitflow.errors import StoreError
from emitflow.store.base import CHANGE_TOPICS
from emitflow.store.postgres.database import DRIVER_ERRORS, PostgresDatabase
from emitflow.store.queries import queries

__all__ = ["ChangeListener"]

log = logging.getLogger(__name__)

_FIRST_PAUSE = 0.2
_LONGEST_PAUSE = 10.0


class ChangeListener:
    """Calls each registered callback with the topic of every notification of the store."""

    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db
        self._callbacks: list[Callable[[str], None]] = []
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._running = False

    def add(self, callback: Callable[[str], None]) -> None:
        """Report changes to ``callback`` too; starts listening if the store is open."""
        self._callbacks.append(callback)
        if self._running and self._conn is None and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._reconnect())

    @property
    def listening(self) -> bool:
        """Whether the LISTEN connection is up."""
        return self._conn is not None and not self._conn.is_closed()

    async def start(self) -> None:
        """Listen from now on, if anybody wants the reports (connects now, so a write
        committed after ``start`` returns is reported)."""
        self._running = True
        if self._callbacks and self._conn is None:
            await self._listen()

    async def close(self) -> None:
        """Stop listening; safe to call twice."""
        self._running = False
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(*DRIVER_ERRORS):
                await conn.close(timeout=2)

    async def _listen(self) -> None:
        conn = await self._db.connect()
        try:
            channel = await conn.fetchval(queries("postgres")["change_channel"])
            await conn.add_listener(channel, self._notified)
        except DRIVER_ERRORS as exc:
            conn.terminate()
            raise StoreError(f"cannot listen for changes at {self._db.where}: {exc}") from exc
        except BaseException:  # cancelled by close(): the connection must not outlive it
            conn.terminate()
            raise
        conn.add_termination_listener(self._lost)
        self._conn = conn

    def _notified(self, conn: asyncpg.Connection, pid: int, channel: str, payload: object) -> None:
        if payload not in CHANGE_TOPICS:
            return
        topic = str(payload)
        for callback in list(self._callbacks):
            try:
                callback(topic)
            except Exception:  # one bad callback must not stop the others
                log.exception("change callback failed", extra={"topic": topic})

    def _lost(self, conn: asyncpg.Connection) -> None:
        if conn is not self._conn:
            return
        self._conn = None
        if self._running and self._task is None:
            log.warning("lost the change listener's connection; reconnecting")
            self._task = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        pause = _FIRST_PAUSE
        try:
            while self._running and self._conn is None:
                try:
                    await self._listen()
                except StoreError:
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, _LONGEST_PAUSE)
        finally:
            self._task = None
