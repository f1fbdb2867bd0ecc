"""``FairQueue``: idle workers handed out in turn between the workflows waiting for one.

A plain FIFO of waiters lets one workflow that floods its hook queue a thousand steps ahead of
everyone else: a step of another workflow waits for all of them. Here the waiters are grouped
by a key (the workflow), and a freed worker goes to the next key in rotation, the oldest waiter
of that key first. A key with one waiting step is served after at most one step of each other
waiting key, however many steps those keys have queued.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from typing import Generic, TypeVar

__all__ = ["FairQueue"]

T = TypeVar("T")


class FairQueue(Generic[T]):
    """Items (idle workers) put back by anyone, taken in turn by key."""

    def __init__(self) -> None:
        self._items: deque[T] = deque()
        #: Keys with waiters, in the order of their next turn.
        self._waiting: OrderedDict[str, deque[asyncio.Future[T]]] = OrderedDict()

    @property
    def waiters(self) -> int:
        """Takers waiting for an item."""
        return sum(len(queue) for queue in self._waiting.values())

    def put_nowait(self, item: T) -> None:
        """Give ``item`` to the next waiter in turn, or keep it for the next taker."""
        while self._waiting:
            key, queue = next(iter(self._waiting.items()))
            future = queue.popleft()
            # The key's turn is over: it goes to the back of the rotation if it still waits.
            del self._waiting[key]
            if queue:
                self._waiting[key] = queue
            if not future.done():
                future.set_result(item)
                return
        self._items.append(item)

    async def get(self, key: str = "") -> T:
        """An item: at once if one is free and nobody waits, else when ``key``'s turn comes."""
        if self._items and not self._waiting:
            return self._items.popleft()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, deque()).append(future)
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                # Handed an item just as the taker was cancelled: pass it on.
                self.put_nowait(future.result())
            else:
                self._forget(key, future)
            raise

    def _forget(self, key: str, future: asyncio.Future[T]) -> None:
        queue = self._waiting.get(key)
        if queue is None:
            return
        try:
            queue.remove(future)
        except ValueError:
            return
        if not queue:
            del self._waiting[key]
