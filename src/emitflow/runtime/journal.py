"""``RunJournal``: what one run commits to the store while it goes, and when it ends.

An emitted event is committed to the outbox in one transaction with a transition of its run
(decision 5 and the outbox rule): once ``publish`` returns, the event survives a crash. The
runner's ``EventSink`` is told the event, not the task that emitted it, so the task's record
can only be committed with it when the run has a trace (someone subscribes to ``$lifecycle``):
then the lifecycle events say which task is running, and its completed record (output = the
event) goes in the same transaction. Without a trace the transition carries the event alone
(the store still checks the run in that transaction), and every task record is written when the
run ends. The lifecycle events ride along with the next commit, so they cost no extra write.

A ``durable`` journal is also the runner's ``RunOptions.journal``: ``task_committed`` commits
each completed effectful task's record (at its position in the run) with the events it emitted,
in one transaction, and that is what a resumed run replays. Events that still come through
``publish`` (held code-step emits at the run's end, a subflow's emits) are then kept for the
next commit: the task that made them, or the run's end. So a run resumed after a crash emits
nothing twice: an event is in the outbox exactly when the record that replays it is stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, cast

from emitflow.clock import Clock
from emitflow.errors import Problem, StoreError
from emitflow.events.cloudevent import CloudEvent
from emitflow.runtime.executor import EventSink, RunOutcome, TaskOutcome
from emitflow.runtime.reports import channel_of, fault_report, stamp_hops
from emitflow.store.base import RunStore
from emitflow.store.records import (
    LIFECYCLE_CHANNEL,
    RUN_STATUSES,
    TASK_STATUSES,
    NewEvent,
    RunRecord,
    RunStatus,
    TaskRecord,
    TaskStatus,
    Transition,
)

__all__ = ["RunJournal"]

logger = logging.getLogger(__name__)

_TASK_CREATED = "io.serverlessworkflow.task.created.v1"
_WORKFLOW_ENDS = frozenset(
    f"io.serverlessworkflow.workflow.{verb}.v1" for verb in ("completed", "faulted", "cancelled")
)


class _Trace:
    """The run's trace sink: keeps lifecycle events for the next commit, follows the tasks."""

    def __init__(self, journal: RunJournal) -> None:
        self._journal = journal

    async def publish(self, event: CloudEvent) -> None:
        """Hold one lifecycle event until the next commit."""
        self._journal.lifecycle_event(event)


class RunJournal:
    """Commits one run's emits and end; ``publish`` makes it the run's ``EventSink``."""

    def __init__(
        self,
        store: RunStore,
        run: RunRecord,
        *,
        clock: Clock,
        committed: Callable[[], None],
        lifecycle: bool = False,
    ) -> None:
        self._store = store
        self._run = run
        self._clock = clock
        self._committed = committed
        self._held: list[NewEvent] = []
        self._tasks_seen = 0
        self._current: tuple[str, str] | None = None
        self.trace: EventSink | None = _Trace(self) if lifecycle else None
        #: The run's ``running`` record is not stored yet: the first commit carries it.
        self.start_pending = False
        #: The runner commits tasks through ``task_committed``; ``publish`` only holds events.
        self.durable = False

    @property
    def run(self) -> RunRecord:
        """The run as last committed."""
        return self._run

    def lifecycle_event(self, event: CloudEvent) -> None:
        """Hold a lifecycle event for ``$lifecycle``; note the task it says was created."""
        if event.type == _TASK_CREATED and isinstance(event.data, Mapping):
            self._tasks_seen += 1
            reference = str(event.data.get("task", ""))
            self._current = (reference, reference.rsplit("/", 1)[-1])
        elif event.type in _WORKFLOW_ENDS:
            self._current = None  # events published now are held code-step emits
        self._held.append(self._new_event(event, LIFECYCLE_CHANNEL))

    async def task_committed(self, record: Any, events: Sequence[CloudEvent]) -> None:
        """Commit a completed effectful task (an ``emitflow.engine.TaskRecord``) with its
        events and the events held so far, in one transaction."""
        task = TaskRecord(
            run_id=self._run.id,
            sequence=record.sequence,
            reference=record.reference,
            name=record.name,
            status="completed",
            input=record.input,
            output=record.output,
            emits=tuple(record.emits),
            log=record.logs or None,
            started_at=record.started_at,
            ended_at=record.ended_at,
        )
        new = [self._new_event(event, channel_of(event)) for event in events]
        await self._commit(task, [*new, *self._take_held()])

    async def publish(self, event: CloudEvent) -> None:
        """Commit an emitted event with its run's transition (the outbox rule); a durable
        journal holds it for its next commit instead."""
        if self.durable:
            self._held.append(self._new_event(event, channel_of(event)))
            return
        task = None
        if self._current is not None:
            reference, name = self._current
            now = self._clock.now()
            body = event.to_dict()
            task = TaskRecord(
                run_id=self._run.id,
                sequence=self._tasks_seen,
                reference=reference,
                name=name,
                status="completed",
                output=body,
                emits=(body,),
                started_at=now,
                ended_at=now,
            )
        await self._commit(task, [self._new_event(event, channel_of(event)), *self._take_held()])

    async def _commit(self, task: TaskRecord | None, events: list[NewEvent]) -> None:
        run = self._run if self.start_pending else None
        await self._store.commit_transition(
            Transition(run_id=self._run.id, run=run, task=task), events
        )
        self.start_pending = False
        if events:
            self._committed()

    async def finish(self, outcome: RunOutcome) -> RunRecord:
        """Commit every task record and the run's end (with its ``$errors`` report)."""
        status = outcome.status if outcome.status in RUN_STATUSES else "faulted"
        error = None if outcome.error is None else outcome.error.to_dict()
        if status == "faulted" and error is None:
            error = _problem(f"the runner ended the run as {outcome.status!r}")
        records = [self._record(index, task) for index, task in enumerate(outcome.tasks, 1)]
        final = replace(
            self._run,
            status=cast(RunStatus, status),
            output=outcome.output if status == "completed" else None,
            error=error,
            ended_at=self._clock.now(),
        )
        try:
            # Issued together so the store's group commit writes them in a few transactions
            # instead of one round trip per task; the run's end is committed after all of them.
            await asyncio.gather(
                *(
                    self._store.commit_transition(Transition(run_id=final.id, task=record))
                    for record in records[:-1]
                )
            )
            return await self._end(final, records[-1] if records else None)
        except StoreError as exc:
            # A value the runner gave back cannot be stored (not JSON): the run faults instead.
            logger.warning("run result cannot be stored", extra={"run_id": final.id})
            return await self.fail(_problem(f"the run's result cannot be stored: {exc}"))

    async def fail(self, error: Mapping[str, Any]) -> RunRecord:
        """Commit the run's end as faulted with ``error`` (the runner itself failed)."""
        final = replace(
            self._run, status="faulted", output=None, error=dict(error), ended_at=self._clock.now()
        )
        return await self._end(final, None)

    async def _end(self, final: RunRecord, last: TaskRecord | None) -> RunRecord:
        events = self._take_held()
        if final.status == "faulted" and final.error is not None:
            events.append(fault_report(final, final.error, self._clock.now()))
        await self._store.commit_transition(
            Transition(run_id=final.id, run=final, task=last), events
        )
        self._run = final
        if events:
            self._committed()
        return final

    def _record(self, sequence: int, task: TaskOutcome) -> TaskRecord:
        status = task.status if task.status in TASK_STATUSES else "faulted"
        return TaskRecord(
            run_id=self._run.id,
            sequence=sequence,
            reference=task.reference,
            name=task.name,
            status=cast(TaskStatus, status),
            input=task.input,
            output=task.output,
            error=None if task.error is None else dict(task.error),
            emits=tuple(task.emits),
            started_at=task.started_at,
            ended_at=task.ended_at,
        )

    def _new_event(self, event: CloudEvent, channel: str) -> NewEvent:
        return NewEvent(
            emitter_id=self._run.workflow_id,
            channel=channel,
            event=stamp_hops(event, self._run.hops),
            metadata={"run_id": self._run.id, "emit_id": event.id},
        )

    def _take_held(self) -> list[NewEvent]:
        held, self._held = self._held, []
        return held


def _problem(detail: str) -> dict[str, Any]:
    return Problem.of("runtime", title="Run Failed", detail=detail).to_dict()
