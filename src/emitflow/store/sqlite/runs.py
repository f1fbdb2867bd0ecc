"""Runs, task records, transitions and waits of ``SqliteStore``.

As in ``events``, each ``_name(conn, …)`` function is the body of one transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Collection, Sequence
from functools import partial
from typing import Any

from emitflow.clock import Clock
from emitflow.errors import NotFoundError
from emitflow.ids import RUN_PREFIX, IdFactory
from emitflow.store import codec
from emitflow.store.bare import Bare
from emitflow.store.paging import Window, lease_end, make_page
from emitflow.store.queries import queries
from emitflow.store.records import (
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
from emitflow.store.rows import RUN, RUN_CHANGES, TASK, WAIT, json_or_none
from emitflow.store.sqlite import statements
from emitflow.store.sqlite.database import SqliteDatabase
from emitflow.store.sqlite.events import Encoded, encode_events, insert_outbox, outbox_items
from emitflow.store.task_batches import pack_tasks, unpack_tasks

__all__ = ["SqliteRuns"]

#: Above this many JSON values (events, task records, emits), a commit is encoded in a thread;
#: at most this many, it is small enough to run on the event loop when the writer is idle.
_PREPARE_INLINE = 256
#: At most this many runs created at once run on the event loop when the writer is idle.
_CREATE_INLINE = 16


Q = queries("sqlite")


_RUN_UPDATE = RUN.encoder(
    "status",
    "input",
    "output",
    "error",
    "context",
    "trigger",
    "hops",
    "started_at",
    "ended_at",
    "id",
)


def _require_run(conn: sqlite3.Connection, run_id: str) -> None:
    if conn.execute(Q["run_exists"], (run_id,)).fetchone() is None:
        raise NotFoundError(f"run {run_id!r} does not exist")


def _create(
    conn: sqlite3.Connection,
    new_id: str,
    values: tuple[Any, ...],
    key: tuple[str, ...] | None,
    bare: Bare,
) -> tuple[RunRecord, bool]:
    if key is not None:
        row = conn.execute(Q["started_run"], key).fetchone()
        if row is not None:
            return RUN.from_row(row), False
    run = RUN.from_row(conn.execute(Q["insert_run"], (new_id, *values)).fetchone())
    if key is not None:
        conn.execute(Q["insert_run_start"], (*key, run.id))
    bare.runs.add(run.id)
    return run, True


def _started(
    conn: sqlite3.Connection, keys: Sequence[tuple[str, str, str]]
) -> dict[tuple[str, str, str], RunRecord]:
    found: dict[tuple[str, str, str], RunRecord] = {}
    for key in dict.fromkeys(keys):  # one primary-key lookup per key
        row = conn.execute(Q["started_run"], key).fetchone()
        if row is not None:
            found[key] = RUN.from_row(row)
    return found


def _create_all(
    conn: sqlite3.Connection,
    prepared: Sequence[tuple[str, tuple[Any, ...], tuple[str, ...] | None]],
    bare: Bare,
) -> list[tuple[RunRecord, bool]]:
    return [_create(conn, new_id, values, key, bare) for new_id, values, key in prepared]


def _get(conn: sqlite3.Connection, run_id: str) -> RunRecord:
    row = conn.execute(Q["get_run"], (run_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"run {run_id!r} does not exist")
    return RUN.from_row(row)


def _tasks(conn: sqlite3.Connection, run_id: str) -> list[StoredTask]:
    _require_run(conn, run_id)
    batches = conn.execute(Q["task_batches"], (run_id,)).fetchall()
    rows = conn.execute(Q["task_rows"], (run_id,))
    if not batches:
        return [TASK.from_row(row) for row in rows]
    # A row was written after the batches (storing a whole list deletes the rows): it wins.
    by_sequence = {
        task.sequence: task for (text,) in batches for task in unpack_tasks(run_id, text)
    }
    for row in rows:
        by_sequence[row["sequence"]] = TASK.from_row(row)
    return [by_sequence[sequence] for sequence in sorted(by_sequence)]


def _cursor(conn: sqlite3.Connection, run_id: str | None) -> int | None:
    if run_id is None:
        return None
    row = conn.execute(Q["run_seq"], (run_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"page cursor: run {run_id!r} does not exist")
    return int(row[0])


def _runs_page(
    conn: sqlite3.Connection,
    workflow_id: str | None,
    statuses: list[str] | None,
    limit: int,
    before: str | None,
    after: str | None,
) -> Page[RunRecord]:
    window = Window.of(limit, _cursor(conn, before), _cursor(conn, after))
    rows = conn.execute(*statements.runs_page(workflow_id, statuses, window)).fetchall()
    return make_page([RUN.from_row(row) for row in rows], window, lambda run: run.id, None)


def _in_flight(conn: sqlite3.Connection) -> list[RunRecord]:
    return [RUN.from_row(row) for row in conn.execute(Q["runs_in_flight"])]


def _claim_runs(
    conn: sqlite3.Connection, owner: str, until: int, now: int, limit: int
) -> list[RunRecord]:
    rows = conn.execute(Q["claim_runs"], (owner, until, now, limit)).fetchall()
    return [RUN.from_row(row) for row in sorted(rows, key=lambda row: row["seq"])]


def _renew_runs(conn: sqlite3.Connection, owner: str, run_ids: list[str], until: int) -> list[str]:
    kept = {row[0] for row in conn.execute(*statements.renew_runs(owner, run_ids, until))}
    return [run_id for run_id in run_ids if run_id in kept]


def _put_batches(
    conn: sqlite3.Connection, run_id: str, batches: list[tuple[int, str]], *, fresh: bool
) -> None:
    """Replace every task record of the run with these batches (a fresh run has none)."""
    if not fresh:
        conn.execute(Q["delete_tasks"], (run_id,))
        conn.execute(Q["delete_task_batches"], (run_id,))
    conn.executemany(Q["insert_task_batch"], [(run_id, first, text) for first, text in batches])


def _commit(
    conn: sqlite3.Connection,
    transition: Transition,
    parts: tuple[tuple[Any, ...] | None, tuple[Any, ...] | None, tuple[Any, ...] | None],
    batches: list[tuple[int, str]],
    encoded: Encoded,
    now_us: int,
    bare: Bare,
) -> range:
    run_params, task_params, wait_params = parts
    run_id = transition.run_id
    if transition.owner is not None:
        row = conn.execute(Q["run_lease"], (run_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"run {run_id!r} does not exist")
        transition.fence(row[0] or None)
    ends = transition.run is not None and transition.run.status in TERMINAL_STATUSES
    # Whatever this writes (task rows, batches, a wait) or ends, the run is no longer bare
    # after it; taken out before any row is written, so a failure below leaves it out too.
    writes_rows = bool(batches) or task_params is not None or wait_params is not None
    fresh = bare.take(run_id) if ends or writes_rows else False
    if run_params is not None:
        if conn.execute(Q["update_run"], run_params).fetchone() is None:
            raise NotFoundError(f"run {run_id!r} does not exist")
        if ends and not fresh:
            conn.execute(Q["delete_waits_of_run"], (run_id,))
    elif transition.owner is None:  # a fenced commit has found the row already
        _require_run(conn, run_id)
    reference = transition.clear_wait
    if reference is not None and not conn.execute(Q["delete_wait"], (run_id, reference)).rowcount:
        raise NotFoundError(f"run {run_id!r} has no wait at {reference!r} to clear")
    if batches:
        _put_batches(conn, run_id, batches, fresh=fresh)
    if task_params is not None:
        conn.execute(Q["upsert_task"], task_params)
    if wait_params is not None:
        conn.execute(Q["upsert_wait"], wait_params)
    return insert_outbox(conn, encoded, now_us)


_Prepared = tuple[
    Transition,
    tuple[tuple[Any, ...] | None, tuple[Any, ...] | None, tuple[Any, ...] | None],
    list[tuple[int, str]],
    Encoded,
]


def _prepare(transition: Transition, events: Sequence[NewEvent]) -> _Prepared:
    """A transition's parameters, encoded before its transaction (a bad value fails here)."""
    parts = (
        None if transition.run is None else RUN_CHANGES(transition.run),
        None if transition.task is None else TASK.to_row(transition.task),
        None if transition.wait is None else WAIT.to_row(transition.wait),
    )
    batches = pack_tasks(transition.tasks) if transition.tasks else []
    return transition, parts, batches, encode_events(events)


def _prepare_all(steps: Sequence[tuple[Transition, Sequence[NewEvent]]]) -> list[_Prepared]:
    return [_prepare(transition, events) for transition, events in steps]


def _outbox_items(
    prepared: list[_Prepared], ranges: list[range], now_us: int
) -> list[list[OutboxItem]]:
    return [
        outbox_items(encoded, ids, now_us)
        for (_, _, _, encoded), ids in zip(prepared, ranges, strict=True)
    ]


def _weight(steps: Sequence[tuple[Transition, Sequence[NewEvent]]]) -> int:
    """About how many JSON values encoding ``steps`` takes: events and emits they record."""
    total = 0
    for transition, events in steps:
        total += len(events) + len(transition.tasks)
        if transition.task is not None:
            total += len(transition.task.emits)
        total += sum(len(task.emits) for task in transition.tasks)
    return total


def _commit_all(
    conn: sqlite3.Connection, prepared: list[_Prepared], now_us: int, bare: Bare
) -> list[range]:
    return [
        _commit(conn, transition, parts, batches, encoded, now_us, bare)
        for transition, parts, batches, encoded in prepared
    ]


def _put_wait(conn: sqlite3.Connection, run_id: str, params: tuple[Any, ...], bare: Bare) -> None:
    bare.take(run_id)
    _require_run(conn, run_id)
    conn.execute(Q["upsert_wait"], params)


def _waits(conn: sqlite3.Connection, statement: tuple[str, list[Any]]) -> list[Wait]:
    return [WAIT.from_row(row) for row in conn.execute(*statement)]


def _delete_wait(conn: sqlite3.Connection, run_id: str, reference: str) -> bool:
    return conn.execute(Q["delete_wait"], (run_id, reference)).rowcount > 0


def _claim_waits(conn: sqlite3.Connection, until: int, now: int, limit: int) -> list[Wait]:
    rows = conn.execute(Q["claim_waits"], (until, now, limit)).fetchall()
    rows.sort(key=lambda row: (row["expires_at"], row["seq"]))
    return [WAIT.from_row(row) for row in rows]


class SqliteRuns:
    """Runs, tasks, transitions and waits; ``SqliteStore`` adds the rest."""

    _db: SqliteDatabase
    _clock: Clock
    _ids: IdFactory
    _bare: Bare

    async def create_run(self, new: NewRun) -> tuple[RunRecord, bool]:
        """Create a run, or give back the one this workflow already started for the event."""
        (result,) = await self.create_runs([new])
        return result

    async def create_runs(self, news: Sequence[NewRun]) -> list[tuple[RunRecord, bool]]:
        """``create_run`` for each, in order, in one transaction."""
        now_us = codec.to_micros(self._clock.now())
        # Encoded and given ids on the event loop, like every call of the injected factory; a
        # deduplicated start leaves its id unused.
        prepared = [
            (
                self._ids(RUN_PREFIX),
                (
                    new.workflow_id,
                    new.workflow_revision,
                    new.status,
                    json_or_none(new.input),
                    json_or_none(new.context),
                    json_or_none(new.trigger),
                    new.hops,
                    now_us,
                    None if new.lease is None else new.lease.owner,
                    None if new.lease is None else now_us + round(new.lease.seconds * 1e6),
                ),
                None if new.dedupe_key is None else (new.workflow_id, *new.dedupe_key),
            )
            for new in news
        ]
        create = partial(_create_all, prepared=prepared, bare=self._bare)
        return await self._db.write(create, inline=len(prepared) <= _CREATE_INLINE)

    async def get_run(self, run_id: str) -> RunRecord:
        """A run by id."""
        get = partial(_get, run_id=run_id)
        return await self._db.read(get, inline=True, one_statement=True)

    async def list_tasks(self, run_id: str) -> list[StoredTask]:
        """A run's task records in sequence order."""
        return await self._db.read(partial(_tasks, run_id=run_id))

    async def runs_started(
        self, keys: Sequence[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], RunRecord]:
        """The runs these (workflow id, source, event id) keys started."""
        return await self._db.read(partial(_started, keys=list(keys)))

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
        Window.of(limit, None, None)  # check the limit before going to the database
        wanted: list[str] | None = None if statuses is None else list(statuses)
        return await self._db.read(
            partial(
                _runs_page,
                workflow_id=workflow_id,
                statuses=wanted,
                limit=limit,
                before=before,
                after=after,
            )
        )

    async def list_runs_in_flight(self) -> list[RunRecord]:
        """Runs left pending or running, oldest first."""
        return await self._db.read(_in_flight)

    async def claim_runs(
        self, *, owner: str, limit: int = 100, lease_seconds: float = 30.0
    ) -> list[RunRecord]:
        """In-flight runs whose lease is free or over, oldest first, now leased to ``owner``."""
        now = self._clock.now()
        until = codec.to_micros(lease_end(now, limit, lease_seconds))
        claim = partial(
            _claim_runs, owner=owner, until=until, now=codec.to_micros(now), limit=limit
        )
        return await self._db.write(claim)

    async def renew_runs(
        self, owner: str, run_ids: Sequence[str], *, lease_seconds: float = 30.0
    ) -> list[str]:
        """Extend ``owner``'s leases on these in-flight runs; the ids it still holds."""
        until = codec.to_micros(lease_end(self._clock.now(), 1, lease_seconds))
        unique = list(dict.fromkeys(run_ids))
        if not unique:
            return []
        renew = partial(_renew_runs, owner=owner, run_ids=unique, until=until)
        return await self._db.write(renew)

    async def commit_transition(
        self, transition: Transition, events: Sequence[NewEvent] = ()
    ) -> list[OutboxItem]:
        """Apply a transition and put the events it emitted in the outbox, in one transaction."""
        (items,) = await self.commit_transitions([(transition, events)])
        return items

    async def commit_transitions(
        self, steps: Sequence[tuple[Transition, Sequence[NewEvent]]]
    ) -> list[list[OutboxItem]]:
        """``commit_transition`` for each step, in order, all in one transaction."""
        # Everything is encoded before the transaction, so a bad value fails before it starts.
        now_us = codec.to_micros(self._clock.now())
        if _weight(steps) <= _PREPARE_INLINE:
            prepared = _prepare_all(steps)
            commit = partial(_commit_all, prepared=prepared, now_us=now_us, bare=self._bare)
            ranges = await self._db.write(commit, inline=True)
            return _outbox_items(prepared, ranges, now_us)
        # Thousands of events (a code step's emits, say) take a while to encode and to hand
        # back: in a thread, so the event loop keeps serving meanwhile.
        prepared = await asyncio.to_thread(_prepare_all, steps)
        commit = partial(_commit_all, prepared=prepared, now_us=now_us, bare=self._bare)
        ranges = await self._db.write(commit)
        return await asyncio.to_thread(_outbox_items, prepared, ranges, now_us)

    # --- waits ---------------------------------------------------------------------------

    async def put_wait(self, wait: Wait) -> None:
        """Register or replace a wait of an existing run."""
        params = WAIT.to_row(wait)
        put = partial(_put_wait, run_id=wait.run_id, params=params, bare=self._bare)
        await self._db.write(put, inline=True)

    async def list_waits(
        self, *, workflow_id: str | None = None, run_id: str | None = None
    ) -> list[Wait]:
        """Waits in the order they were first put."""
        statement = statements.filtered(
            "waits", "seq", {"workflow_id": workflow_id, "run_id": run_id}
        )
        return await self._db.read(partial(_waits, statement=statement))

    async def delete_wait(self, run_id: str, reference: str) -> bool:
        """Remove a wait; only one caller gets ``True``."""
        delete = partial(_delete_wait, run_id=run_id, reference=reference)
        return await self._db.write(delete, inline=True)

    async def claim_due_waits(self, *, limit: int = 100, lease_seconds: float = 30.0) -> list[Wait]:
        """Lease waits whose ``expires_at`` has passed, soonest first."""
        now = self._clock.now()
        until = codec.to_micros(lease_end(now, limit, lease_seconds))
        return await self._db.write(
            partial(_claim_waits, until=until, now=codec.to_micros(now), limit=limit)
        )
