"""The ``Store`` contract: one small protocol per concern, composed into ``Store``.

Every method is one transaction: it happens entirely or not at all. Getting a missing thing
raises ``NotFoundError``; deleting one answers ``False`` (or ``0``). Driver failures surface as
``StoreError``. Lists are newest first where they are paginated, otherwise in the order stated.
Implementations: ``MemoryStore`` (tests, embedding), ``SqliteStore`` and ``PostgresStore``;
``open_store(url)`` picks one by URL scheme. Every implementation passes the contract suites in
``tests/contract/test_store*.py``.

How the engine uses it, one committed hand-off at a time:

1. A run starts with ``create_run`` (with ``dedupe_key=(source, id)`` when an event starts a
   listener, so redelivery cannot start it twice).
2. Each task transition is ``commit_transition(Transition(...), emitted_events)``: the run and
   task rows and the outbox rows of the events commit together, or not at all. Entering a
   ``listen`` registers a ``Wait`` in the same transition; resuming clears it
   (``clear_wait``), which only one resumer can do.
3. The dispatcher loops ``claim_outbox`` → ``append_events`` (a redelivered event keeps its
   first position) → routing (``match_subscriptions``, ``create_run``, ``list_waits``…) →
   ``mark_outbox_done``. A dispatcher that dies leaves leased rows; they are claimed again
   once the lease expires. Ingested events enter through ``enqueue_events``.
4. Timers use ``claim_due_schedules`` and ``claim_due_waits``; periodic housekeeping calls
   ``apply_retention``.
5. Several processes on one store (``shared`` is true: PostgreSQL) divide the runs between them
   with leases: a process creates the runs it will execute leased to itself
   (``NewRun.lease``), renews the leases of those it is executing (``renew_runs``), and claims
   in-flight runs whose lease is free or has expired (``claim_runs``: a crashed process's runs
   are resumed elsewhere). It learns of other processes' writes through ``on_change`` (topics
   in ``CHANGE_TOPICS``) and re-scans on a timer besides. A store only one process uses
   (SQLite, memory) implements the same methods; the runtime then resumes every in-flight run
   at start and never waits for a lease.

Time comes from the injected ``Clock`` and new ids from the injected ``IdFactory`` (called on
the event loop, once per ``create_run``/``put_subscription`` call and per ``put_workflow``
without an id, whether or not the id ends up used). A caller cancelled while awaiting a write
cannot leave it half-done, but the write may still have committed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, ClassVar, Final, Protocol, Self

from emitflow.clock import Clock
from emitflow.ids import IdFactory
from emitflow.store.records import (
    EventQuery,
    NewEvent,
    NewRun,
    NewWorkflow,
    OutboxItem,
    Page,
    RetentionPolicy,
    RunRecord,
    RunStatus,
    Schedule,
    StoredEvent,
    StoredTask,
    Subscription,
    TokenRecord,
    Transition,
    Wait,
    Webhook,
    WebhookDelivery,
    WorkflowVersion,
)

__all__ = [
    "CHANGE_TOPICS",
    "ChangeFeed",
    "EventLog",
    "Migrations",
    "Outbox",
    "RunLeases",
    "RunStore",
    "ScheduleStore",
    "Store",
    "StoreClass",
    "SubscriptionStore",
    "TokenStore",
    "WaitStore",
    "WebhookStore",
    "WorkflowStore",
]


class WorkflowStore(Protocol):
    """Workflow definitions and their versions; an id ``p_…`` is kept across versions."""

    async def put_workflow(self, new: NewWorkflow) -> WorkflowVersion:
        """Store a version (a new workflow unless ``new.id`` names one); same document = no-op."""
        ...

    async def get_workflow(
        self, workflow_id: str, *, revision: int | None = None
    ) -> WorkflowVersion:
        """The latest version of a workflow, or the given revision."""
        ...

    async def list_workflows(self) -> list[WorkflowVersion]:
        """The latest version of every workflow, by namespace, name and id."""
        ...

    async def workflow_named(self, namespace: str, name: str) -> str | None:
        """The id of the first workflow (in id order) whose latest version has this namespace
        and name (the one ``list_workflows`` lists first); ``None`` if there is none."""
        ...

    async def list_workflow_versions(self, workflow_id: str) -> list[WorkflowVersion]:
        """Every version of a workflow, oldest first (empty if unknown)."""
        ...

    async def delete_workflow(self, workflow_id: str) -> bool:
        """Remove a workflow's versions, schedules and subscriptions; runs and events stay."""
        ...


#: What ``ChangeFeed.on_change`` reports: a write of another process that a process may act on.
#: ``outbox``: events to dispatch; ``runs``: runs to claim (created unleased, or released);
#: ``events``: events appended to the log (live readers); ``waits``, ``schedules``,
#: ``deliveries``: due work of the timers and the webhook lanes.
CHANGE_TOPICS: Final = ("outbox", "runs", "events", "waits", "schedules", "deliveries")


class RunStore(Protocol):
    """Runs, their task records, and the transitions that move them on."""

    async def create_run(self, new: NewRun) -> tuple[RunRecord, bool]:
        """Create a run; with a ``dedupe_key`` already used by this workflow, the earlier run
        and ``False`` instead (the key is recorded in the same transaction as the run)."""
        ...

    async def create_runs(self, news: Sequence[NewRun]) -> list[tuple[RunRecord, bool]]:
        """``create_run`` for each, in order, in one transaction: all of them or none (a
        dispatcher starts the listener runs of a whole batch of events with one write)."""
        ...

    async def get_run(self, run_id: str) -> RunRecord:
        """A run by id."""
        ...

    async def list_tasks(self, run_id: str) -> list[StoredTask]:
        """A run's task records in sequence order."""
        ...

    async def list_runs(
        self,
        *,
        workflow_id: str | None = None,
        statuses: Collection[RunStatus] | None = None,
        limit: int = 20,
        before: str | None = None,
        after: str | None = None,
    ) -> Page[RunRecord]:
        """Runs newest first (created order); cursors are run ids; ``total_count`` is None."""
        ...

    async def list_runs_in_flight(self) -> list[RunRecord]:
        """Runs left pending or running (to resume after a crash), oldest first."""
        ...

    async def runs_started(
        self, keys: Sequence[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], RunRecord]:
        """The runs started by (workflow id, CloudEvent ``source``, ``id``) — the dedupe keys
        of ``create_run`` — for the keys that started one (the inspector's "what an event
        started")."""
        ...

    async def commit_transition(
        self, transition: Transition, events: Sequence[NewEvent] = ()
    ) -> list[OutboxItem]:
        """Apply a transition and put the events it emitted in the outbox, in one transaction."""
        ...

    async def commit_transitions(
        self, steps: Sequence[tuple[Transition, Sequence[NewEvent]]]
    ) -> list[list[OutboxItem]]:
        """``commit_transition`` for each step, in order, all in ONE transaction: all of them
        or none (a run's journal commits what queued up while its last commit was written)."""
        ...


class EventLog(Protocol):
    """The event log: every stored event once per (emitter, CloudEvent source, id)."""

    async def append_events(self, events: Sequence[NewEvent]) -> list[StoredEvent]:
        """Append events in order; a duplicate gives back the event already stored."""
        ...

    async def list_events(
        self,
        query: EventQuery | None = None,
        *,
        limit: int = 10,
        before: str | None = None,
        after: str | None = None,
    ) -> Page[StoredEvent]:
        """Events newest first; cursors are positions. ``total_count`` is set when
        ``query.counted`` (an emitter, maybe a channel, no other filter), else None."""
        ...

    async def delete_events(
        self,
        emitter_id: str,
        *,
        start: str | None = None,
        end: str | None = None,
        channel: str | None = None,
    ) -> int:
        """Delete an emitter's events with ``start <= position <= end``; how many went."""
        ...

    async def apply_retention(self, policy: RetentionPolicy) -> int:
        """Delete events older than ``max_age`` and beyond ``max_count`` per stream; how many."""
        ...


class Outbox(Protocol):
    """Events committed for dispatch; a claim leases rows so a crashed dispatcher's come back."""

    async def enqueue_events(self, events: Sequence[NewEvent]) -> list[OutboxItem]:
        """Put events in the outbox (ingested events; emits not tied to a transition)."""
        ...

    async def claim_outbox(
        self, *, limit: int = 100, lease_seconds: float = 30.0
    ) -> list[OutboxItem]:
        """Lease the oldest rows not leased (or whose lease expired), in commit order."""
        ...

    async def mark_outbox_done(self, ids: Iterable[int]) -> int:
        """Remove rows once logged and routed; how many were still there."""
        ...


class SubscriptionStore(Protocol):
    """Subscriptions: (emitter, listener, event name) triples with optional filters."""

    async def put_subscription(
        self,
        emitter_id: str,
        listener_id: str,
        event_name: str = "",
        *,
        filters: Sequence[Any] = (),
    ) -> Subscription:
        """Subscribe; the same triple again keeps its id (its filters are replaced)."""
        ...

    async def delete_subscription(
        self, emitter_id: str, listener_id: str, event_name: str = ""
    ) -> bool:
        """Unsubscribe the triple."""
        ...

    async def list_subscriptions(
        self, *, emitter_id: str | None = None, listener_id: str | None = None
    ) -> list[Subscription]:
        """Subscriptions in creation order, optionally of one emitter or listener."""
        ...

    async def match_subscriptions(self, emitter_id: str, channel: str) -> list[Subscription]:
        """Subscriptions an event of this emitter on this channel reaches, globs included."""
        ...


class WaitStore(Protocol):
    """Runs waiting in a ``listen`` task, keyed by (run id, task reference)."""

    async def put_wait(self, wait: Wait) -> None:
        """Register or replace a wait of an existing run."""
        ...

    async def list_waits(
        self, *, workflow_id: str | None = None, run_id: str | None = None
    ) -> list[Wait]:
        """Waits in the order they were first put."""
        ...

    async def delete_wait(self, run_id: str, reference: str) -> bool:
        """Remove a wait; only one caller gets ``True`` (taking the wait)."""
        ...

    async def claim_due_waits(self, *, limit: int = 100, lease_seconds: float = 30.0) -> list[Wait]:
        """Lease waits whose ``expires_at`` has passed, soonest first."""
        ...


class ScheduleStore(Protocol):
    """Timed and event schedules, keyed by (workflow id, kind)."""

    async def put_schedule(self, schedule: Schedule) -> None:
        """Register or replace a schedule; this also ends a claim's lease."""
        ...

    async def list_schedules(self, *, workflow_id: str | None = None) -> list[Schedule]:
        """Schedules by workflow id and kind."""
        ...

    async def delete_schedules(self, workflow_id: str, *, kind: str | None = None) -> int:
        """Remove a workflow's schedules (of one kind); how many."""
        ...

    async def claim_due_schedules(
        self, *, limit: int = 100, lease_seconds: float = 30.0
    ) -> list[Schedule]:
        """Lease schedules whose ``next_due_at`` has passed, soonest first, until put again."""
        ...


class TokenStore(Protocol):
    """API tokens, found by the digest of their secret."""

    async def put_token(self, token: TokenRecord) -> None:
        """Store a new token (``StoreError`` if its id or digest is taken)."""
        ...

    async def find_token(self, digest: str) -> TokenRecord | None:
        """The token whose secret has this digest, or None."""
        ...

    async def list_tokens(self) -> list[TokenRecord]:
        """Every token, oldest first."""
        ...

    async def delete_token(self, token_id: str) -> bool:
        """Revoke a token."""
        ...

    async def touch_token(self, token_id: str, at: datetime) -> None:
        """Record that a token was used at ``at`` (nothing if it is gone)."""
        ...


class SecretStore(Protocol):
    """Secrets set through the API, stored sealed (``emitflow.sealing``): never in clear."""

    async def put_secret(self, name: str, sealed: str, at: datetime) -> None:
        """Store a sealed secret, or replace it."""
        ...

    async def list_secrets(self) -> dict[str, str]:
        """Every stored secret's sealed value by name."""
        ...

    async def delete_secret(self, name: str) -> bool:
        """Remove a secret; ``False`` if there was none."""
        ...


class WebhookStore(Protocol):
    """Webhook listeners and the deliveries of events to them."""

    async def put_webhook(self, webhook: Webhook) -> None:
        """Store a webhook, or replace it (its health changed)."""
        ...

    async def get_webhook(self, webhook_id: str) -> Webhook:
        """A webhook by id."""
        ...

    async def list_webhooks(self) -> list[Webhook]:
        """Every webhook, oldest first."""
        ...

    async def delete_webhook(self, webhook_id: str) -> bool:
        """Remove a webhook with its subscriptions and deliveries."""
        ...

    async def add_deliveries(self, webhook_ids: Sequence[str], position: str, event: Any) -> int:
        """Queue one event (structured JSON, at ``position``) for each webhook, due now; an
        event already queued for a webhook (same CloudEvent ``source`` and ``id``) is not
        queued again. How many were queued."""
        ...

    async def claim_due_deliveries(
        self,
        *,
        limit: int = 100,
        lease_seconds: float = 30.0,
        webhook_id: str | None = None,
        in_order: bool = False,
    ) -> list[WebhookDelivery]:
        """Lease pending deliveries that are due (by ``next_attempt_at``), oldest first;
        only ``webhook_id``'s when given. ``in_order`` (with ``webhook_id``): only the due
        prefix of its pending deliveries in queue order, so nothing overtakes a delivery that
        is leased or backing off."""
        ...

    async def due_webhook_ids(self) -> list[str]:
        """The webhooks that have a pending delivery due now."""
        ...

    async def add_deliveries_many(self, batch: Sequence[tuple[Sequence[str], str, Any]]) -> int:
        """``add_deliveries`` for several events — ``(webhook_ids, position, event)`` in queue
        order — in one write; how many were queued."""
        ...

    async def finish_delivery(self, delivery: WebhookDelivery) -> None:
        """Record an attempt's outcome: the delivery as it now stands."""
        ...

    async def finish_deliveries(self, deliveries: Sequence[WebhookDelivery]) -> None:
        """Record several attempts' outcomes in one write."""
        ...

    async def list_deliveries(
        self, webhook_id: str, *, status: str | None = None, limit: int = 100
    ) -> list[WebhookDelivery]:
        """A webhook's deliveries, newest first, optionally of one status."""
        ...


class RunLeases(Protocol):
    """Which process executes which in-flight run, when several share the store."""

    async def claim_runs(
        self, *, owner: str, limit: int = 100, lease_seconds: float = 30.0
    ) -> list[RunRecord]:
        """In-flight runs (pending or running) whose lease is free or has expired, oldest
        first, now leased to ``owner`` until ``lease_seconds`` from now. Rows another process
        is claiming at the same moment are skipped, not waited for; two concurrent claims
        never return the same run."""
        ...

    async def renew_runs(
        self, owner: str, run_ids: Sequence[str], *, lease_seconds: float = 30.0
    ) -> list[str]:
        """Extend ``owner``'s leases on these runs to ``lease_seconds`` from now; the ids it
        still holds (a run whose lease expired and was claimed by another process, or that
        has ended, is left out)."""
        ...


class ChangeFeed(Protocol):
    """News of other processes' writes (PostgreSQL ``LISTEN/NOTIFY``)."""

    #: True when several processes may use this store at once (the runtime then claims runs
    #: with leases and listens for changes); False for SQLite and memory.
    shared: ClassVar[bool]

    def on_change(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(topic)`` (a name of ``CHANGE_TOPICS``) on the event loop after
        another process committed such a change. Advisory: a topic may be reported for a
        change that is already gone, and a lost connection loses reports until it is back,
        so users re-scan on a timer too. A store only one process uses never calls it."""
        ...


class Migrations(Protocol):
    """The schema's version, applied explicitly (``emitflow migrate``) or at ``open``."""

    async def migrate(self) -> list[str]:
        """Apply the migrations this version of emitflow knows that the database lacks, in
        order, each in its own transaction; the names applied (empty: up to date). Works on
        a store that is not open. Raises ``StoreError`` naming both versions when the
        database's schema is newer than this version knows."""
        ...


class Store(
    WorkflowStore,
    RunStore,
    RunLeases,
    ChangeFeed,
    Migrations,
    EventLog,
    Outbox,
    SubscriptionStore,
    WaitStore,
    ScheduleStore,
    TokenStore,
    WebhookStore,
    SecretStore,
    Protocol,
):
    """The whole store, used as ``async with open_store(url) as store:``."""

    async def open(self) -> None:
        """Connect and bring the schema up to date (``migrate``); refuse, with
        ``StoreError``, a database whose schema is newer than this version knows."""
        ...

    async def close(self) -> None:
        """Release connections; safe to call twice."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class StoreClass(Protocol):
    """What ``open_store`` needs of a backend class: building it from a URL."""

    def from_url(
        self, url: str, *, clock: Clock | None = None, ids: IdFactory | None = None
    ) -> Store:
        """A store for this URL, not yet open."""
        ...
