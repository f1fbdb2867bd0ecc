"""``MemoryStore``: the whole store in one process's memory, for tests and embedding.

It passes the same contract suite as ``SqliteStore``. Every method runs without awaiting in
between, so it is atomic on the event loop; each checks everything before it changes anything,
so a refused operation leaves nothing behind. Values go through the same JSON round trip as a
database, so what comes back is what a database would give back. Runs and waits live in
``runs``, the event log and outbox in ``events``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar

from emitflow.clock import Clock, SystemClock
from emitflow.errors import ConfigurationError, NotFoundError, StoreError
from emitflow.ids import (
    SUBSCRIPTION_PREFIX,
    WORKFLOW_PREFIX,
    IdFactory,
    check_triple,
    emitter_patterns,
    random_id,
)
from emitflow.store import codec
from emitflow.store.lifecycle import OpenCloseContext
from emitflow.store.memory.runs import MemoryRuns, is_due
from emitflow.store.memory.secrets import MemorySecrets
from emitflow.store.memory.tokens import MemoryTokens
from emitflow.store.memory.webhooks import MemoryWebhooks
from emitflow.store.paging import lease_end
from emitflow.store.records import (
    NewWorkflow,
    Schedule,
    Subscription,
    WorkflowVersion,
)

__all__ = ["MemoryStore"]


class MemoryStore(MemoryRuns, MemoryTokens, MemoryWebhooks, MemorySecrets, OpenCloseContext):
    """A ``Store`` in memory; ``clock`` and ``ids`` are injectable for tests."""

    def __init__(self, *, clock: Clock | None = None, ids: IdFactory | None = None) -> None:
        super().__init__()
        self._clock = clock or SystemClock()
        self._ids = ids or random_id
        self._is_open = False
        self._workflows: dict[str, list[WorkflowVersion]] = {}
        self._subscriptions: dict[tuple[str, str, str], Subscription] = {}
        self._schedules: dict[tuple[str, str], Schedule] = {}
        self._schedule_leases: dict[tuple[str, str], datetime] = {}
        self._tokens = {}
        self._secrets = {}
        self._webhooks = {}
        self._deliveries = {}
        self._delivery_keys = {}

    @classmethod
    def from_url(
        cls, url: str, *, clock: Clock | None = None, ids: IdFactory | None = None
    ) -> MemoryStore:
        """A store for ``memory://`` (nothing may follow the scheme)."""
        if url.rstrip("/").lower() != "memory:":
            raise ConfigurationError(
                f"store URL {url!r}: a memory store takes no path; use 'memory://'"
            )
        return cls(clock=clock, ids=ids)

    # --- lifecycle -----------------------------------------------------------------------

    #: One process's store: nobody else writes to it.
    shared: ClassVar[bool] = False

    async def open(self) -> None:
        """Make the store usable (its data lives as long as the object)."""
        self._is_open = True

    async def migrate(self) -> list[str]:
        """Nothing to migrate: the structures are this version's."""
        return []

    def on_change(self, callback: Callable[[str], None]) -> None:
        """Never called: only this process writes to a memory store."""

    async def close(self) -> None:
        """Refuse further use until opened again."""
        self._is_open = False

    def _check_open(self) -> None:
        if not self._is_open:
            raise StoreError(
                "the store is not open; use 'async with store:' or 'await store.open()'"
            )

    # --- workflows -----------------------------------------------------------------------

    async def put_workflow(self, new: NewWorkflow) -> WorkflowVersion:
        """Store a version (a new workflow unless ``new.id`` names one); same document = no-op."""
        self._check_open()
        workflow_id = new.id or self._ids(WORKFLOW_PREFIX)
        versions = self._workflows.get(workflow_id, [])
        if versions and versions[-1].same_document(new):
            return versions[-1]
        version = WorkflowVersion(
            id=workflow_id,
            revision=len(versions) + 1,
            namespace=new.namespace,
            name=new.name,
            version=new.version,
            document=new.document,
            media_type=new.media_type,
            definition=codec.json_copy(new.definition),
            created_at=self._now(),
        )
        self._workflows[workflow_id] = [*versions, version]
        return version

    async def get_workflow(
        self, workflow_id: str, *, revision: int | None = None
    ) -> WorkflowVersion:
        """The latest version of a workflow, or the given revision."""
        self._check_open()
        versions = self._workflows.get(workflow_id, [])
        if revision is None and versions:
            return versions[-1]
        if revision is not None and 1 <= revision <= len(versions):
            return versions[revision - 1]
        raise NotFoundError(_missing_workflow(workflow_id, revision))

    async def list_workflows(self) -> list[WorkflowVersion]:
        """The latest version of every workflow, by namespace, name and id."""
        self._check_open()
        latest = [versions[-1] for versions in self._workflows.values()]
        return sorted(latest, key=lambda w: (w.namespace, w.name, w.id))

    async def workflow_named(self, namespace: str, name: str) -> str | None:
        """The first workflow id whose latest version has this namespace and name."""
        self._check_open()
        named = (
            workflow_id
            for workflow_id, versions in self._workflows.items()
            if (versions[-1].namespace, versions[-1].name) == (namespace, name)
        )
        return min(named, default=None)

    async def list_workflow_versions(self, workflow_id: str) -> list[WorkflowVersion]:
        """Every version of a workflow, oldest first."""
        self._check_open()
        return list(self._workflows.get(workflow_id, []))

    async def delete_workflow(self, workflow_id: str) -> bool:
        """Remove a workflow's versions, schedules and subscriptions."""
        self._check_open()
        existed = self._workflows.pop(workflow_id, None) is not None
        for key in [k for k in self._schedules if k[0] == workflow_id]:
            del self._schedules[key]
            self._schedule_leases.pop(key, None)
        for triple in [k for k in self._subscriptions if workflow_id in (k[0], k[1])]:
            del self._subscriptions[triple]
        return existed

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
        self._check_open()
        check_triple(emitter_id, listener_id, event_name)
        key = (emitter_id, listener_id, event_name)
        kept = tuple(codec.json_copy(list(filters)))
        new_id = self._ids(SUBSCRIPTION_PREFIX)  # made even when unused, as every backend does
        existing = self._subscriptions.get(key)
        if existing is not None:
            subscription = replace(existing, filters=kept)
        else:
            subscription = Subscription(
                id=new_id,
                emitter_id=emitter_id,
                listener_id=listener_id,
                event_name=event_name,
                filters=kept,
                created_at=self._now(),
            )
        self._subscriptions[key] = subscription
        return subscription

    async def delete_subscription(
        self, emitter_id: str, listener_id: str, event_name: str = ""
    ) -> bool:
        """Unsubscribe the triple."""
        self._check_open()
        return self._subscriptions.pop((emitter_id, listener_id, event_name), None) is not None

    async def list_subscriptions(
        self, *, emitter_id: str | None = None, listener_id: str | None = None
    ) -> list[Subscription]:
        """Subscriptions in creation order, optionally of one emitter or listener."""
        self._check_open()
        return [
            sub
            for sub in self._subscriptions.values()
            if emitter_id in (None, sub.emitter_id) and listener_id in (None, sub.listener_id)
        ]

    async def match_subscriptions(self, emitter_id: str, channel: str) -> list[Subscription]:
        """Subscriptions an event of this emitter on this channel reaches, globs included."""
        self._check_open()
        patterns = emitter_patterns(emitter_id)
        return [
            sub
            for sub in self._subscriptions.values()
            if sub.emitter_id in patterns and sub.event_name == channel
        ]

    # --- schedules -----------------------------------------------------------------------

    async def put_schedule(self, schedule: Schedule) -> None:
        """Register or replace a schedule; this also ends a claim's lease."""
        self._check_open()
        key = (schedule.workflow_id, schedule.kind)
        self._schedules[key] = replace(
            schedule,
            spec=codec.json_copy(schedule.spec),
            next_due_at=codec.utc_or_none(schedule.next_due_at),
        )
        self._schedule_leases.pop(key, None)

    async def list_schedules(self, *, workflow_id: str | None = None) -> list[Schedule]:
        """Schedules by workflow id and kind."""
        self._check_open()
        return [
            self._schedules[key] for key in sorted(self._schedules) if workflow_id in (None, key[0])
        ]

    async def delete_schedules(self, workflow_id: str, *, kind: str | None = None) -> int:
        """Remove a workflow's schedules (of one kind)."""
        self._check_open()
        doomed = [k for k in self._schedules if k[0] == workflow_id and kind in (None, k[1])]
        for key in doomed:
            del self._schedules[key]
            self._schedule_leases.pop(key, None)
        return len(doomed)

    async def claim_due_schedules(
        self, *, limit: int = 100, lease_seconds: float = 30.0
    ) -> list[Schedule]:
        """Lease schedules whose ``next_due_at`` has passed, soonest first."""
        self._check_open()
        now = self._clock.now()
        until = lease_end(now, limit, lease_seconds)
        due = sorted(
            (schedule.next_due_at or now, key)
            for key, schedule in self._schedules.items()
            if is_due(schedule.next_due_at, self._schedule_leases.get(key), now)
        )[:limit]
        for _, key in due:
            self._schedule_leases[key] = until
        return [self._schedules[key] for _, key in due]


def _missing_workflow(workflow_id: str, revision: int | None) -> str:
    if revision is None:
        return f"workflow {workflow_id!r} does not exist"
    return f"workflow {workflow_id!r} has no revision {revision}"
