"""Runs, task records, transitions and waits of ``MemoryStore``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime

from emitflow.errors import NotFoundError, StoreError
from emitflow.ids import RUN_PREFIX, IdFactory
from emitflow.store import codec
from emitflow.store.memory.events import MemoryEvents
from emitflow.store.paging import Window, lease_end, make_page, scan
from emitflow.store.records import (
    IN_FLIGHT_STATUSES,
    TERMINAL_STATUSES,
    NewEvent,
    NewRun,
    OutboxItem,
    Page,
    RunRecord,
    RunStatus,
    StoredTask,
    Transition,
    Wait,
)

__all__ = ["MemoryRuns", "is_due"]


def _run_copy(run: RunRecord) -> RunRecord:
    return replace(
        run,
        input=codec.json_copy(run.input),
        output=codec.json_copy(run.output),
        error=codec.json_copy(run.error),
        context=codec.json_copy(run.context),
        trigger=codec.json_copy(run.trigger),
        started_at=codec.utc_or_none(run.started_at),
        ended_at=codec.utc_or_none(run.ended_at),
    )


def _task_copy(task: StoredTask) -> StoredTask:
    return replace(
        task,
        input=codec.json_copy(task.input),
        output=codec.json_copy(task.output),
        error=codec.json_copy(task.error),
        emits=tuple(codec.json_copy(list(task.emits))),
        started_at=codec.utc_or_none(task.started_at),
        ended_at=codec.utc_or_none(task.ended_at),
    )


def _wait_copy(wait: Wait) -> Wait:
    state = codec.json_copy(wait.state)
    return replace(wait, state=state, expires_at=codec.utc_or_none(wait.expires_at))


def _check_encodable(transition: Transition, events: Sequence[NewEvent]) -> None:
    """Raise the ``StoreError`` that storing the transition's values would raise."""
    for part in (transition.run, transition.wait):
        if part is not None:
            _wait_copy(part) if isinstance(part, Wait) else _run_copy(part)
    for task in (transition.task, *transition.tasks):
        if task is not None:
            _task_copy(task)
    for new in events:
        codec.json_copy(new.event.to_dict())
        codec.json_copy(dict(new.metadata))


def is_due(moment: datetime | None, lease: datetime | None, now: datetime) -> bool:
    """True when ``moment`` has passed and no unexpired lease holds the row."""
    return moment is not None and moment <= now and (lease is None or lease <= now)


class MemoryRuns(MemoryEvents):
    """Runs, tasks, transitions and waits; ``MemoryStore`` adds the rest."""

    _ids: IdFactory

    def __init__(self) -> None:
        super().__init__()
        self._runs: dict[str, RunRecord] = {}
        self._run_seq: dict[str, int] = {}
        self._tasks: dict[str, dict[int, StoredTask]] = {}
        self._starts: dict[tuple[str, str, str], str] = {}
        self._waits: dict[tuple[str, str], Wait] = {}
        self._wait_leases: dict[tuple[str, str], datetime] = {}
        #: Run id → (owner, lease end) of the runs a process holds.
        self._run_leases: dict[str, tuple[str, datetime]] = {}

    def _now(self) -> datetime:
        return codec.utc(self._clock.now())

    async def create_run(self, new: NewRun) -> tuple[RunRecord, bool]:
        """Create a run, or give back the one this workflow already started for the event."""
        (result,) = await self.create_runs([new])
        return result

    async def create_runs(self, news: Sequence[NewRun]) -> list[tuple[RunRecord, bool]]:
        """``create_run`` for each, in order: all of them or none."""
        self._check_open()
        now = self._now()
        # Ids are made for every run, used or not, as every backend does; each run is copied
        # (and so checked) before any is stored.
        made = [
            (
                None if new.dedupe_key is None else (new.workflow_id, *new.dedupe_key),
                _run_copy(
                    RunRecord(
                        id=self._ids(RUN_PREFIX),
                        workflow_id=new.workflow_id,
                        workflow_revision=new.workflow_revision,
                        status=new.status,
                        input=new.input,
                        context=new.context,
                        trigger=new.trigger,
                        hops=new.hops,
                        created_at=now,
                    )
                ),
            )
            for new in news
        ]
        ids = [run.id for _, run in made]
        if len(set(ids)) != len(ids) or any(run_id in self._runs for run_id in ids):
            raise StoreError("a run id is already taken; the id factory repeated itself")
        results: list[tuple[RunRecord, bool]] = []
        for (start_key, run), lease in zip(made, (new.lease for new in news), strict=True):
            if start_key is not None and start_key in self._starts:
                results.append((self._runs[self._starts[start_key]], False))
                continue
            self._runs[run.id] = run
            self._run_seq[run.id] = len(self._run_seq) + 1
            self._tasks[run.id] = {}
            if lease is not None:
                self._run_leases[run.id] = (lease.owner, lease_end(now, 1, lease.seconds))
            if start_key is not None:
                self._starts[start_key] = run.id
            results.append((run, True))
        return results

    async def get_run(self, run_id: str) -> RunRecord:
        """A run by id."""
        self._check_open()
        return self._run(run_id)

    def _run(self, run_id: str) -> RunRecord:
        run = self._runs.get(run_id)
        if run is None:
            raise NotFoundError(f"run {run_id!r} does not exist")
        return run

    async def runs_started(
        self, keys: Sequence[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], RunRecord]:
        """The runs these (workflow id, source, event id) keys started."""
        self._check_open()
        return {key: self._runs[self._starts[key]] for key in keys if key in self._starts}

    async def list_tasks(self, run_id: str) -> list[StoredTask]:
        """A run's task records in sequence order."""
        self._check_open()
        self._run(run_id)
        tasks = self._tasks[run_id]
        return [tasks[sequence] for sequence in sorted(tasks)]

    async def list_runs(
        self,
        *,
        workflow_id: str | None = None,
        statuses: Collection[RunStatus] | None = None,
        limit: int = 20,
        before: str | None = None,
        after: str | None = None,
    ) -> Page[RunRecord]:
        """Runs newest first; cursors are run ids."""
        self._check_open()
        window = Window.of(limit, self._cursor(before), self._cursor(after))
        by_seq = {seq: self._runs[run_id] for run_id, seq in self._run_seq.items()}

        def match(seq: int) -> bool:
            run = by_seq[seq]
            return (workflow_id is None or run.workflow_id == workflow_id) and (
                statuses is None or run.status in statuses
            )

        found = scan(list(by_seq), window, match)
        return make_page([by_seq[seq] for seq in found], window, lambda run: run.id, None)

    def _cursor(self, run_id: str | None) -> int | None:
        if run_id is None:
            return None
        seq = self._run_seq.get(run_id)
        if seq is None:
            raise NotFoundError(f"page cursor: run {run_id!r} does not exist")
        return seq

    async def list_runs_in_flight(self) -> list[RunRecord]:
        """Runs left pending or running, oldest first."""
        self._check_open()
        return [run for run in self._runs.values() if run.status in IN_FLIGHT_STATUSES]

    async def claim_runs(
        self, *, owner: str, limit: int = 100, lease_seconds: float = 30.0
    ) -> list[RunRecord]:
        """In-flight runs whose lease is free or over, oldest first, now leased to ``owner``."""
        self._check_open()
        now = self._now()
        until = lease_end(now, limit, lease_seconds)
        claimed: list[RunRecord] = []
        for run in self._runs.values():
            if len(claimed) >= limit:
                break
            held = self._run_leases.get(run.id)
            if run.status in IN_FLIGHT_STATUSES and (held is None or held[1] <= now):
                self._run_leases[run.id] = (owner, until)
                claimed.append(run)
        return claimed

    async def renew_runs(
        self, owner: str, run_ids: Sequence[str], *, lease_seconds: float = 30.0
    ) -> list[str]:
        """Extend ``owner``'s leases on these in-flight runs; the ids it still holds."""
        self._check_open()
        until = lease_end(self._now(), 1, lease_seconds)
        kept: list[str] = []
        for run_id in dict.fromkeys(run_ids):
            run, held = self._runs.get(run_id), self._run_leases.get(run_id)
            in_flight = run is not None and run.status in IN_FLIGHT_STATUSES
            if in_flight and held is not None and held[0] == owner:
                self._run_leases[run_id] = (owner, until)
                kept.append(run_id)
        return kept

    async def commit_transition(
        self, transition: Transition, events: Sequence[NewEvent] = ()
    ) -> list[OutboxItem]:
        """Apply a transition and put the events it emitted in the outbox, at once."""
        self._check_open()
        current = self._run(transition.run_id)
        self._fence(transition)
        wait_key = (transition.run_id, transition.clear_wait or "")
        if transition.clear_wait is not None and wait_key not in self._waits:
            raise NotFoundError(
                f"run {transition.run_id!r} has no wait at {transition.clear_wait!r} to clear"
            )
        run = None if transition.run is None else _run_copy(_keep_identity(transition.run, current))
        task = None if transition.task is None else _task_copy(transition.task)
        wait = None if transition.wait is None else _wait_copy(transition.wait)
        whole = {record.sequence: _task_copy(record) for record in transition.tasks}
        items = self._prepare_outbox(events)
        # Everything is checked and encoded: from here on nothing can fail.
        if transition.clear_wait is not None:
            del self._waits[wait_key]
            self._wait_leases.pop(wait_key, None)
        if run is not None:
            self._runs[run.id] = run
            if run.status in TERMINAL_STATUSES:
                for key in [key for key in self._waits if key[0] == run.id]:
                    del self._waits[key]
                    self._wait_leases.pop(key, None)
        if whole:
            self._tasks[transition.run_id] = whole
        if task is not None:
            self._tasks[task.run_id][task.sequence] = task
        if wait is not None:
            self._store_wait(wait)
        self._push_outbox(items)
        return items

    def _fence(self, transition: Transition) -> None:
        held = self._run_leases.get(transition.run_id)
        transition.fence(None if held is None else held[0])

    async def commit_transitions(
        self, steps: Sequence[tuple[Transition, Sequence[NewEvent]]]
    ) -> list[list[OutboxItem]]:
        """``commit_transition`` for each step, in order: all of them or none."""
        self._check_open()
        waits = set(self._waits)
        for transition, events in steps:  # everything that could fail, checked first
            self._run(transition.run_id)
            self._fence(transition)
            if transition.clear_wait is not None:
                key = (transition.run_id, transition.clear_wait)
                if key not in waits:
                    raise NotFoundError(
                        f"run {transition.run_id!r} has no wait at {transition.clear_wait!r} "
                        "to clear"
                    )
                waits.discard(key)
            if transition.wait is not None:
                waits.add((transition.run_id, transition.wait.reference))
            _check_encodable(transition, events)
        return [await self.commit_transition(transition, events) for transition, events in steps]

    # --- waits ---------------------------------------------------------------------------

    async def put_wait(self, wait: Wait) -> None:
        """Register or replace a wait of an existing run."""
        self._check_open()
        self._run(wait.run_id)
        self._store_wait(_wait_copy(wait))

    def _store_wait(self, wait: Wait) -> None:
        key = (wait.run_id, wait.reference)
        self._waits[key] = wait
        self._wait_leases.pop(key, None)

    async def list_waits(
        self, *, workflow_id: str | None = None, run_id: str | None = None
    ) -> list[Wait]:
        """Waits in the order they were first put."""
        self._check_open()
        return [
            wait
            for wait in self._waits.values()
            if workflow_id in (None, wait.workflow_id) and run_id in (None, wait.run_id)
        ]

    async def delete_wait(self, run_id: str, reference: str) -> bool:
        """Remove a wait; only one caller gets ``True``."""
        self._check_open()
        self._wait_leases.pop((run_id, reference), None)
        return self._waits.pop((run_id, reference), None) is not None

    async def claim_due_waits(self, *, limit: int = 100, lease_seconds: float = 30.0) -> list[Wait]:
        """Lease waits whose ``expires_at`` has passed, soonest first."""
        self._check_open()
        now = self._clock.now()
        until = lease_end(now, limit, lease_seconds)
        due = [
            (key, wait)
            for key, wait in self._waits.items()
            if is_due(wait.expires_at, self._wait_leases.get(key), now)
        ]
        due.sort(key=lambda pair: pair[1].expires_at or now)
        for key, _ in due[:limit]:
            self._wait_leases[key] = until
        return [wait for _, wait in due[:limit]]


def _keep_identity(run: RunRecord, current: RunRecord) -> RunRecord:
    return replace(
        run,
        workflow_id=current.workflow_id,
        workflow_revision=current.workflow_revision,
        created_at=current.created_at,
    )
