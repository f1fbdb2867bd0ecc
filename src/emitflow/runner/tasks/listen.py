"""``listen``: wait for events until the consumption strategy is satisfied.

Events come from ``RunOptions.listen`` (the runtime's event router: emitted and ingested events
alike), or, without it, from the run's own ``emit`` tasks. Only events that arrive after the
task begins count; nothing is buffered for a listen that has not started. Each consumed event is
saved (with the correlation keys) before the next is awaited, so a run that restarts in the
middle of a listen keeps what it had consumed. The output is the array of consumed events, read
as ``read`` says (``data`` by default, or the whole event); with ``foreach`` each event is
processed by ``do`` as it arrives (``$item``/``$index``, or the names given), and
``foreach.output.as`` maps each element of the output. The task's ``timeout`` bounds the wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from emitflow.dsl.model import ListenTask, SubscriptionIterator
from emitflow.events.reading import read_event
from emitflow.ports import EventInbox
from emitflow.runner import flow
from emitflow.runner.context import Frame, Run
from emitflow.runner.dataflow import shape_output
from emitflow.runner.listening import Consumption

__all__ = ["run_listen"]


async def run_listen(task: ListenTask, data: Any, frame: Frame) -> Any:
    """Consume events until ``listen.to`` is satisfied; the consumed events."""
    run = frame.run
    inbox = await _open(run, frame)
    consumption = Consumption(task.to, frame, task.read, data)
    saved = inbox.saved()
    if saved:
        consumption.restore(saved)
    outputs: list[Any] = []
    try:
        for index, consumed in enumerate(consumption.events):
            outputs.append(await _each(task.foreach, consumed, index, task.read, frame))
        while not consumption.done:
            offered = await inbox.next()
            if not consumption.offer(offered):
                continue
            await inbox.save(consumption.state())
            index = len(consumption.events) - 1
            outputs.append(await _each(task.foreach, offered, index, task.read, frame))
    finally:
        # Interrupted (a timeout, the engine closing): keep the progress for a resumed run.
        inbox.detach()
    await inbox.close()
    return outputs


async def _each(
    foreach: SubscriptionIterator | None,
    event: Mapping[str, Any],
    index: int,
    read: str,
    frame: Frame,
) -> Any:
    item = read_event(event, read)
    if foreach is None:
        return item
    scope = {**frame.scope, foreach.item: item, foreach.at: index}
    output, _ = await flow.run_list(frame.run, foreach.do, item, scope)
    if foreach.output is not None:
        return await shape_output(foreach.output, output, frame.derive(scope))
    return item


async def _open(run: Run, frame: Frame) -> EventInbox:
    port = run.options.listen
    if port is not None:
        return await port.open(run.run_id, frame.where)
    return _OwnEvents(run)


class _OwnEvents:
    """Without a port: the events this run emits from now on."""

    def __init__(self, run: Run) -> None:
        self._run = run
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        run.inboxes.append(self._queue)

    async def next(self) -> Mapping[str, Any]:
        return await self._queue.get()

    def saved(self) -> Mapping[str, Any] | None:
        return None

    async def save(self, state: Mapping[str, Any]) -> None:
        return None

    async def close(self) -> None:
        self.detach()

    def detach(self) -> None:
        if self._queue in self._run.inboxes:
            self._run.inboxes.remove(self._queue)
