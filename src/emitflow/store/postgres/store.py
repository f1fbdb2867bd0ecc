"""``PostgresStore``: the store several emitflow processes share, on one PostgreSQL database.

Built on asyncpg: the fastest asyncio PostgreSQL driver, speaking the binary protocol with a
cache of prepared statements per connection (every named query is parsed and planned once per
connection), with a connection pool, and with native ``LISTEN/NOTIFY`` (``add_listener``) for
the change feed, so no second driver or polling thread is needed.

Every public operation is one transaction on a pooled connection (``database``). Work is
divided between processes by claims that lock the rows they take with ``FOR UPDATE SKIP
LOCKED`` inside an ``UPDATE … RETURNING`` that writes a lease (outbox rows, runs, due waits,
schedules, deliveries); listener runs start once per event by a unique key with ``ON CONFLICT``;
event positions are allocated under a lock held to commit (``events``). Other processes'
writes are reported through ``on_change`` (``changes``). The schema comes from the numbered
files of ``sql/postgres/``, applied at ``open`` (or by ``migrate``) under an advisory lock.

The URL is a libpq-style ``postgresql://user:password@host:port/database``; query parameters
asyncpg does not know become server settings, so ``?search_path=tenant_a`` puts the store in
schema ``tenant_a`` (which must exist). ``pool_min`` and ``pool_max`` (default 1 and 10) size
the pool; one more connection listens for changes once a callback is registered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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
from emitflow.store.postgres.changes import ChangeListener
from emitflow.store.postgres.database import PostgresDatabase, redacted, status_count
from emitflow.store.postgres.events import PostgresEvents
from emitflow.store.postgres.runs import PostgresRuns
from emitflow.store.postgres.secrets import PostgresSecrets
from emitflow.store.postgres.tokens import PostgresTokens
from emitflow.store.postgres.webhooks import PostgresWebhooks
from emitflow.store.queries import queries
from emitflow.store.records import NewWorkflow, Schedule, Subscription, WorkflowVersion
from emitflow.store.rows import SCHEDULE, SUBSCRIPTION, WORKFLOW

__all__ = ["PostgresStore"]

Q = queries("postgres")
_SCHEMES = ("postgresql", "postgres")
_POOL_PARAMS = ("pool_min", "pool_max")


def _pool_sizes(url: str, low: int, high: int) -> tuple[str, tuple[int, int]]:
    """The URL without emitflow's own ``pool_min``/``pool_max`` parameters (every other one
    goes to the server as a setting), and the pool's sizes."""
    parts = urlsplit(url)
    kept, sizes = [], {"pool_min": low, "pool_max": high}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name not in _POOL_PARAMS:
            kept.append((name, value))
            continue
        if not value.isdigit() or int(value) < 1:
            raise ConfigurationError(
                f"store URL {redacted(url)!r}: {name} must be a positive integer, not {value!r}"
            )
        sizes[name] = int(value)
    if sizes["pool_min"] > sizes["pool_max"]:
        raise ConfigurationError(
            f"store URL {redacted(url)!r}: pool_min {sizes['pool_min']} is above pool_max "
            f"{sizes['pool_max']}"
        )
    return urlunsplit(parts._replace(query=urlencode(kept))), (sizes["pool_min"], sizes["pool_max"])


class PostgresStore(
    PostgresRuns,
    PostgresEvents,
    PostgresTokens,
    PostgresWebhooks,
    PostgresSecrets,
    OpenCloseContext,
):
    """A ``Store`` in a PostgreSQL database that any number of processes may share."""

    #: Several processes may use one database: the runtime claims runs with leases.
    shared: ClassVar[bool] = True

    def __init__(
        self,
        url: str,
        *,
        clock: Clock | None = None,
        ids: IdFactory | None = None,
        min_connections: int = 1,
        max_connections: int = 10,
    ) -> None:
        scheme = url.partition("://")[0].lower()
        if scheme not in _SCHEMES or "://" not in url:
            raise ConfigurationError(
                f"store URL {redacted(url)!r} is not a PostgreSQL URL; use "
                "postgresql://user@host:5432/database"
            )
        url, sizes = _pool_sizes(url, min_connections, max_connections)
        self._db = PostgresDatabase(url, min_size=sizes[0], max_size=sizes[1])
        self._clock = clock or SystemClock()
        self._ids = ids or random_id
        self._ordered = asyncio.Lock()
        self._bare = Bare()
        self._changes = ChangeListener(self._db)

    @classmethod
    def from_url(
        cls, url: str, *, clock: Clock | None = None, ids: IdFactory | None = None
    ) -> PostgresStore:
        """A store for ``postgresql://…`` (or ``postgres://…``), not yet open."""
        return cls(url, clock=clock, ids=ids)

    @property
    def url(self) -> str:
        """The database URL without its password."""
        return self._db.where

    def _now_us(self) -> int:
        return codec.to_micros(self._clock.now())

    # --- lifecycle -----------------------------------------------------------------------

    async def open(self) -> None:
        """Apply the pending migrations (``StoreError`` if the schema is newer than this
        emitflow knows), open the pool, and listen for changes if anybody asked."""
        if self._db.is_open:
            return
        await self._db.open(self._now_us())
        try:
            await self._changes.start()
        except BaseException:
            await self._db.close()
            raise

    async def close(self) -> None:
        """Stop listening and close the pool; safe to call twice."""
        await self._changes.close()
        await self._db.close()

    async def migrate(self) -> list[str]:
        """Apply the migrations the database lacks, in order; their names (works unopened)."""
        return await self._db.migrate(self._now_us())

    def on_change(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(topic)`` after a process (this one included) committed a change."""
        self._changes.add(callback)

    # --- workflows -----------------------------------------------------------------------

    async def put_workflow(self, new: NewWorkflow) -> WorkflowVersion:
        """Store a version (a new workflow unless ``new.id`` names one); same document = no-op."""
        now = self._clock.now()
        if new.id is None:
            # A new workflow under an id just made: no version to number after or compare
            # with, so one autocommitted INSERT (one round trip, not five).
            version = new.stored_as(self._ids(WORKFLOW_PREFIX), 1, now)
            async with self._db.connection() as conn:
                row = await conn.fetchrow(Q["insert_workflow"], *WORKFLOW.to_row(version))
            return WORKFLOW.from_row(row)
        workflow_id = new.id
        async with self._db.transaction() as conn:
            await conn.execute(Q["lock_workflow"], workflow_id)
            row = await conn.fetchrow(Q["latest_workflow"], workflow_id)
            latest = None if row is None else WORKFLOW.from_row(row)
            if latest is not None and latest.same_document(new):
                return latest
            revision = 1 if latest is None else latest.revision + 1
            version = new.stored_as(workflow_id, revision, now)
            row = await conn.fetchrow(Q["insert_workflow"], *WORKFLOW.to_row(version))
        return WORKFLOW.from_row(row)

    async def get_workflow(
        self, workflow_id: str, *, revision: int | None = None
    ) -> WorkflowVersion:
        """The latest version of a workflow, or the given revision."""
        async with self._db.connection() as conn:
            if revision is None:
                row = await conn.fetchrow(Q["latest_workflow"], workflow_id)
            else:
                row = await conn.fetchrow(Q["workflow_revision"], workflow_id, revision)
        if row is None:
            which = "" if revision is None else f" revision {revision}"
            raise NotFoundError(f"workflow {workflow_id!r}{which} does not exist")
        return WORKFLOW.from_row(row)

    async def list_workflows(self) -> list[WorkflowVersion]:
        """The latest version of every workflow, by namespace, name and id."""
        async with self._db.connection() as conn:
            found = await conn.fetch(Q["latest_workflows"])
        return [WORKFLOW.from_row(row) for row in found]

    async def workflow_named(self, namespace: str, name: str) -> str | None:
        """The first workflow id whose latest version has this namespace and name."""
        async with self._db.connection() as conn:
            found = await conn.fetchval(Q["workflow_named"], namespace, name)
        return None if found is None else str(found)

    async def list_workflow_versions(self, workflow_id: str) -> list[WorkflowVersion]:
        """Every version of a workflow, oldest first."""
        async with self._db.connection() as conn:
            found = await conn.fetch(Q["workflow_versions"], workflow_id)
        return [WORKFLOW.from_row(row) for row in found]

    async def delete_workflow(self, workflow_id: str) -> bool:
        """Remove a workflow's versions, schedules and subscriptions; runs and events stay."""
        async with self._db.transaction() as conn:
            return int(await conn.fetchval(Q["delete_workflow"], workflow_id)) > 0

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
        triple = (emitter_id, event_name, listener_id)
        async with self._db.connection() as conn:  # one statement: insert, or update the row
            row = await conn.fetchrow(
                Q["put_subscription"], new_id, *triple, encoded, self._now_us()
            )
        return SUBSCRIPTION.from_row(row)

    async def delete_subscription(
        self, emitter_id: str, listener_id: str, event_name: str = ""
    ) -> bool:
        """Unsubscribe the triple."""
        async with self._db.transaction() as conn:
            status = await conn.execute(
                Q["delete_subscription"], emitter_id, event_name, listener_id
            )
        return status_count(status) > 0

    async def list_subscriptions(
        self, *, emitter_id: str | None = None, listener_id: str | None = None
    ) -> list[Subscription]:
        """Subscriptions in creation order, optionally of one emitter or listener."""
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("emitter_id", emitter_id), ("listener_id", listener_id)):
            if value is not None:
                params.append(value)
                clauses.append(f"{column} = ${len(params)}")
        sql = f"SELECT * FROM subscriptions WHERE {' AND '.join(clauses) or 'TRUE'} ORDER BY seq"
        async with self._db.connection() as conn:
            found = await conn.fetch(sql, *params)
        return [SUBSCRIPTION.from_row(row) for row in found]

    async def match_subscriptions(self, emitter_id: str, channel: str) -> list[Subscription]:
        """Subscriptions an event of this emitter on this channel reaches, globs included."""
        patterns = list(emitter_patterns(emitter_id))
        async with self._db.connection() as conn:
            found = await conn.fetch(Q["match_subscriptions"], patterns, channel)
        return [SUBSCRIPTION.from_row(row) for row in found]

    # --- schedules -----------------------------------------------------------------------

    async def put_schedule(self, schedule: Schedule) -> None:
        """Register or replace a schedule; this also ends a claim's lease."""
        params = SCHEDULE.to_row(schedule)
        async with self._db.connection() as conn:  # one statement
            await conn.execute(Q["put_schedule"], *params)

    async def list_schedules(self, *, workflow_id: str | None = None) -> list[Schedule]:
        """Schedules by workflow id and kind."""
        async with self._db.connection() as conn:
            if workflow_id is None:
                found = await conn.fetch(Q["list_schedules"])
            else:
                found = await conn.fetch(Q["schedules_of"], workflow_id)
        return [SCHEDULE.from_row(row) for row in found]

    async def delete_schedules(self, workflow_id: str, *, kind: str | None = None) -> int:
        """Remove a workflow's schedules (of one kind)."""
        async with self._db.transaction() as conn:
            if kind is None:
                status = await conn.execute(Q["delete_schedules"], workflow_id)
            else:
                status = await conn.execute(Q["delete_schedule_kind"], workflow_id, kind)
        return status_count(status)

    async def claim_due_schedules(
        self, *, limit: int = 100, lease_seconds: float = 30.0
    ) -> list[Schedule]:
        """Lease schedules whose ``next_due_at`` has passed, soonest first, until put again:
        one process fires each tick."""
        now = self._clock.now()
        until = codec.to_micros(lease_end(now, limit, lease_seconds))
        async with self._db.connection() as conn:  # one statement
            found = await conn.fetch(Q["claim_schedules"], until, codec.to_micros(now), limit)
        found.sort(key=lambda row: (row["next_due_at"], row["workflow_id"], row["kind"]))
        return [SCHEDULE.from_row(row) for row in found]
