"""``async with store:`` for every backend: ``open()`` on entry, ``close()`` on exit."""

from __future__ import annotations

from emitflow.lifecycle import AsyncLifecycle

__all__ = ["OpenCloseContext"]


class OpenCloseContext(AsyncLifecycle):
    """``AsyncLifecycle`` for a store, whose public ``open()`` is its entry."""

    async def open(self) -> None:
        """Open the backend (overridden)."""
        raise NotImplementedError

    async def _enter(self) -> None:
        await self.open()
