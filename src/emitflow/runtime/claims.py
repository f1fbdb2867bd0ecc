"""``RunClaims``: how the worker processes of a shared store divide the runs between them.

Each worker holds the runs it executes with a lease (``EngineSettings.lease_seconds``). Two
loops keep that up while the engine is open:

- the heartbeat renews the leases of every run held here, every third of a lease; a run whose
  lease could not be renewed (this process stalled past it, and another took the run over) is
  stopped here (``Runs.lose``) and logged;
- the claim loop takes in-flight runs whose lease is free (created by an API-only process) or
  has expired (their process crashed), up to the room left of ``run_capacity``, and executes
  them (``Runs.adopt``: a ``running`` run resumes from its task records). It is woken by the
  store's ``runs`` change, by a run ending while ``run_capacity`` was full, and re-scans every
  ``rescan_seconds`` besides; it never polls faster.

A store only one process uses (SQLite, memory) has neither loop: the engine resumes every
in-flight run when it opens (``Runs.recover``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from emitflow.runtime.runs import Runs
from emitflow.runtime.settings import EngineSettings
from emitflow.store.base import RunLeases

__all__ = ["RunClaims"]

logger = logging.getLogger(__name__)


class RunClaims:
    """The claim loop and the lease heartbeat of one worker process."""

    def __init__(self, store: RunLeases, runs: Runs, settings: EngineSettings) -> None:
        self._store = store
        self._runs = runs
        self._settings = settings
        self._signal = asyncio.Event()
        runs.claim_soon = self.wake

    def wake(self) -> None:
        """Runs may be waiting to be claimed (or there is room again): claim soon."""
        self._signal.set()

    async def claim(self) -> int:
        """Claim what fits now and execute it; how many runs were taken."""
        taken = 0
        while (room := self._runs.free) > 0:
            claimed = await self._store.claim_runs(
                owner=self._settings.worker_id,
                limit=min(room, self._settings.claim_batch),
                lease_seconds=self._settings.lease_seconds,
            )
            for run in claimed:
                if await self._runs.adopt(run):
                    taken += 1
            if len(claimed) < min(room, self._settings.claim_batch):
                break
        return taken

    async def renew(self) -> list[str]:
        """Renew the leases of the runs held here; the ids whose lease was lost."""
        held = sorted(self._runs.held)
        if not held:
            return []
        kept = set(
            await self._store.renew_runs(
                self._settings.worker_id, held, lease_seconds=self._settings.lease_seconds
            )
        )
        lost = [run_id for run_id in held if run_id not in kept and run_id in self._runs.held]
        if lost:
            await self._runs.lose(lost)
        return lost

    async def run(self) -> None:
        """Claim, then sleep until woken or ``rescan_seconds`` passed; until cancelled."""
        while True:
            self._signal.clear()
            try:
                await self.claim()
            except Exception:
                # As the dispatcher: the loop outlives a failed pass, which is logged.
                logger.exception("claiming runs failed; retrying after the re-scan delay")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._settings.rescan_seconds):  # see Dispatcher.run
                    await self._signal.wait()

    async def heartbeat(self) -> None:
        """Renew the held leases every third of a lease, until cancelled."""
        interval = self._settings.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await self.renew()
            except Exception:
                logger.exception("renewing run leases failed; trying again")
