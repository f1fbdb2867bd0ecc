"""``async with store:`` for every backend: open on entry, close on exit."""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["OpenCloseContext"]


class OpenCloseContext:
    """Mixin turning a backend's ``open()``/``close()`` into an async context manager."""

    async def open(self) -> None:
        """Open the backend (overridden)."""
        raise NotImplementedError

    async def close(self) -> None:
        """Close the backend (overridden)."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
