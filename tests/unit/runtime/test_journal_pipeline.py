"""A durable run's commits are pipelined: written in order, batched, a prefix after a failure;
a store that cannot serve now (a database restart) leaves the run in flight, never faulted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from emitflow.clock import VirtualClock
from emitflow.errors import LeaseLostError, StoreError, StoreUnavailableError
from emitflow.ports import RunResult, RunStatus, TaskRecord
from emitflow.runtime.journal import RunJournal
from emitflow.store import MemoryStore, NewEvent, NewRun, OutboxItem, RunLease, Transition

START = datetime(2026, 1, 1, tzinfo=UTC)


class Recording(MemoryStore):
    """A memory store noting each ``commit_transitions`` batch; it can fail the n-th."""

    def __init__(self, fail_at: int | None = None) -> None:
        super().__init__(clock=VirtualClock(START))
        self.batches: list[list[int]] = []
        self.fail_at = fail_at

    async def commit_transitions(
        self, steps: Sequence[tuple[Transition, Sequence[NewEvent]]]
    ) -> list[list[OutboxItem]]:
        self.batches.append([t.task.sequence for t, _ in steps if t.task is not None])
        if len(self.batches) == self.fail_at:
            raise StoreError("disk is full")
        return await super().commit_transitions(steps)


def done(sequence: int) -> Any:
    return TaskRecord(
        reference=f"/do/{sequence}/call",
        name="call",
        status="completed",
        input={},
        output={"n": sequence},
        error=None,
        started_at=START,
        ended_at=START,
        sequence=sequence,
    )


async def journal_of(store: Recording) -> RunJournal:
    run, _ = await store.create_run(NewRun(workflow_id="p_w", workflow_revision=1))
    journal = RunJournal(store, run, clock=VirtualClock(START), committed=lambda: None)
    journal.durable = True
    return journal


async def test_tasks_handed_over_meanwhile_go_in_one_later_commit() -> None:
    async with Recording() as store:
        journal = await journal_of(store)
        for sequence in range(1, 6):
            await journal.task_committed(done(sequence), ())
        await journal.flush()
        assert [t.sequence for t in await store.list_tasks(journal.run.id)] == [1, 2, 3, 4, 5]
        assert store.batches == [[1, 2, 3, 4, 5]]  # none written while the runner went on


async def test_a_failed_commit_stops_the_later_ones_and_is_raised() -> None:
    async with Recording(fail_at=1) as store:
        journal = await journal_of(store)
        await journal.task_committed(done(1), ())
        with pytest.raises(StoreError, match="disk is full"):
            await journal.flush()
        with pytest.raises(StoreError, match="earlier commit"):
            await journal.task_committed(done(2), ())
        assert await store.list_tasks(journal.run.id) == []
        assert store.batches == [[1]]


class Restarting(Recording):
    """A store whose database restarts: its commits fail as unavailable."""

    def __init__(self, fail_at: int | None = None) -> None:
        super().__init__(fail_at)
        self.down = fail_at is None

    async def commit_transitions(
        self, steps: Sequence[tuple[Transition, Sequence[NewEvent]]]
    ) -> list[list[OutboxItem]]:
        if self.down or len(self.batches) + 1 == self.fail_at:
            self.batches.append([])
            raise StoreUnavailableError("server restarting", path="db", cause="AdminShutdown")
        return await super().commit_transitions(steps)

    async def commit_transition(
        self, transition: Transition, events: Sequence[NewEvent] = ()
    ) -> list[OutboxItem]:
        (items,) = await self.commit_transitions([(transition, events)])
        return items


def ended(status: RunStatus) -> RunResult:
    return RunResult(run_id="r", status=status, output={"ok": True}, error=None, tasks=())


async def test_an_end_meeting_an_outage_is_not_faulted_but_left_in_flight() -> None:
    async with Restarting(fail_at=1) as store:  # back at once: a faulted end would be stored
        journal = await journal_of(store)
        with pytest.raises(StoreUnavailableError, match="server restarting"):
            await journal.finish(ended("completed"))
        run = await store.get_run(journal.run.id)
        assert (run.status, run.error) == ("pending", None)  # resumed later, as it was
        assert await store.claim_outbox() == []  # no $errors report either


async def test_a_task_commit_meeting_an_outage_leaves_the_run_in_flight() -> None:
    async with Restarting(fail_at=1) as store:
        journal = await journal_of(store)
        await journal.task_committed(done(1), ())
        with pytest.raises(StoreUnavailableError, match="server restarting"):
            await journal.flush()
        # The runner faults the run at its next effectful task (the journal raised there).
        with pytest.raises(StoreUnavailableError, match="earlier commit"):
            await journal.task_committed(done(2), ())
        with pytest.raises(StoreUnavailableError):
            await journal.finish(ended("faulted"))
        with pytest.raises(StoreUnavailableError):
            await journal.fail({"title": "Runner Failed"})
        assert (await store.get_run(journal.run.id)).status == "pending"
        assert await store.list_tasks(journal.run.id) == []


async def test_a_journal_whose_lease_was_taken_commits_nothing_and_is_not_faulted() -> None:
    """Fenced on its lease: the process that stalled past it cannot end the run over the one
    that claimed it, and the refusal (a ``LeaseLostError``) is kept through the pipeline."""
    clock = VirtualClock(START)
    async with MemoryStore(clock=clock) as store:
        made, _ = await store.create_run(
            NewRun(workflow_id="p_w", workflow_revision=1, lease=RunLease("w1", 5))
        )
        journal = RunJournal(store, made, clock=clock, committed=lambda: None, owner="w1")
        journal.durable = True
        await journal.task_committed(done(1), ())
        await journal.flush()
        clock.advance(6)
        assert [r.id for r in await store.claim_runs(owner="w2", lease_seconds=5)] == [made.id]
        await journal.task_committed(done(2), ())
        with pytest.raises(LeaseLostError, match="no longer leased to 'w1'"):
            await journal.flush()
        with pytest.raises(LeaseLostError, match="earlier commit"):
            await journal.finish(ended("completed"))
        assert (await store.get_run(made.id)).status == "pending"
        assert [t.sequence for t in await store.list_tasks(made.id)] == [1]
