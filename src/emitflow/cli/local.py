"""The local store, for commands run without ``--server``: opened through the store's public
``open_store``; a store that does not exist yet is never created by reading it.

Records are printed in the REST API's JSON shapes (``tests`` check they stay the same).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from emitflow.cli.options import EXIT_FAILED, EXIT_INVALID, fail

if TYPE_CHECKING:
    from emitflow.store import (
        Store,
    )

__all__ = ["store_url", "with_store"]

T = TypeVar("T")


def store_url(option: str | None) -> str:
    """The store URL: the option, or ``sqlite:///$EMITFLOW_HOME/emitflow.db``."""
    if option:
        return option
    from emitflow.runtime import default_store_url

    return default_store_url()


def with_store(
    option: str | None,
    action: Callable[[Store], Awaitable[T]],
    *,
    create: bool = False,
    not_found: int = EXIT_INVALID,
) -> T:
    """Run ``action`` on the opened local store; exit 1 saying so when there is none (unless
    ``create``), 2 on a bad URL or argument (``not_found`` when a record is missing)."""
    from emitflow.errors import EmitflowError, NotFoundError
    from emitflow.store import open_store, store_exists

    url = store_url(option)
    try:
        exists = store_exists(url)
    except EmitflowError as exc:
        raise fail(str(exc)) from None
    if not exists and not create:
        raise fail(
            f"there is no store at {url}: nothing was deployed or served there yet; "
            "use --store (EMITFLOW_STORE) or EMITFLOW_HOME to point at one, or --server",
            EXIT_FAILED,
        )

    async def go() -> T:
        async with open_store(url) as opened:
            return await action(opened)

    try:
        return asyncio.run(go())
    except NotFoundError as exc:
        raise fail(str(exc), not_found) from None
    except EmitflowError as exc:
        raise fail(str(exc)) from None
