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

Durable commits are pipelined: ``task_committed`` hands the task over and returns, and the
runner goes on while it is written. What is handed over while a commit is being written goes
in the next one, all of it in ONE transaction (``commit_transitions``), so a loop of emits
writes a batch per commit instead of waiting for a commit per emit (the SQLite writer measured
~5x the events/s). Commits are written in order, one at a time, and a failed one stops the
later ones, so the committed records are always a prefix of the run: a crash loses only tasks
not yet committed, which a resumed run does again, exactly as when it crashed between a task's
effect and its commit. The runner waits when ``PIPELINE_LIMIT`` tasks are pending, a failure
faults the run at its next effectful task or its end, and the run's end is committed after all.

A store that cannot serve now (``StoreUnavailableError``: the database restarting, a broken
connection) is not the run's fault: its end is then not committed at all (``finish`` and
``fail`` raise), so the run stays in flight as last committed and is resumed from its committed
tasks, by another worker once its lease runs out on a shared store, or when the engine opens
again. Only a result that cannot be stored (not JSON) faults the run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from emitflow.clock import Clock
from emitflow.errors import Problem, StoreError, StoreUnavailableError
from emitflow.events.cloudevent import CloudEvent
from emitflow.ports import EventSink, RunResult, RunStatus, TaskRecord, TaskStatus
from emitflow.runtime.reports import channel_of, fault_report, run_chain, stamp_hops
from emitflow.store.base import RunStore
from emitflow.store.records import (
    LIFECYCLE_CHANNEL,
    NewEvent,
    RunRecord,
    StoredTask,
    Transition,
)

__all__ = ["PIPELINE_LIMIT", "RunJournal", "run_moved", "stored_task", "task_record"]

logger = logging.getLogger(__name__)

#: Commits a durable run may have handed over and not yet written before its runner waits.
PIPELINE_LIMIT = 256
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
        owner: str | None = None,
    ) -> None:
        self._store = store
        self._run = run
        #: The run's causal chain, stamped on its events (its trigger never changes).
        self._chain = run_chain(run)
        #: On a shared store, this process's lease: every commit is fenced on it.
        self._owner = owner
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
        self._queue: list[tuple[Transition, list[NewEvent]]] = []
        self._writing: asyncio.Task[None] | None = None
        self._failure: Exception | None = None

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

    async def task_committed(self, record: TaskRecord, events: Sequence[CloudEvent]) -> None:
        """Commit a completed effectful task with its events and the events held so far, in
        one transaction."""
        task = stored_task(self._run.id, record.sequence, record, status="completed")
        new = [self._new_event(event, channel_of(event)) for event in events]
        self._raise_failure()
        run = self._run if self.start_pending else None
        self.start_pending = False
        self._queue.append(
            (
                Transition(run_id=self._run.id, run=run, task=task, owner=self._owner),
                new + self._take_held(),
            )
        )
        if self._writing is None:
            self._writing = asyncio.get_running_loop().create_task(self._write())
        if len(self._queue) >= PIPELINE_LIMIT:
            await self.flush()

    async def _write(self) -> None:
        """Commit what queued up, one batch (one transaction) at a time, in order."""
        try:
            while self._queue:
                steps, self._queue = self._queue, []
                await self._store.commit_transitions(steps)
                if any(events for _, events in steps):
                    self._committed()
        except Exception as exc:
            # Nothing after a failed batch is committed, so the committed records stay a
            # prefix of the run (what a resumed run replays); the run faults at its next step.
            logger.warning("run commit failed", extra={"run_id": self._run.id, "error": repr(exc)})
            self._failure, self._queue = exc, []
        finally:
            self._writing = None

    async def flush(self) -> None:
        """Wait until every task handed to ``task_committed`` so far is committed."""
        writing = self._writing
        if writing is not None:
            await asyncio.shield(writing)
        self._raise_failure()

    def _raise_failure(self) -> None:
        if self._failure is None:
            return
        detail = f"an earlier commit of run {self._run.id!r} failed: {self._failure}"
        failure = self._failure
        if isinstance(failure, StoreUnavailableError):
            # Kept apart from a refused value: the run is not faulted for it (see ``finish``).
            # (A refused lease stays one: the run is stopped, not retried here.)
            raise type(failure)(detail, path=failure.path, cause=failure.cause)
        raise StoreError(detail)

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
            task = StoredTask(
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

    async def _commit(self, task: StoredTask | None, events: list[NewEvent]) -> None:
        run = self._run if self.start_pending else None
        await self._store.commit_transition(
            Transition(run_id=self._run.id, run=run, task=task, owner=self._owner), events
        )
        self.start_pending = False
        if events:
            self._committed()

    async def finish(self, outcome: RunResult) -> RunRecord:
        """Commit the run's whole task list and its end (with its ``$errors`` report)."""
        status = outcome.status
        error = None if outcome.error is None else outcome.error.to_dict()
        if status == "faulted" and error is None:
            error = _problem("the runner ended the run as 'faulted' without an error")
        records = [
            stored_task(self._run.id, index, task) for index, task in enumerate(outcome.tasks, 1)
        ]
        final = run_moved(
            self._run,
            status,
            output=outcome.output if status == "completed" else None,
            error=error,
            ended_at=self._clock.now(),
        )
        try:
            await self.flush()
            # One transaction for the run's end and its whole task list, which the store keeps
            # compactly: a loop of pure tasks leaves thousands of records, and one write each
            # cost ten times what running them did.
            return await self._end(final, records)
        except StoreUnavailableError:
            # The store cannot serve now (a restart, a lost connection): the run is not faulted
            # for it. It stays as last committed, and is resumed from its committed tasks: by
            # another worker once its lease runs out (a shared store), or at the next open.
            raise
        except StoreError as exc:
            # A value the runner gave back cannot be stored (not JSON): the run faults instead.
            logger.warning("run result cannot be stored", extra={"run_id": final.id})
            return await self.fail(_problem(f"the run's result cannot be stored: {exc}"))

    async def fail(self, error: Mapping[str, Any]) -> RunRecord:
        """Commit the run's end as faulted with ``error`` (the runner itself failed)."""
        final = run_moved(
            self._run, "faulted", output=None, error=dict(error), ended_at=self._clock.now()
        )
        return await self._end(final, ())

    async def _end(self, final: RunRecord, tasks: Sequence[StoredTask]) -> RunRecord:
        if self._writing is not None:  # the end comes after every earlier commit
            await asyncio.shield(self._writing)
        if isinstance(self._failure, StoreUnavailableError):
            # The runner may have ended the run as faulted *because* a commit met the outage:
            # that end is not the run's; the run is resumed later instead (see ``finish``).
            self._raise_failure()
        events = self._take_held()
        if final.status == "faulted" and final.error is not None:
            events.append(fault_report(final, final.error, self._clock.now()))
        await self._store.commit_transition(
            Transition(run_id=final.id, run=final, tasks=tuple(tasks), owner=self._owner), events
        )
        self._run = final
        if events:
            self._committed()
        return final

    def _new_event(self, event: CloudEvent, channel: str) -> NewEvent:
        return NewEvent(
            emitter_id=self._run.workflow_id,
            channel=channel,
            event=stamp_hops(event, self._run.hops, self._chain),
            metadata={"run_id": self._run.id, "emit_id": event.id},
        )

    def _take_held(self) -> list[NewEvent]:
        held, self._held = self._held, []
        return held


def _problem(detail: str) -> dict[str, Any]:
    return Problem.of("runtime", title="Run Failed", detail=detail).to_dict()


def run_moved(
    run: RunRecord,
    status: RunStatus,
    *,
    output: Any = None,
    error: Mapping[str, Any] | None = None,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
) -> RunRecord:
    """``run`` gone to ``status`` with these output, error and times (``started_at`` ``None``
    keeps the run's own).

    Built directly: ``dataclasses.replace`` walks the fields and cost several times as much,
    twice per run (its start and its end). Every other field is the run's own."""
    return RunRecord(
        id=run.id,
        workflow_id=run.workflow_id,
        workflow_revision=run.workflow_revision,
        status=status,
        input=run.input,
        output=output,
        error=error,
        context=run.context,
        trigger=run.trigger,
        hops=run.hops,
        created_at=run.created_at,
        started_at=run.started_at if started_at is None else started_at,
        ended_at=ended_at,
    )


def stored_task(
    run_id: str, sequence: int, task: TaskRecord, *, status: TaskStatus | None = None
) -> StoredTask:
    """The runner's record of a task as the store keeps it, at ``sequence`` in ``run_id``
    (with ``status`` instead of the record's, when given)."""
    return StoredTask(
        run_id=run_id,
        sequence=sequence,
        reference=task.reference,
        name=task.name,
        status=task.status if status is None else status,
        input=task.input,
        output=task.output,
        error=None if task.error is None else dict(task.error),
        emits=task.emits,
        log=task.logs or None,
        started_at=task.started_at,
        ended_at=task.ended_at,
    )


def task_record(stored: StoredTask) -> TaskRecord:
    """A stored task record as the runner replays it (resuming an interrupted run)."""
    return TaskRecord(
        reference=stored.reference,
        name=stored.name,
        status=stored.status,
        input=stored.input,
        output=stored.output,
        error=None if stored.error is None else dict(stored.error),
        started_at=stored.started_at or stored.ended_at,
        ended_at=stored.ended_at,
        emits=tuple(stored.emits),
        logs=stored.log or "",
        sequence=stored.sequence,
    )
