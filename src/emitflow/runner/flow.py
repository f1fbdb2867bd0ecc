"""Walking task lists: one task after another, as the flow directives say.

``then`` (default ``continue``): ``continue`` goes to the next task in declaration order (after
the last one the list is done); ``exit`` ends the current list (a nested ``do``, a loop body —
the loop goes on with its next item —, a ``try`` or ``catch.do`` list; at the top it ends the
workflow); ``end`` ends the whole workflow, completed, with the current output; a task name jumps
to that task **in the same list**. A task skipped by its ``if`` continues with the next task (its
own ``then`` is not taken, since it did not run) and outputs its raw input.

Every task started is recorded (``Run.records``) in start order; faults get the failing task's
JSON pointer as ``instance`` (unless they carry one already) and have secret values masked.
With a trace, a task emits ``created`` and ``started`` once its ``if`` holds (a skipped task
emits nothing), then ``completed``, ``faulted`` or ``cancelled``. In a durable run (a journal,
or records to resume from) effectful tasks are committed and replayed as ``durable`` says.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, NoReturn

from emitflow.dsl.model import Task, TaskItem, TryTask
from emitflow.errors import EmitflowError, ExpressionError, FaultError, Problem
from emitflow.events.cloudevent import CloudEvent
from emitflow.runner.context import Entry, Frame, Run
from emitflow.runner.dataflow import process
from emitflow.runner.deadlines import Expired
from emitflow.runner.durable import EFFECTFUL, commit, replayed
from emitflow.runner.evaluation import evaluate, truthy

__all__ = ["END", "EXIT", "run_list", "run_task"]

logger = logging.getLogger(__name__)

#: The directive that ends the whole workflow; composite tasks pass it up.
END = "end"
#: What ``run_list`` answers when a ``then: exit`` ended the list (extensions need to know).
EXIT = "exit"
_NEXT = (None, "continue")


async def run_list(
    run: Run, items: tuple[TaskItem, ...], data: Any, scope: Mapping[str, Any]
) -> tuple[Any, str | None]:
    """Run a task list on ``data``: its output, and how it ended (``END``, ``EXIT`` or ``None``)."""
    index = 0
    count = len(items)
    while index < count:
        item = items[index]
        data, then = await run_task(run, item, data, scope)
        if then in _NEXT:
            index += 1
        elif then == EXIT:
            return data, EXIT
        elif then == END:
            return data, END
        else:
            index = _position(items, then, item)
    return data, None


def _position(items: tuple[TaskItem, ...], name: str | None, origin: TaskItem) -> int:
    for index, item in enumerate(items):
        if item.name == name:
            return index
    raise FaultError(
        Problem.of(
            "configuration",
            title="Unknown Flow Target",
            detail=f"'then: {name}' names no task in the same list as {origin.name!r}",
            instance=origin.reference,
        )
    )


async def run_task(
    run: Run, item: TaskItem, raw: Any, scope: Mapping[str, Any]
) -> tuple[Any, str | None]:
    """Run one task with its data flow; returns its output and the directive to follow."""
    task = item.task
    frame = Frame(run, item, raw, scope)
    entry = frame.entry = Entry(item, raw, run.clock.now())
    run.records.append(entry)
    sequence = len(run.records)
    life = run.lifecycle
    try:
        if task.if_ is not None and not truthy(evaluate(task.if_, raw, frame)):
            entry.status = "skipped"
            entry.output = raw
            entry.ended_at = run.clock.now()
            return raw, None
        entry.status = "running"
        if life is not None:
            await life.task("created", item.reference)
            await life.task("started", item.reference)
        if run.durable and type(task) in EFFECTFUL:
            output = await _durably(run, task, frame, sequence)
        else:
            output = await _perform(run, task, frame)
        if frame.emits:
            await _commit(run, entry, frame.emits)
    except FaultError as exc:
        await _faulted(run, entry, exc.problem, exc)
    except (Expired, asyncio.CancelledError):
        entry.status = "cancelled"
        entry.ended_at = run.clock.now()
        if life is not None:
            await life.task("cancelled", item.reference)
        raise
    except ExpressionError as exc:
        await _faulted(run, entry, _problem("expression", str(exc)), exc)
    except EmitflowError as exc:
        await _faulted(run, entry, _problem("configuration", str(exc)), exc)
    except Exception as exc:
        logger.exception(
            "task failed unexpectedly", extra={**run.log_extra, "task": item.reference}
        )
        await _faulted(run, entry, _problem("runtime", f"{type(exc).__name__}: {exc}"), exc)
    entry.status = "completed"
    entry.output = output
    entry.ended_at = run.clock.now()
    if life is not None:
        await life.task("completed", item.reference, output=output)
    return output, frame.then or task.then


async def _perform(run: Run, task: Task, frame: Frame) -> Any:
    if task.catch is not None and type(task) is not TryTask:
        return await run.kinds.guard(task, frame)
    return await process(task, frame)


async def _durably(run: Run, task: Task, frame: Frame, sequence: int) -> Any:
    """An effectful task of a durable run: replayed from its record, or run and committed."""
    entry = frame.entry
    if entry is None:
        raise RuntimeError("a task being run has its entry")
    record = None if run.replay is None else run.replay.reach(entry.reference)
    if record is not None:
        return await replayed(task, record, frame)
    output = await _perform(run, task, frame)
    if run.options.journal is not None:
        entry.output = output
        entry.ended_at = run.clock.now()
        events, frame.emits = frame.emits, None  # the journal commits them, not the sink
        await commit(run, entry, sequence, events)
    return output


def _problem(kind: str, detail: str) -> Problem:
    return Problem.of(kind, title="Task Failed", detail=detail)


async def _faulted(run: Run, entry: Entry, problem: Problem, cause: BaseException) -> NoReturn:
    """Record the fault (located, secrets masked) and raise it on."""
    if problem.instance is None:
        problem = Problem(
            type=problem.type,
            status=problem.status,
            instance=entry.reference,
            title=problem.title,
            detail=problem.detail,
        )
    problem = run.redact(problem)
    announced = entry.status != "pending"
    entry.status = "faulted"
    entry.error = problem.to_dict()
    entry.ended_at = run.clock.now()
    if run.lifecycle is not None:
        if not announced:  # its 'if' failed: say the task was reached before it faulted
            await run.lifecycle.task("created", entry.reference)
        await run.lifecycle.task("faulted", entry.reference, error=entry.error)
    if isinstance(cause, FaultError) and cause.problem is problem:
        raise cause
    raise FaultError(problem) from cause


async def _commit(run: Run, entry: Entry, events: list[CloudEvent]) -> None:
    """The task has committed: its events leave now."""
    sink = run.options.events
    entry.emits = [event.to_dict() for event in events]
    for event in events:
        run.emitted.append(event)
        for inbox in run.inboxes:
            inbox.put_nowait(event.to_dict())
        if sink is not None:
            await sink.publish(event)
