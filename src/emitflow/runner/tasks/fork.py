"""``fork``: branches run concurrently on the same input.

Without ``compete`` the output is the array of branch outputs in declaration order; a branch
fault cancels the others and faults the fork. With ``compete`` the first branch to finish wins:
its output is the fork's, and the others are cancelled (and awaited, so nothing runs on after
the fork). Branches finishing in the same loop turn are ranked by declaration order. A branch
ending with ``then: end`` ends the workflow once the fork is done.
"""

from __future__ import annotations

import asyncio
from typing import Any

from emitflow.dsl.model import ForkTask
from emitflow.runner import flow
from emitflow.runner.context import Frame

__all__ = ["run_fork"]

Branch = asyncio.Task[tuple[Any, str | None]]


async def run_fork(task: ForkTask, data: Any, frame: Frame) -> Any:
    """Start every branch, then gather (or race) them."""
    run = frame.run
    branches: list[Branch] = [
        asyncio.create_task(
            flow.run_task(run, item, data, frame.scope), name=f"{run.run_id}{item.reference}"
        )
        for item in task.branches
    ]
    try:
        if task.compete:
            return await _race(branches, frame)
        return await _gather(branches, frame)
    finally:
        await _stop(branches)


async def _gather(branches: list[Branch], frame: Frame) -> list[Any]:
    pending = set(branches)
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
        for branch in branches:
            if branch in done and branch.exception() is not None:
                raise _error(branch)
    results = [branch.result() for branch in branches]
    if any(then == flow.END for _, then in results):
        frame.then = flow.END
    return [output for output, _ in results]


async def _race(branches: list[Branch], frame: Frame) -> Any:
    if not branches:
        return None
    done, _ = await asyncio.wait(branches, return_when=asyncio.FIRST_COMPLETED)
    finished = [branch for branch in branches if branch in done]
    winners = [branch for branch in finished if branch.exception() is None]
    if not winners:
        raise _error(finished[0])
    output, then = winners[0].result()
    if then == flow.END:
        frame.then = flow.END
    return output


def _error(branch: Branch) -> BaseException:
    error = branch.exception()
    return error if error is not None else asyncio.CancelledError()


async def _stop(branches: list[Branch]) -> None:
    """Cancel what still runs and wait until it has stopped."""
    running = [branch for branch in branches if not branch.done()]
    for branch in running:
        branch.cancel()
    if running:
        await asyncio.gather(*running, return_exceptions=True)
