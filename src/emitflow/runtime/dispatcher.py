"""``Dispatcher``: the background task that moves committed events from the outbox onwards.

Each pass claims outbox rows in order (leased, so a crashed dispatcher's rows come back),
appends them to the event log (the store dedupes on emitter + source + id, so a row delivered
twice keeps its first position), routes them, and only then marks them done. Rows a gate
refused stay claimed here, un-done, and are offered again when that gate signals room.

It sleeps on an asyncio event that every local outbox write sets; with nothing signalled it
re-scans every ``rescan_seconds`` for rows written by other processes and for expired leases.
A row that keeps failing to route is given up after ``MAX_ATTEMPTS`` tries: it stays in the
log, a report goes on its emitter's ``$errors`` channel, and it leaves the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from emitflow.errors import StoreUnavailableError
from emitflow.runtime.feed import EventFeed
from emitflow.runtime.listens import ListenHub
from emitflow.runtime.router import Delivery, Router
from emitflow.runtime.settings import EngineSettings
from emitflow.store.base import EventLog, Outbox
from emitflow.store.records import NewEvent

__all__ = ["MAX_ATTEMPTS", "Dispatcher"]

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
#: Claimed rows kept waiting for room, as a multiple of the claim batch, before claiming stops.
_HELD_BATCHES = 10


class _Store(EventLog, Outbox, Protocol):
    """What the dispatcher needs of the store."""


class Dispatcher:
    """Outbox → event log → router, one pass at a time, woken by signals."""

    def __init__(
        self,
        store: _Store,
        router: Router,
        settings: EngineSettings,
        *,
        feed: EventFeed | None = None,
        listens: ListenHub | None = None,
    ) -> None:
        self._store = store
        self._router = router
        self._settings = settings
        self._signal = asyncio.Event()
        self._held: dict[int, Delivery] = {}
        self._writes = 0
        self._idle_at = -1
        self._idle = asyncio.Event()
        #: Live readers of the log (the API's event stream); ``None``: nobody to tell.
        self.feed = feed
        #: Runs waiting in ``listen`` tasks.
        self.listens = listens
        #: Told after each append (on a shared store the log follower hands events on).
        self.logged: Callable[[], None] | None = None

    def wake(self) -> None:
        """Rows were written (or a gate has room): run a pass soon."""
        self._writes += 1
        self._idle.clear()
        self._signal.set()

    @property
    def quiet(self) -> bool:
        """True when the last pass found nothing to do and nothing was written since."""
        return self._idle_at == self._writes and not self._held

    async def wait_quiet(self) -> None:
        """Return once a pass has found nothing to do after the latest write."""
        while not self.quiet:
            await self._idle.wait()

    async def run(self) -> None:
        """Pass after pass until cancelled."""
        while True:
            seen = self._writes
            self._signal.clear()
            try:
                progressed = await self.run_pass()
            except Exception:
                # The loop must outlive a failed pass (the store failing, a bug): the rows stay
                # leased and come back once the lease ends; the error is logged, not lost.
                logger.exception("dispatcher pass failed; retrying after the re-scan delay")
                progressed = False
            if progressed:
                continue
            if seen == self._writes and not self._held:
                self._idle_at = seen
                self._idle.set()
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation that
            # arrives as the event is set, and the dispatcher would then never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._settings.rescan_seconds):
                    await self._signal.wait()

    async def run_pass(self) -> bool:
        """Claim, log, route and finish what can be finished; ``True`` if anything moved."""
        claimed = []
        if len(self._held) < self._settings.claim_batch * _HELD_BATCHES:
            claimed = await self._store.claim_outbox(
                limit=self._settings.claim_batch, lease_seconds=self._settings.lease_seconds
            )
        fresh = [item for item in claimed if item.id not in self._held]
        for item in fresh:
            self._held[item.id] = Delivery(item=item)
        if not self._held:
            return False
        await self._log([d for d in self._held.values() if d.stored is None])
        self._router.begin_batch()
        routed = [
            item_id for item_id in sorted(self._held) if await self._route(self._held[item_id])
        ]
        # The batch's listener runs are created together; a row is done once they exist.
        await self._router.end_batch()
        done = [item_id for item_id in routed if not self._held[item_id].targets]
        if done:
            await self._store.mark_outbox_done(done)
            for item_id in done:
                del self._held[item_id]
        return bool(fresh or done)

    async def _log(self, deliveries: list[Delivery]) -> None:
        if not deliveries:
            return
        deliveries.sort(key=lambda d: d.item.id)
        stored = await self._store.append_events(
            [
                NewEvent(
                    emitter_id=d.item.emitter_id,
                    channel=d.item.channel,
                    event=d.item.event,
                    metadata=d.item.metadata,
                )
                for d in deliveries
            ]
        )
        for delivery, event in zip(deliveries, stored, strict=True):
            delivery.stored = event
        if self.feed is not None:
            self.feed.publish(stored)
        if self.listens is not None:
            self.listens.offer(stored)
        if self.logged is not None:
            self.logged()

    async def _route(self, delivery: Delivery) -> bool:
        item = delivery.item
        try:
            return await self._router.route(delivery)
        except StoreUnavailableError as exc:
            # The store is down, not the event at fault: no attempt is counted (an outage
            # longer than MAX_ATTEMPTS passes must not give events up); tried again next pass.
            logger.warning(
                "routing waits for the store",
                extra={"outbox_id": item.id, "event_id": item.event.id, "error": repr(exc)},
            )
            return False
        except Exception as exc:
            delivery.failures += 1
            extra = {"outbox_id": item.id, "emitter_id": item.emitter_id, "event_id": item.event.id}
            if delivery.failures + item.attempts - 1 < MAX_ATTEMPTS:
                logger.warning("routing failed; will retry", extra={**extra, "error": repr(exc)})
                return False
            logger.exception("routing keeps failing; event given up", extra=extra)
            await self._router.give_up(delivery, f"routing failed {MAX_ATTEMPTS} times: {exc!r}")
            return True
