"""Durable runs: committing effectful tasks through ``RunOptions.journal``, replaying them.

A task has an effect when it is a ``call``, ``emit``, ``run`` (code steps and subflows
included), ``wait`` or ``listen``. With a journal, each one that completes is handed to
``journal.task_committed`` with the events it emitted (an emit task's; a code step's stay held
for the run's end and are listed in the record). With ``RunOptions.resume`` the run replays
from the start: the n-th time an effectful task is reached it takes the output of its n-th
completed record, when there is one, instead of running again (its ``export.as`` is applied
again; a code step's held emits and log come back from the record). Pure tasks (``set``,
``switch``, ``raise``, the bookkeeping of ``do``/``for``/``fork``/``try``) are recomputed, so
they must be deterministic for a resumed run to take the same path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from emitflow.dsl.model import CallTask, EmitTask, ListenTask, RunTask, Task, WaitTask
from emitflow.events.cloudevent import CloudEvent
from emitflow.ports import TaskRecord
from emitflow.runner.dataflow import export, shape_input

if TYPE_CHECKING:
    from emitflow.runner.context import Entry, Frame, Run

__all__ = ["EFFECTFUL", "Replay", "commit", "replayed"]

#: The task kinds whose completion is committed, and taken back on resume.
EFFECTFUL: frozenset[type[Task]] = frozenset({CallTask, EmitTask, RunTask, WaitTask, ListenTask})


class Replay:
    """The completed records of an interrupted run, by (reference, occurrence)."""

    __slots__ = ("_reached", "_records")

    def __init__(self, records: Sequence[TaskRecord]) -> None:
        self._records: dict[tuple[str, int], TaskRecord] = {}
        counts: dict[str, int] = {}
        for record in records:
            if record.status != "completed":
                continue
            count = counts[record.reference] = counts.get(record.reference, 0) + 1
            self._records[(record.reference, count)] = record
        self._reached: dict[str, int] = {}

    def reach(self, reference: str) -> TaskRecord | None:
        """Count one more arrival at ``reference``; its record from before, if any."""
        count = self._reached[reference] = self._reached.get(reference, 0) + 1
        return self._records.get((reference, count))


async def replayed(task: Task, record: TaskRecord, frame: Frame) -> Any:
    """Take a committed task's output instead of running it again; its output."""
    run = frame.run
    data = frame.raw
    if task.input is not None:
        data = await shape_input(task.input, data, frame)
    frame.input = data
    output = record.output
    frame.raw_output = output
    frame.output = output
    if task.export is not None:
        await export(task.export, output, frame)
    entry = frame.entry
    if entry is not None:
        entry.logs = record.logs
        if record.emits:
            entry.emits = [dict(emit) for emit in record.emits]
    if isinstance(task, RunTask) and record.emits:
        run.held.extend(CloudEvent.from_dict(emit) for emit in record.emits)
    return output


async def commit(run: Run, entry: Entry, sequence: int, events: list[CloudEvent] | None) -> None:
    """Hand a completed effectful task and its events to the run's journal."""
    journal = run.options.journal
    if journal is None:
        raise RuntimeError("commit() needs a journal")
    if events:
        entry.emits = [event.to_dict() for event in events]
        run.emitted.extend(events)
    record = TaskRecord(
        reference=entry.reference,
        name=entry.name,
        status="completed",
        input=entry.input,
        output=entry.output,
        error=None,
        started_at=entry.started_at,
        ended_at=entry.ended_at,
        emits=tuple(entry.emits or ()),
        logs=entry.logs,
        sequence=sequence,
    )
    await journal.task_committed(record, tuple(events or ()))
