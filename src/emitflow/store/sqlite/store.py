"""``SqliteStore``: the default store, one SQLite file in WAL mode with a single writer.

Every public operation is atomic, run as one function on a connection's thread (see
``database``): writes queue on one connection, and those queued together commit in one
transaction, a savepoint each; reads use a second connection. The schema comes from
the numbered files in ``sql/sqlite/``, applied in order at ``open`` and recorded in
``schema_migrations``. The methods live by concern in ``runs`` and ``events``;
this module adds workflows, subscriptions, schedules and the lifecycle.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote

from emitflow.clock import Clock, SystemClock
from emitflow.errors import ConfigurationError, NotFoundError
from emitflow.ids import (
    SUBSCRIPTION_PREFIX,
    WORKFLOW_PREFIX,
    IdFactory,
    check_triple,
    emitter_patterns,
    random_id,
)
from emitflow.store import codec
from emitflow.store.bare import Bare
from emitflow.store.lifecycle import OpenCloseContext
from emitflow.store.paging import lease_end
from emitflow.store.queries import queries
from emitflow.store.records import NewWorkflow, Schedule, Subscription, WorkflowVersion
from emitflow.store.rows import SCHEDULE, SUBSCRIPTION, WORKFLOW
from emitflow.store.sqlite import statements
from emitflow.store.sqlite.database import SqliteDatabase
from emitflow.store.sqlite.events import SqliteEvents
from emitflow.store.sqlite.runs import SqliteRuns
from emitflow.store.sqlite.secrets import SqliteSecrets
from emitflow.store.sqlite.tokens import SqliteTokens
from emitflow.store.sqlite.webhooks import SqliteWebhooks

__all__ = ["SqliteStore", "path_from_url"]

Q = queries("sqlite")
#: A workflow version or subscription whose text is at most this many characters is written on
#: the event loop's thread when the writer is idle (a few statements; no hand-off).
_INLINE_DOCUMENT = 64 * 1024
_URL_FORMS = "sqlite:///relative/path, sqlite:////absolute/path or sqlite:///:memory:"


def path_from_url(url: str) -> str:
    """The database path of a ``sqlite:///…`` URL (``:memory:`` for an in-memory database)."""
    scheme, sep, rest = url.partition("://")
    if scheme.lower() != "sqlite" or not sep:
        raise ConfigurationError(f"store URL {url!r} is not a sqlite URL; use {_URL_FORMS}")
    if not rest.startswith("/") or len(rest) < 2:
        raise ConfigurationError(f"store URL {url!r} names no file; use {_URL_FORMS}")
    if "?" in rest or "#" in rest:
        raise ConfigurationError(f"store URL {url!r}: sqlite URLs take no query or fragment")
    return unquote(rest[1:])


def _put_workflow(
    conn: sqlite3.Connection, new: NewWorkflow, workflow_id: str, now: datetime
) -> WorkflowVersion:
    row = conn.execute(Q["latest_workflow"], (workflow_id,)).fetchone()
    latest = None if row is None else WORKFLOW.from_row(row)
    if latest is not None and latest.same_document(new):
        return latest
    version = new.stored_as(workflow_id, 1 if latest is None else latest.revision + 1, now)
    return WORKFLOW.from_row(
        conn.execute(Q["insert_workflow"], WORKFLOW.to_row(version)).fetchone()
    )


def _get_workflow(
    conn: sqlite3.Connection, workflow_id: str, revision: int | None
) -> WorkflowVersion:
    if revision is None:
        row = conn.execute(Q["latest_workflow"], (workflow_id,)).fetchone()
    else:
        row = conn.execute(Q["workflow_revision"], (workflow_id, revision)).fetchone()
    if row is None:
        which = "" if revision is None else f" revision {revision}"
        raise NotFoundError(f"workflow {workflow_id!r}{which} does not exist")
    return WORKFLOW.from_row(row)


def _rows(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[sqlite3.Row]:
    return conn.execute(sql, params).fetchall()


def _changes(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> int:
    return conn.execute(sql, params).rowcount


def _delete_workflow(conn: sqlite3.Connection, workflow_id: str) -> bool:
    existed = conn.execute(Q["delete_workflow"], (workflow_id,)).rowcount
    conn.execute(Q["delete_workflow_schedules"], (workflow_id,))
    conn.execute(Q["delete_workflow_subscriptions"], (workflow_id,))
    return existed > 0


def _put_subscription(
    conn: sqlite3.Connection, new_id: str, triple: tuple[str, str, str], filters: str, now: int
) -> Subscription:
    row = conn.execute(Q["update_subscription"], (filters, *triple)).fetchone()
    if row is None:
        row = conn.execute(Q["insert_subscription"], (new_id, *triple, filters, now)).fetchone()
    return SUBSCRIPTION.from_row(row)


def _claim_schedules(conn: sqlite3.Connection, until: int, now: int, limit: int) -> list[Schedule]:
    rows = conn.execute(Q["claim_schedules"], (until, now, limit)).fetchall()
    rows.sort(key=lambda row: (row["next_due_at"], row["workflow_id"], row["kind"]))
    return [SCHEDULE.from_row(row) for row in rows]


class SqliteStore(
    SqliteRuns, SqliteEvents, SqliteTokens, SqliteWebhooks, SqliteSecrets, OpenCloseContext
):
    """A ``Store`` in one SQLite file (``:memory:`` for a throwaway one)."""

    def __init__(
        self, path: str | Path, *, clock: Clock | None = None, ids: IdFactory | None = None
    ) -> None:
        self._db = SqliteDatabase(str(path))
        self._clock = clock or SystemClock()
        self._ids = ids or random_id
        self._bare = Bare()

    @classmethod
    def from_url(
        cls, url: str, *, clock: Clock | None = None, ids: IdFactory | None = None
    ) -> SqliteStore:
        """A store for ``sqlite:///relative/path``, ``sqlite:////abs/path`` or ``:memory:``."""
        return cls(path_from_url(url), clock=clock, ids=ids)

    @property
    def path(self) -> str:
        """The database file (or ``:memory:``)."""
        return self._db.path

    def _now_us(self) -> int:
        return codec.to_micros(self._clock.now())

    # --- lifecycle -----------------------------------------------------------------------

    #: One process's store: the runtime resumes every in-flight run at start.
    shared: ClassVar[bool] = False

    async def open(self) -> None:
        """Connect, set up WAL, and apply the migrations not yet applied."""
        await self._db.open(self._now_us())

    async def migrate(self) -> list[str]:
        """Apply the migrations the file lacks; their names. An open store is up to date."""
        if self._db.is_open:
            return []
        try:
            return await self._db.open(self._now_us())
        finally:
            await self._db.close()

    def on_change(self, callback: Callable[[str], None]) -> None:
        """Never called: one process uses a SQLite store."""

    async def close(self) -> None:
        """Close the connections; safe to call twice."""
        await self._db.close()

    # --- workflows -----------------------------------------------------------------------

    async def put_workflow(self, new: NewWorkflow) -> WorkflowVersion:
        """Store a version (a new workflow unless ``new.id`` names one); same document = no-op."""
        workflow_id = new.id or self._ids(WORKFLOW_PREFIX)
        put = partial(_put_workflow, new=new, workflow_id=workflow_id, now=self._clock.now())
        return await self._db.write(put, inline=len(new.document) <= _INLINE_DOCUMENT)

    async def get_workflow(
        self, workflow_id: str, *, revision: int | None = None
    ) -> WorkflowVersion:
        """The latest version of a workflow, or the given revision."""
        get = partial(_get_workflow, workflow_id=workflow_id, revision=revision)
        return await self._db.read(get, inline=True, one_statement=True)

    async def list_workflows(self) -> list[WorkflowVersion]:
        """The latest version of every workflow, by namespace, name and id."""
        rows = await self._db.read(partial(_rows, sql=Q["latest_workflows"], params=()))
        return [WORKFLOW.from_row(row) for row in rows]

    async def workflow_named(self, namespace: str, name: str) -> str | None:
        """The first workflow id whose latest version has this namespace and name."""
        sql = Q["workflow_named"]
        rows = await self._db.read(
            partial(_rows, sql=sql, params=(namespace, name)), inline=True, one_statement=True
        )
        return str(rows[0][0]) if rows else None

    async def list_workflow_versions(self, workflow_id: str) -> list[WorkflowVersion]:
        """Every version of a workflow, oldest first."""
        sql = Q["workflow_versions"]
        rows = await self._db.read(partial(_rows, sql=sql, params=(workflow_id,)))
        return [WORKFLOW.from_row(row) for row in rows]

    async def delete_workflow(self, workflow_id: str) -> bool:
        """Remove a workflow's versions, schedules and subscriptions; runs and events stay."""
        return await self._db.write(partial(_delete_workflow, workflow_id=workflow_id))

    # --- subscriptions -------------------------------------------------------------------

    async def put_subscription(
        self,
        emitter_id: str,
        listener_id: str,
        event_name: str = "",
        *,
        filters: Sequence[Any] = (),
    ) -> Subscription:
        """Subscribe; the same triple again keeps its id (its filters are replaced)."""
        check_triple(emitter_id, listener_id, event_name)
        encoded = codec.dumps(list(filters))
        new_id = self._ids(SUBSCRIPTION_PREFIX)  # unused when the triple exists
        return await self._db.write(
            partial(
                _put_subscription,
                new_id=new_id,
                triple=(emitter_id, event_name, listener_id),
                filters=encoded,
                now=self._now_us(),
            ),
            inline=len(encoded) <= _INLINE_DOCUMENT,
        )

    async def delete_subscription(
        self, emitter_id: str, listener_id: str, event_name: str = ""
    ) -> bool:
        """Unsubscribe the triple."""
        sql, params = Q["delete_subscription"], (emitter_id, event_name, listener_id)
        return await self._db.write(partial(_changes, sql=sql, params=params)) > 0

    async def list_subscriptions(
        self, *, emitter_id: str | None = None, listener_id: str | None = None
    ) -> list[Subscription]:
        """Subscriptions in creation order, optionally of one emitter or listener."""
        sql, params = statements.filtered(
            "subscriptions", "seq", {"emitter_id": emitter_id, "listener_id": listener_id}
        )
        rows = await self._db.read(partial(_rows, sql=sql, params=params))
        return [SUBSCRIPTION.from_row(row) for row in rows]

    async def match_subscriptions(self, emitter_id: str, channel: str) -> list[Subscription]:
        """Subscriptions an event of this emitter on this channel reaches, globs included."""
        sql, params = statements.match_subscriptions(emitter_patterns(emitter_id), channel)
        # The router asks once per claimed batch: one statement, read inline when the writer
        # is idle rather than handed to the reader's thread.
        rows = await self._db.read(
            partial(_rows, sql=sql, params=params), inline=True, one_statement=True
        )
        return [SUBSCRIPTION.from_row(row) for row in rows]

    # --- schedules -----------------------------------------------------------------------

    async def put_schedule(self, schedule: Schedule) -> None:
        """Register or replace a schedule; this also ends a claim's lease."""
        params = SCHEDULE.to_row(schedule)
        await self._db.write(partial(_changes, sql=Q["put_schedule"], params=params))

    async def list_schedules(self, *, workflow_id: str | None = None) -> list[Schedule]:
        """Schedules by workflow id and kind."""
        sql, params = (
            (Q["list_schedules"], ())
            if workflow_id is None
            else (Q["schedules_of"], (workflow_id,))
        )
        rows = await self._db.read(partial(_rows, sql=sql, params=params))
        return [SCHEDULE.from_row(row) for row in rows]

    async def delete_schedules(self, workflow_id: str, *, kind: str | None = None) -> int:
        """Remove a workflow's schedules (of one kind)."""
        sql, params = (
            (Q["delete_schedules"], (workflow_id,))
            if kind is None
            else (Q["delete_schedule_kind"], (workflow_id, kind))
        )
        return await self._db.write(partial(_changes, sql=sql, params=params))

    async def claim_due_schedules(
        self, *, limit: int = 100, lease_seconds: float = 30.0
    ) -> list[Schedule]:
        """Lease schedules whose ``next_due_at`` has passed, soonest first."""
        now = self._clock.now()
        until = codec.to_micros(lease_end(now, limit, lease_seconds))
        return await self._db.write(
            partial(_claim_schedules, until=until, now=codec.to_micros(now), limit=limit)
        )
