"""``async with`` for everything that opens and closes: the engine, the code-step pool, stores.

A class mixes in ``AsyncLifecycle`` and writes two methods: ``_enter()``, which acquires what
it needs, and ``close()``, which lets it all go and copes with a resource never (or only partly)
entered. A failed ``_enter`` is followed by ``close()`` before the error goes on, so a
half-started resource does not leak its tasks, workers or connections.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["AsyncLifecycle"]


class AsyncLifecycle:
    """Mixin: ``async with x:`` runs ``x._enter()`` on entry and ``x.close()`` on exit."""

    async def _enter(self) -> None:
        """Acquire the resources (overridden)."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release the resources; safe to call again, and after a failed entry (overridden)."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        try:
            await self._enter()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
