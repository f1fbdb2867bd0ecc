"""Runs, task records, transitions, waits and run leases of ``PostgresStore``.

A listener run starts once per (workflow, CloudEvent source, id) across every process: the
dedupe key is inserted with ``ON CONFLICT DO NOTHING`` and the run only where it went in
(``create_runs``, one statement), so of two statements with one key, the second waits on the
primary key for the first and then finds its run, never check-then-insert. Run claims lock
the rows they take with ``FOR UPDATE SKIP LOCKED``: two processes claiming at once never get
the same run, and neither waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from typing import Any

import asyncpg

from emitflow.clock import Clock
from emitflow.errors import NotFoundError
from emitflow.ids import RUN_PREFIX, IdFactory
from emitflow.store import codec
from emitflow.store.bare import Bare
from emitflow.store.paging import Window, lease_end, make_page
from emitflow.store.postgres.database import PostgresDatabase, status_count
from emitflow.store.postgres.events import Encoded, encode_events, insert_outbox, outbox_items
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
from emitflow.store.task_batches import pack_tasks, unpack_tasks

__all__ = ["PostgresRuns"]

Q = queries("postgres")
#: Above this many JSON values (events, task records, emits), a commit is encoded in a thread.
_PREPARE_INLINE = 256

_Prepared = tuple[
    Transition,
    tuple[tuple[Any, ...] | None, tuple[Any, ...] | None, tuple[Any, ...] | None],
    list[tuple[int, str]],
    Encoded,
]


async def _require_run(conn: asyncpg.Connection, run_id: str) -> None:
    if await conn.fetchval(Q["run_exists"], run_id) is None:
        raise NotFoundError(f"run {run_id!r} does not exist")


async def _create(
    conn: asyncpg.Connection, news: Sequence[NewRun], ids: list[str], now_us: int
) -> list[tuple[RunRecord, bool]]:
    """Create the runs in one statement; a run whose dedupe key was taken is the one it
    started, looked up after (``False``: not created here)."""
    keys = [new.dedupe_key for new in news]
    leases = [new.lease for new in news]
    rows = await conn.fetch(
        Q["create_runs"],
        ids,
        [new.workflow_id for new in news],
        [new.workflow_revision for new in news],
        [new.status for new in news],
        [json_or_none(new.input) for new in news],
        [json_or_none(new.context) for new in news],
        [json_or_none(new.trigger) for new in news],
        [new.hops for new in news],
        [None if lease is None else lease.owner for lease in leases],
        [None if lease is None else now_us + round(lease.seconds * 1e6) for lease in leases],
        [None if key is None else key[0] for key in keys],
        [None if key is None else key[1] for key in keys],
        now_us,
    )
    created = {row["id"]: RUN.from_row(row) for row in rows}
    out: list[tuple[RunRecord, bool]] = []
    for new_id, new, key in zip(ids, news, keys, strict=True):
        if new_id in created:
            out.append((created[new_id], True))
            continue
        if key is None:  # nothing but a taken key keeps a run from being created
            raise NotFoundError(f"run {new_id!r} was not created")
        row = await conn.fetchrow(Q["started_run"], new.workflow_id, *key)
        if row is None:  # runs are never deleted, so the key always finds its run
            raise NotFoundError(f"the run started by {(new.workflow_id, *key)!r} does not exist")
        out.append((RUN.from_row(row), False))
    return out


async def _tasks(conn: asyncpg.Connection, run_id: str) -> list[StoredTask]:
    await _require_run(conn, run_id)
    batches = await conn.fetch(Q["task_batches"], run_id)
    found = await conn.fetch(Q["task_rows"], run_id)
    if not batches:
        return [TASK.from_row(row) for row in found]
    # A row was written after the batches (storing a whole list deletes the rows): it wins.
    by_sequence = {
        task.sequence: task for batch in batches for task in unpack_tasks(run_id, batch["records"])
    }
    for row in found:
        by_sequence[row["sequence"]] = TASK.from_row(row)
    return [by_sequence[sequence] for sequence in sorted(by_sequence)]


async def _cursor(conn: asyncpg.Connection, run_id: str | None) -> int | None:
    if run_id is None:
        return None
    seq = await conn.fetchval(Q["run_seq"], run_id)
    if seq is None:
        raise NotFoundError(f"page cursor: run {run_id!r} does not exist")
    return int(seq)


async def _put_batches(
    conn: asyncpg.Connection, run_id: str, batches: list[tuple[int, str]], *, fresh: bool
) -> None:
    """Replace every task record of the run with these batches (a fresh run has none)."""
    if not fresh:
        await conn.execute(Q["delete_tasks"], run_id)
        await conn.execute(Q["delete_task_batches"], run_id)
    await conn.execute(
        Q["insert_task_batches"],
        run_id,
        [first for first, _ in batches],
        [text for _, text in batches],
    )


async def _commit(
    conn: asyncpg.Connection, prepared: _Prepared, now_us: int, bare: Bare
) -> list[int]:
    transition, (run_params, task_params, wait_params), batches, encoded = prepared
    run_id = transition.run_id
    if transition.owner is not None:
        holder = await conn.fetchval(Q["lock_run_lease"], run_id)
        if holder is None:
            raise NotFoundError(f"run {run_id!r} does not exist")
        transition.fence(holder or None)
    ends = transition.run is not None and transition.run.status in TERMINAL_STATUSES
    # Whatever this writes (task rows, batches, a wait) or ends, the run is no longer bare
    # after it; taken out before any row is written, so a failure below leaves it out too.
    writes_rows = bool(batches) or task_params is not None or wait_params is not None
    fresh = bare.take(run_id) if ends or writes_rows else False
    if run_params is not None:
        if await conn.fetchval(Q["update_run"], *run_params) is None:
            raise NotFoundError(f"run {run_id!r} does not exist")
        if ends and not fresh:
            await conn.execute(Q["delete_waits_of_run"], run_id)
    elif transition.owner is None:  # a fenced commit has found (and locked) the row already
        await _require_run(conn, run_id)
    if transition.clear_wait is not None:
        status = await conn.execute(Q["delete_wait"], run_id, transition.clear_wait)
        if not status_count(status):
            raise NotFoundError(f"run {run_id!r} has no wait at {transition.clear_wait!r} to clear")
    if batches:
        await _put_batches(conn, run_id, batches, fresh=fresh)
    if task_params is not None:
        await conn.execute(Q["upsert_task"], *task_params)
    if wait_params is not None:
        await conn.execute(Q["upsert_wait"], *wait_params)
    return await insert_outbox(conn, encoded, now_us)


def _fresh_end(prepared: _Prepared, bare: Bare) -> tuple[Any, ...] | None:
    """The run's parameters when this is the end of a fresh run writing nothing but its run
    row and task batches (no task row, wait, cleared wait or event): it is then no longer
    bare. ``None`` for any other transition."""
    transition, (run_params, task_params, wait_params), _, encoded = prepared
    run = transition.run
    if (
        run is None
        or run_params is None
        or run.status not in TERMINAL_STATUSES
        or task_params is not None
        or wait_params is not None
        or transition.clear_wait is not None
        or encoded
        or not bare.take(transition.run_id)
    ):
        return None
    return run_params


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


def _weight(steps: Sequence[tuple[Transition, Sequence[NewEvent]]]) -> int:
    """About how many JSON values encoding ``steps`` takes: events and emits they record."""
    total = 0
    for transition, events in steps:
        total += len(events) + len(transition.tasks)
        if transition.task is not None:
            total += len(transition.task.emits)
        total += sum(len(task.emits) for task in transition.tasks)
    return total


class PostgresRuns:
    """Runs, tasks, transitions, waits and leases; ``PostgresStore`` adds the rest."""

    _db: PostgresDatabase
    _clock: Clock
    _ids: IdFactory
    _ordered: asyncio.Lock
    _bare: Bare

    async def create_run(self, new: NewRun) -> tuple[RunRecord, bool]:
        """Create a run, or give back the one this workflow already started for the event."""
        (result,) = await self.create_runs([new])
        return result

    async def create_runs(self, news: Sequence[NewRun]) -> list[tuple[RunRecord, bool]]:
        """``create_run`` for each, in order, in one statement."""
        if not news:
            return []
        now_us = codec.to_micros(self._clock.now())
        ids = [self._ids(RUN_PREFIX) for _ in news]
        async with self._db.connection() as conn:  # one statement (and lookups of taken keys)
            created = await _create(conn, news, ids, now_us)
        for new, (run, made) in zip(news, created, strict=True):
            if made and new.lease is not None:  # leased to this process: it executes it
                self._bare.runs.add(run.id)
        return created

    async def get_run(self, run_id: str) -> RunRecord:
        """A run by id."""
        async with self._db.connection() as conn:
            row = await conn.fetchrow(Q["get_run"], run_id)
        if row is None:
            raise NotFoundError(f"run {run_id!r} does not exist")
        return RUN.from_row(row)

    async def list_tasks(self, run_id: str) -> list[StoredTask]:
        """A run's task records in sequence order."""
        async with self._db.transaction(snapshot=True) as conn:
            return await _tasks(conn, run_id)

    async def runs_started(
        self, keys: Sequence[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], RunRecord]:
        """The runs these (workflow id, source, event id) keys started."""
        unique = list(dict.fromkeys(keys))
        if not unique:
            return {}
        async with self._db.connection() as conn:
            found = await conn.fetch(
                Q["started_runs"],
                [key[0] for key in unique],
                [key[1] for key in unique],
                [key[2] for key in unique],
            )
        by_key = {
            (row["key_workflow_id"], row["key_source"], row["key_event_id"]): RUN.from_row(row)
            for row in found
        }
        return {key: by_key[key] for key in unique if key in by_key}

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
        async with self._db.transaction(snapshot=True) as conn:
            window = Window.of(limit, await _cursor(conn, before), await _cursor(conn, after))
            clauses: list[str] = []
            params: list[Any] = []
            if workflow_id is not None:
                params.append(workflow_id)
                clauses.append(f"workflow_id = ${len(params)}")
            if statuses is not None:
                params.append(list(statuses))
                clauses.append(f"status = ANY(${len(params)}::text[])")
            for bound, op in ((window.lower, ">"), (window.upper, "<")):
                if bound is not None:
                    params.append(bound)
                    clauses.append(f"seq {op} ${len(params)}")
            order = "ASC" if window.ascending else "DESC"
            params.append(window.limit + 1)
            sql = (
                f"SELECT * FROM runs WHERE {' AND '.join(clauses) or 'TRUE'}"
                f" ORDER BY seq {order} LIMIT ${len(params)}"
            )
            found = await conn.fetch(sql, *params)
        return make_page([RUN.from_row(row) for row in found], window, lambda run: run.id, None)

    async def list_runs_in_flight(self) -> list[RunRecord]:
        """Runs left pending or running, oldest first."""
        async with self._db.connection() as conn:
            found = await conn.fetch(Q["runs_in_flight"])
        return [RUN.from_row(row) for row in found]

    # --- leases --------------------------------------------------------------------------

    async def claim_runs(
        self, *, owner: str, limit: int = 100, lease_seconds: float = 30.0
    ) -> list[RunRecord]:
        """In-flight runs whose lease is free or over, oldest first, now leased to ``owner``;
        rows another process is claiming are skipped (``FOR UPDATE SKIP LOCKED``)."""
        now = self._clock.now()
        until = codec.to_micros(lease_end(now, limit, lease_seconds))
        async with self._db.connection() as conn:  # one statement
            found = await conn.fetch(Q["claim_runs"], owner, until, codec.to_micros(now), limit)
        claimed = [RUN.from_row(row) for row in sorted(found, key=lambda row: row["seq"])]
        for run in claimed:  # another process may have held it and written rows meanwhile
            self._bare.take(run.id)
        return claimed

    async def renew_runs(
        self, owner: str, run_ids: Sequence[str], *, lease_seconds: float = 30.0
    ) -> list[str]:
        """Extend ``owner``'s leases on these in-flight runs; the ids it still holds."""
        until = codec.to_micros(lease_end(self._clock.now(), 1, lease_seconds))
        unique = list(dict.fromkeys(run_ids))
        if not unique:
            return []
        async with self._db.connection() as conn:  # one statement
            found = await conn.fetch(Q["renew_runs"], until, unique, owner)
        kept = {row["id"] for row in found}
        return [run_id for run_id in unique if run_id in kept]

    # --- transitions ---------------------------------------------------------------------

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
        now_us = codec.to_micros(self._clock.now())
        if _weight(steps) <= _PREPARE_INLINE:
            prepared = _prepare_all(steps)
        else:  # thousands of values: encoded in a thread, so the loop keeps serving
            prepared = await asyncio.to_thread(_prepare_all, steps)
        if any(encoded for _, _, _, encoded in prepared):
            # Outbox ids follow the order of the calls of this process (see events.py).
            async with self._ordered:
                ids = await self._commit_all(prepared, now_us)
        else:
            ids = await self._commit_all(prepared, now_us)
        return [
            outbox_items(encoded, step_ids, now_us)
            for (_, _, _, encoded), step_ids in zip(prepared, ids, strict=True)
        ]

    async def _commit_all(self, prepared: list[_Prepared], now_us: int) -> list[list[int]]:
        run_params = _fresh_end(prepared[0], self._bare) if len(prepared) == 1 else None
        if run_params is not None:
            transition, _, batches, _ = prepared[0]
            await self._end_fresh(transition, run_params, batches)
            return [[]]
        async with self._db.transaction() as conn:
            return [await _commit(conn, one, now_us, self._bare) for one in prepared]

    async def _end_fresh(
        self, transition: Transition, run_params: tuple[Any, ...], batches: list[tuple[int, str]]
    ) -> None:
        """End a fresh run in one statement (``end_fresh_run``): no rows of its to replace."""
        async with self._db.connection() as conn:
            found = await conn.fetchrow(
                Q["end_fresh_run"],
                *run_params,
                transition.owner,
                [first for first, _ in batches],
                [text for _, text in batches],
            )
        if found is None:
            raise NotFoundError(f"run {transition.run_id!r} does not exist")
        transition.fence(found["holder"] or None)  # refused: nothing was written

    # --- waits ---------------------------------------------------------------------------

    async def put_wait(self, wait: Wait) -> None:
        """Register or replace a wait of an existing run."""
        params = WAIT.to_row(wait)
        self._bare.take(wait.run_id)
        async with self._db.transaction() as conn:
            await _require_run(conn, wait.run_id)
            await conn.execute(Q["upsert_wait"], *params)

    async def list_waits(
        self, *, workflow_id: str | None = None, run_id: str | None = None
    ) -> list[Wait]:
        """Waits in the order they were first put."""
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("workflow_id", workflow_id), ("run_id", run_id)):
            if value is not None:
                params.append(value)
                clauses.append(f"{column} = ${len(params)}")
        sql = f"SELECT * FROM waits WHERE {' AND '.join(clauses) or 'TRUE'} ORDER BY seq"
        async with self._db.connection() as conn:
            found = await conn.fetch(sql, *params)
        return [WAIT.from_row(row) for row in found]

    async def delete_wait(self, run_id: str, reference: str) -> bool:
        """Remove a wait; only one caller gets ``True``."""
        async with self._db.connection() as conn:  # one statement
            return status_count(await conn.execute(Q["delete_wait"], run_id, reference)) > 0

    async def claim_due_waits(self, *, limit: int = 100, lease_seconds: float = 30.0) -> list[Wait]:
        """Lease waits whose ``expires_at`` has passed, soonest first."""
        now = self._clock.now()
        until = codec.to_micros(lease_end(now, limit, lease_seconds))
        async with self._db.connection() as conn:  # one statement
            found = await conn.fetch(Q["claim_waits"], until, codec.to_micros(now), limit)
        found.sort(key=lambda row: (row["expires_at"], row["seq"]))
        return [WAIT.from_row(row) for row in found]
