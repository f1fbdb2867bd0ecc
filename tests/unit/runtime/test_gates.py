"""``Gate``: the concurrency limit, the bounded queue, and refused rows let in in order."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from emitflow.runtime.gates import Gate


def make_gate(limit: int | None, queue_size: int) -> tuple[Gate, list[str]]:
    log: list[str] = []

    def spawn(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(coro)

    return Gate("p_x", limit, queue_size, room=lambda: log.append("room"), spawn=spawn), log


async def test_unlimited_gate_admits_everything() -> None:
    gate, _ = make_gate(None, 1)
    assert all(gate.offer(i) for i in range(100))


async def test_full_queue_refuses_and_remembers_order() -> None:
    gate, log = make_gate(1, 1)
    release = asyncio.Event()
    order: list[int] = []

    def job(n: int) -> Any:
        async def run() -> None:
            order.append(n)
            await release.wait()

        return run

    assert gate.offer(1)
    gate.admit(job(1))
    gate.release()
    assert gate.offer(2)
    gate.admit(job(2))
    gate.release()
    assert gate.busy == 2
    assert not gate.offer(3)  # one running, one queued: full
    assert not gate.offer(4)
    assert gate.refused
    await asyncio.sleep(0)
    release.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert "room" in log
    assert not gate.offer(4)  # 3 was refused first: it goes first
    assert gate.offer(3)
    assert gate.offer(4)
    assert not gate.refused
    assert order == [1, 2]


async def test_deliveries_let_in_hold_their_place_until_released() -> None:
    gate, _ = make_gate(1, 2)
    assert gate.offer(1) and gate.offer(2) and gate.offer(3)  # one slot, two queue places
    assert not gate.offer(4)  # three let in, none admitted yet: no place left
    gate.release()  # 1 needed no run after all
    assert not gate.offer(5)  # 4 was refused first: it goes first
    assert gate.offer(4)
    assert not gate.offer(5)  # 1 running or queued, 2 and 4 let in: full again
    gate.release()
    assert gate.offer(5)
    assert not gate.refused


async def test_forget_lets_later_rows_through() -> None:
    gate, _ = make_gate(1, 0 + 1)
    gate.admit(lambda: asyncio.sleep(10))
    gate.admit(lambda: asyncio.sleep(10))
    assert not gate.offer(7)
    gate.closed = True
    gate.forget(7)
    assert not gate.refused


async def test_reserve_bounds_the_runs_waiting_past_the_limit() -> None:
    gate, _ = make_gate(1, 100)
    release = asyncio.Event()

    async def job() -> None:
        await release.wait()

    gate.admit(job)
    await asyncio.sleep(0)
    assert (gate.running, gate.queued, gate.backlog) == (1, 0, 0)  # within the limit
    assert [gate.reserve(2) for _ in range(3)] == [True, True, False]
    assert gate.backlog == 2
    gate.unreserve()
    gate.admit(job)  # a reserved start admitted: queued behind the running one
    gate.unreserve()
    assert (gate.queued, gate.backlog) == (1, 1)
    release.set()


async def test_without_a_limit_every_run_in_flight_counts() -> None:
    gate, _ = make_gate(None, 100)
    assert gate.reserve(1)
    assert not gate.reserve(1)
