"""The values the store keeps and returns: frozen records, one per stored thing.

JSON fields (``input``, ``output``, ``state``, ``metadata``…) hold any JSON value; the store
gives back a fresh copy, as decoded from what it wrote. Times are timezone-aware UTC datetimes,
kept to the microsecond. Records returned by a store are shared: treat their values as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from emitflow.errors import LeaseLostError, StoreError
from emitflow.events.cloudevent import CloudEvent
from emitflow.ports import (
    RUN_STATUSES,
    TASK_STATUSES,
    TERMINAL_STATUSES,
    RunStatus,
    TaskStatus,
)
from emitflow.store import codec

__all__ = [
    "DEFAULT_CHANNEL",
    "DELIVERY_STATUSES",
    "ERRORS_CHANNEL",
    "IN_FLIGHT_STATUSES",
    "LIFECYCLE_CHANNEL",
    "RESERVED_CHANNELS",
    "RUN_STATUSES",
    "TASK_STATUSES",
    "TERMINAL_STATUSES",
    "WEBHOOK_MODES",
    "WEBHOOK_STATES",
    "EventQuery",
    "NewEvent",
    "NewRun",
    "NewWorkflow",
    "OutboxItem",
    "Page",
    "RetentionPolicy",
    "RunLease",
    "RunRecord",
    "RunStatus",
    "Schedule",
    "StoredEvent",
    "StoredTask",
    "Subscription",
    "TaskStatus",
    "TokenRecord",
    "Transition",
    "Wait",
    "Webhook",
    "WebhookDelivery",
    "WorkflowVersion",
]

T = TypeVar("T")

#: Runs in these states were being executed by a process; after a crash they are resumed.
IN_FLIGHT_STATUSES: tuple[RunStatus, ...] = ("pending", "running")

DEFAULT_CHANNEL = ""
ERRORS_CHANNEL = "$errors"
LIFECYCLE_CHANNEL = "$lifecycle"
RESERVED_CHANNELS: frozenset[str] = frozenset({ERRORS_CHANNEL, LIFECYCLE_CHANNEL})


def _check_status(status: str, allowed: frozenset[str], what: str) -> None:
    if status not in allowed:
        raise StoreError(f"{what} status {status!r} is not one of {', '.join(sorted(allowed))}")


def _check_text(value: Any, what: str) -> None:
    if not isinstance(value, str) or not value:
        raise StoreError(f"{what} must be a non-empty string, not {value!r}")


# --- workflows -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class NewWorkflow:
    """A workflow document to deploy; ``id`` names an existing workflow to add a version to."""

    namespace: str
    name: str
    version: str
    document: str
    media_type: str = "application/yaml"
    definition: Any = None
    id: str | None = None

    def stored_as(self, workflow_id: str, revision: int, created_at: datetime) -> WorkflowVersion:
        """This document as revision ``revision`` of ``workflow_id``, to be written."""
        return WorkflowVersion(
            id=workflow_id,
            revision=revision,
            namespace=self.namespace,
            name=self.name,
            version=self.version,
            document=self.document,
            media_type=self.media_type,
            definition=self.definition,
            created_at=created_at,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowVersion:
    """One stored version of a workflow; ``revision`` counts the versions of ``id`` from 1."""

    id: str
    revision: int
    namespace: str
    name: str
    version: str
    document: str
    media_type: str
    definition: Any
    created_at: datetime

    def same_document(self, new: NewWorkflow) -> bool:
        """True when deploying ``new`` would store nothing new (so it stores nothing)."""
        mine = (self.namespace, self.name, self.version, self.document, self.media_type)
        theirs = (new.namespace, new.name, new.version, new.document, new.media_type)
        return mine == theirs and self.definition == codec.json_copy(new.definition)


# --- runs and tasks ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunLease:
    """A run held by ``owner`` (a process's id) for ``seconds`` from when it is written."""

    owner: str
    seconds: float

    def __post_init__(self) -> None:
        _check_text(self.owner, "lease owner")
        if not self.seconds > 0:
            raise StoreError(f"a run lease lasts a positive number of seconds, not {self.seconds}")


@dataclass(frozen=True, slots=True, kw_only=True)
class NewRun:
    """A run to create; ``dedupe_key`` (CloudEvent ``source``, ``id``) starts it once per event."""

    workflow_id: str
    workflow_revision: int
    input: Any = None
    context: Any = None
    trigger: Any = None
    hops: int = 0
    status: RunStatus = "pending"
    dedupe_key: tuple[str, str] | None = None
    #: Created leased to the process that will execute it (stores several processes share);
    #: ``None``: free for any process to claim.
    lease: RunLease | None = None

    def __post_init__(self) -> None:
        _check_text(self.workflow_id, "workflow_id")
        _check_status(self.status, RUN_STATUSES, "run")
        if self.dedupe_key is not None:
            source, event_id = self.dedupe_key
            _check_text(source, "dedupe_key source")
            _check_text(event_id, "dedupe_key id")


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    """A run: what it runs, where it stands, and what went in and came out.

    ``context`` is the run's ``$context``, saved so a resumed run continues with it; ``trigger``
    is what started it (e.g. the event); ``hops`` is the loop guard's count; ``error`` an
    RFC 7807 object.
    """

    id: str
    workflow_id: str
    workflow_revision: int
    status: RunStatus
    input: Any = None
    output: Any = None
    error: Mapping[str, Any] | None = None
    context: Any = None
    trigger: Any = None
    hops: int = 0
    created_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None

    def __post_init__(self) -> None:
        _check_status(self.status, RUN_STATUSES, "run")


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredTask:
    """One execution of a task in a run, identified by ``(run_id, sequence)``.

    ``reference`` is the task's JSON pointer; a task run again (a loop, a retry) gets a new
    ``sequence``. ``emits`` lists what it emitted, as the inspector shows it.
    """

    run_id: str
    sequence: int
    reference: str
    name: str
    status: TaskStatus
    input: Any = None
    output: Any = None
    error: Mapping[str, Any] | None = None
    emits: tuple[Any, ...] = ()
    log: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None

    def __post_init__(self) -> None:
        _check_status(self.status, TASK_STATUSES, "task")
        object.__setattr__(self, "emits", tuple(self.emits))


@dataclass(frozen=True, slots=True, kw_only=True)
class Wait:
    """A run waiting in a ``listen`` task at ``reference``; ``state`` holds its correlation."""

    run_id: str
    reference: str
    workflow_id: str
    state: Any = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """What one step of a run changes, committed in one transaction with the events it emitted.

    ``run`` replaces the stored run; ``task`` inserts or replaces a task record; ``wait``
    registers a wait; ``clear_wait`` removes this run's wait at that reference first, and the
    whole transition fails with ``NotFoundError`` if it is gone (so two resumers cannot both win).
    A ``run`` that has ended (a terminal status) takes every wait of the run away with it: an
    ended run waits for nothing.
    A run's ``id``, ``workflow_id``, ``workflow_revision`` and ``created_at`` never change.

    ``tasks``, when not empty, is the run's whole task list (a run's end stores every record at
    once): it replaces every task record stored for the run, and is applied before ``task``.
    Backends may store it compactly (SQLite keeps a thousand records to a row); ``list_tasks``
    gives the records back the same either way.

    ``owner``, when set, fences the commit on the run's lease: it applies only while the run is
    leased to that owner (``NewRun.lease``, ``claim_runs``), checked in the same transaction,
    and fails with ``LeaseLostError`` otherwise (writing nothing). A process that stalled past
    its lease cannot then commit over the process that claimed the run after it.
    """

    run_id: str
    run: RunRecord | None = None
    task: StoredTask | None = None
    wait: Wait | None = None
    clear_wait: str | None = None
    tasks: tuple[StoredTask, ...] = ()
    owner: str | None = None

    def fence(self, holder: str | None) -> None:
        """Refuse this transition (``LeaseLostError``) when it is fenced on ``owner`` and the
        run's lease is held by ``holder`` instead (``None``: by nobody)."""
        if self.owner is None or holder == self.owner:
            return
        raise LeaseLostError(
            f"run {self.run_id!r} is no longer leased to {self.owner!r}: another process "
            "claimed it after its lease ran out, and resumes it; this commit is refused",
            path=f"runs/{self.run_id}",
            cause=f"leased to {holder!r}" if holder else "not leased",
        )

    def __post_init__(self) -> None:
        parts: list[RunRecord | StoredTask | Wait] = [
            p for p in (self.run, self.task, self.wait) if p is not None
        ]
        for part in parts:
            owner = part.id if isinstance(part, RunRecord) else part.run_id
            if owner != self.run_id:
                raise StoreError(
                    f"transition of run {self.run_id!r} carries a {type(part).__name__} "
                    f"of run {owner!r}"
                )
        object.__setattr__(self, "tasks", tuple(self.tasks))
        for record in self.tasks:
            if record.run_id != self.run_id:
                raise StoreError(
                    f"transition of run {self.run_id!r} carries a StoredTask of run "
                    f"{record.run_id!r}"
                )


# --- events and outbox ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class NewEvent:
    """An event to append or enqueue: who emitted it, on which channel, and extra metadata."""

    emitter_id: str
    event: CloudEvent
    channel: str = DEFAULT_CHANNEL
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_text(self.emitter_id, "emitter_id")
        if not isinstance(self.channel, str):
            raise StoreError(f"channel must be a string, not {self.channel!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredEvent:
    """An event in the log; ``position`` (``"<epoch_ms>-<seq>"``) is its place and cursor."""

    position: str
    emitter_id: str
    channel: str
    indexed_at_ms: int
    event: Mapping[str, Any]
    metadata: Mapping[str, Any]

    def cloud_event(self) -> CloudEvent:
        """The stored structured JSON as a ``CloudEvent``."""
        return CloudEvent.from_dict(self.event)


@dataclass(frozen=True, slots=True, kw_only=True)
class EventQuery:
    """Which events to list; every given field must match. ``since``/``until`` bound the
    indexed time (the position's millisecond), ``since`` inclusive and ``until`` exclusive."""

    emitter_id: str | None = None
    channel: str | None = None
    type: str | None = None
    source: str | None = None
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @property
    def counted(self) -> bool:
        """True when the total is kept by the store (emitter and channel only, no filters)."""
        return self.emitter_id is not None and (
            self.type is None
            and self.source is None
            and self.subject is None
            and self.since is None
            and self.until is None
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxItem:
    """An event committed for dispatch; ``attempts`` counts the claims so far."""

    id: int
    emitter_id: str
    channel: str
    event: CloudEvent
    metadata: Mapping[str, Any]
    created_at: datetime
    attempts: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionPolicy:
    """How long events are kept: by age and by count per (emitter, channel) stream."""

    max_age: timedelta | None = None
    max_count: int | None = None

    def __post_init__(self) -> None:
        if self.max_count is not None and self.max_count < 0:
            raise StoreError(f"retention max_count must be >= 0, not {self.max_count}")


# --- subscriptions and schedules -----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription:
    """A listener subscribed to an emitter's channel (``event_name``, ``""`` = default)."""

    id: str
    emitter_id: str
    listener_id: str
    event_name: str
    filters: tuple[Any, ...] = ()
    created_at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "filters", tuple(self.filters))


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    """A workflow's schedule of one ``kind`` (cron, every, after, on); ``None`` = not timed."""

    workflow_id: str
    kind: str
    spec: Any = None
    next_due_at: datetime | None = None


# --- API tokens ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenRecord:
    """An API token: its id, name, scopes and the SHA-256 ``digest`` of its secret (never the
    secret itself); ``resources``, the workflow ids it is limited to (empty: every one), and
    when it was last used."""

    id: str
    name: str
    scopes: tuple[str, ...]
    digest: str
    created_at: datetime
    resources: tuple[str, ...] = ()
    last_used_at: datetime | None = None

    def __post_init__(self) -> None:
        _check_text(self.id, "token id")
        _check_text(self.digest, "token digest")
        object.__setattr__(self, "scopes", tuple(self.scopes))
        object.__setattr__(self, "resources", tuple(self.resources))


# --- webhook listeners ---------------------------------------------------------------------

WEBHOOK_MODES: frozenset[str] = frozenset({"binary", "structured"})
WEBHOOK_STATES: frozenset[str] = frozenset({"healthy", "backing_off", "disabled"})
DELIVERY_STATUSES: frozenset[str] = frozenset({"pending", "delivered", "dead"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Webhook:
    """A webhook listener ``wh_…``: where events are POSTed, how, and how it is doing.

    ``state`` is ``healthy``, ``backing_off`` (the last attempt failed) or ``disabled`` (after
    too many failures in a row); ``failures`` counts them; ``last_error`` says the last one.
    """

    id: str
    url: str
    name: str = ""
    mode: str = "binary"
    state: str = "healthy"
    failures: int = 0
    last_error: str | None = None
    created_at: datetime
    updated_at: datetime

    def __post_init__(self) -> None:
        _check_text(self.id, "webhook id")
        _check_text(self.url, "webhook url")
        if self.mode not in WEBHOOK_MODES:
            raise StoreError(f"webhook mode {self.mode!r} is not binary or structured")
        if self.state not in WEBHOOK_STATES:
            raise StoreError(f"webhook state {self.state!r} is not one of {sorted(WEBHOOK_STATES)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookDelivery:
    """One event on its way to one webhook; ``next_attempt_at`` is also its lease.

    A delivery is ``pending`` until a POST succeeds (``delivered``) or the last attempt fails
    (``dead``: the dead-letter record, with ``last_error``).
    """

    id: int
    webhook_id: str
    position: str
    event: Mapping[str, Any]
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime
    last_error: str | None = None

    def __post_init__(self) -> None:
        if self.status not in DELIVERY_STATUSES:
            raise StoreError(f"delivery status {self.status!r} is not one of {DELIVERY_STATUSES}")


# --- pages ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Page(Generic[T]):
    """One page of a list, newest first.

    ``start_cursor``/``end_cursor`` are the cursors of the first and last item; ``has_more`` says
    whether more lie beyond the page in the direction read (older, or newer when reading
    ``after`` a cursor); ``total_count`` counts the whole list when the store keeps that count.
    """

    items: tuple[T, ...]
    total_count: int | None
    start_cursor: str | None
    end_cursor: str | None
    has_more: bool

    @property
    def count(self) -> int:
        """How many items this page holds."""
        return len(self.items)
