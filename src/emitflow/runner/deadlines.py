"""Timeouts (workflow and task ``timeout``) on the injected clock.

On the system clock a timeout is ``asyncio.timeout``: whatever the task awaits (a call, a
process, a wait) is cancelled when it expires. On any other clock (a ``VirtualClock`` in tests)
time moves only when something sleeps on it, so deadlines are kept in a context variable and
``sleep`` checks them: a wait that would outlast a deadline sleeps up to it and aborts there.

Either way the abort travels as a non-``FaultError`` exception (``CancelledError`` or
``Expired``), so no ``catch`` inside the timed-out task can swallow it; the task that owns the
timeout turns it into a ``timeout`` problem (408), which a ``catch`` around that task can catch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TypeVar

from emitflow.clock import Clock, SystemClock
from emitflow.errors import FaultError, Problem

__all__ = ["Expired", "limited", "sleep", "timeout_problem"]

T = TypeVar("T")


class _Deadline:
    __slots__ = ("at", "instance", "seconds")

    def __init__(self, at: float, seconds: float, instance: str) -> None:
        self.at = at
        self.seconds = seconds
        self.instance = instance


_DEADLINES: ContextVar[tuple[_Deadline, ...]] = ContextVar("emitflow_deadlines", default=())


class Expired(Exception):
    """A deadline passed while sleeping on a virtual clock (turned into a timeout fault)."""

    def __init__(self, deadline: _Deadline) -> None:
        super().__init__(f"deadline of {deadline.instance} passed")
        self.deadline = deadline


def timeout_problem(seconds: float, instance: str) -> Problem:
    """The ``timeout`` problem (408) of something that ran out of time."""
    what = "the workflow" if instance == "/" else "the task"
    return Problem.of(
        "timeout",
        title="Timeout",
        detail=f"{what} did not finish within {seconds:g}s",
        instance=instance,
    )


async def limited(
    clock: Clock, seconds: float, instance: str, work: Callable[[], Awaitable[T]]
) -> T:
    """Run ``work()``; past ``seconds`` abort it and raise the ``timeout`` fault."""
    if isinstance(clock, SystemClock):
        scope = asyncio.timeout(seconds)
        try:
            async with scope:
                return await work()
        except TimeoutError:
            if scope.expired():
                raise FaultError(timeout_problem(seconds, instance)) from None
            raise
    deadline = _Deadline(clock.monotonic() + seconds, seconds, instance)
    token = _DEADLINES.set((*_DEADLINES.get(), deadline))
    try:
        return await work()
    except Expired as exc:
        if exc.deadline is not deadline:
            raise
        raise FaultError(timeout_problem(seconds, instance)) from None
    finally:
        _DEADLINES.reset(token)


async def sleep(clock: Clock, seconds: float) -> None:
    """Sleep on the clock; on a virtual clock, stop at the nearest deadline and abort there."""
    deadlines = _DEADLINES.get()
    if deadlines:
        now = clock.monotonic()
        first = min(deadlines, key=lambda d: d.at)
        if now + seconds >= first.at:
            await clock.sleep(max(0.0, first.at - now))
            raise Expired(first)
    await clock.sleep(seconds)
