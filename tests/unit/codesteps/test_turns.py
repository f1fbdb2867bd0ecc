"""``FairQueue``: freed workers go to the waiting workflows in turn."""

from __future__ import annotations

import asyncio

import pytest

from emitflow.codesteps.turns import FairQueue


async def _waiting(queue: FairQueue[str], count: int) -> None:
    while queue.waiters < count:  # noqa: ASYNC110 - the getters are tasks of this same loop
        await asyncio.sleep(0)


async def test_waiters_are_served_in_turn_by_key() -> None:
    queue: FairQueue[str] = FairQueue()
    served: list[str] = []

    async def take(key: str, label: str) -> None:
        item = await queue.get(key)
        served.append(label)
        queue.put_nowait(item)

    flood = [asyncio.create_task(take("a", f"a{n}")) for n in range(5)]
    await _waiting(queue, 5)
    other = asyncio.create_task(take("b", "b0"))
    await _waiting(queue, 6)
    queue.put_nowait("worker")
    await asyncio.gather(*flood, other)
    assert served == ["a0", "b0", "a1", "a2", "a3", "a4"]


async def test_a_free_item_is_taken_at_once() -> None:
    queue: FairQueue[str] = FairQueue()
    queue.put_nowait("worker")
    assert await queue.get("a") == "worker"


async def test_a_cancelled_taker_passes_its_item_on() -> None:
    queue: FairQueue[str] = FairQueue()
    first = asyncio.create_task(queue.get("a"))
    second = asyncio.create_task(queue.get("b"))
    await _waiting(queue, 2)
    queue.put_nowait("worker")  # handed to the first taker...
    first.cancel()  # ...which is cancelled before it could run
    assert await second == "worker"
    with pytest.raises(asyncio.CancelledError):
        await first
    assert queue.waiters == 0
