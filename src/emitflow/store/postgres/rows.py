"""Rows of the PostgreSQL tables as store records, and records as query parameters.

The columns are those of the SQLite schema (BIGINT microseconds, JSON as TEXT, positions as
one BIGINT), so these read an asyncpg ``Record`` exactly as the SQLite backend reads a
``sqlite3.Row``: by column name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from emitflow.events.cloudevent import CloudEvent
from emitflow.store import codec
from emitflow.store.records import (
    OutboxItem,
    RunRecord,
    Schedule,
    StoredEvent,
    StoredTask,
    Subscription,
    TokenRecord,
    Wait,
    Webhook,
    WebhookDelivery,
    WorkflowVersion,
)

__all__ = [
    "delivery",
    "json_or_none",
    "micros",
    "outbox_item",
    "run",
    "run_params",
    "schedule",
    "stored_event",
    "subscription",
    "task",
    "task_params",
    "time",
    "token",
    "version",
    "wait",
    "wait_params",
    "webhook",
]

Row = Mapping[str, Any]


def json_or_none(value: Any) -> str | None:
    """JSON text, or ``None`` for ``None``."""
    return None if value is None else codec.dumps(value)


def micros(moment: datetime | None) -> int | None:
    """Microseconds since the epoch, or ``None``."""
    return None if moment is None else codec.to_micros(moment)


def time(value: int | None) -> datetime | None:
    """The datetime of stored microseconds, or ``None``."""
    return None if value is None else codec.from_micros(value)


def version(row: Row) -> WorkflowVersion:
    """A ``workflows`` row."""
    return WorkflowVersion(
        id=row["id"],
        revision=row["revision"],
        namespace=row["namespace"],
        name=row["name"],
        version=row["version"],
        document=row["document"],
        media_type=row["media_type"],
        definition=codec.loads(row["definition"]),
        created_at=codec.from_micros(row["created_at"]),
    )


def run(row: Row) -> RunRecord:
    """A ``runs`` row."""
    return RunRecord(
        id=row["id"],
        workflow_id=row["workflow_id"],
        workflow_revision=row["workflow_revision"],
        status=row["status"],
        input=codec.loads(row["input"]),
        output=codec.loads(row["output"]),
        error=codec.loads(row["error"]),
        context=codec.loads(row["context"]),
        trigger=codec.loads(row["trigger"]),
        hops=row["hops"],
        created_at=codec.from_micros(row["created_at"]),
        started_at=time(row["started_at"]),
        ended_at=time(row["ended_at"]),
    )


def run_params(record: RunRecord) -> tuple[Any, ...]:
    """The parameters of ``update_run``: what a transition may change, then the id."""
    return (
        record.status,
        json_or_none(record.input),
        json_or_none(record.output),
        json_or_none(record.error),
        json_or_none(record.context),
        json_or_none(record.trigger),
        record.hops,
        micros(record.started_at),
        micros(record.ended_at),
        record.id,
    )


def task(row: Row) -> StoredTask:
    """A ``tasks`` row."""
    return StoredTask(
        run_id=row["run_id"],
        sequence=row["sequence"],
        reference=row["reference"],
        name=row["name"],
        status=row["status"],
        input=codec.loads(row["input"]),
        output=codec.loads(row["output"]),
        error=codec.loads(row["error"]),
        emits=tuple(codec.loads(row["emits"])),
        log=row["log"],
        started_at=time(row["started_at"]),
        ended_at=time(row["ended_at"]),
    )


def task_params(record: StoredTask) -> tuple[Any, ...]:
    """The parameters of ``upsert_task``."""
    return (
        record.run_id,
        record.sequence,
        record.reference,
        record.name,
        record.status,
        json_or_none(record.input),
        json_or_none(record.output),
        json_or_none(record.error),
        codec.dumps(list(record.emits)),
        record.log,
        micros(record.started_at),
        micros(record.ended_at),
    )


def wait(row: Row) -> Wait:
    """A ``waits`` row."""
    return Wait(
        run_id=row["run_id"],
        reference=row["reference"],
        workflow_id=row["workflow_id"],
        state=codec.loads(row["state"]),
        expires_at=time(row["expires_at"]),
    )


def wait_params(record: Wait) -> tuple[Any, ...]:
    """The parameters of ``upsert_wait``."""
    return (
        record.run_id,
        record.reference,
        record.workflow_id,
        json_or_none(record.state),
        micros(record.expires_at),
    )


def stored_event(row: Row) -> StoredEvent:
    """An ``events`` row."""
    pos = int(row["pos"])
    return StoredEvent(
        position=codec.position_text(pos),
        emitter_id=row["emitter_id"],
        channel=row["channel"],
        indexed_at_ms=codec.position_ms(pos),
        event=codec.loads(row["event"]),
        metadata=codec.loads(row["metadata"]),
    )


def outbox_item(row: Row) -> OutboxItem:
    """An ``outbox`` row."""
    return OutboxItem(
        id=int(row["id"]),
        emitter_id=row["emitter_id"],
        channel=row["channel"],
        event=CloudEvent.from_dict(codec.loads(row["event"])),
        metadata=codec.loads(row["metadata"]),
        created_at=codec.from_micros(row["created_at"]),
        attempts=int(row["attempts"]),
    )


def subscription(row: Row) -> Subscription:
    """A ``subscriptions`` row."""
    return Subscription(
        id=row["id"],
        emitter_id=row["emitter_id"],
        listener_id=row["listener_id"],
        event_name=row["event_name"],
        filters=tuple(codec.loads(row["filters"])),
        created_at=codec.from_micros(row["created_at"]),
    )


def schedule(row: Row) -> Schedule:
    """A ``schedules`` row."""
    return Schedule(
        workflow_id=row["workflow_id"],
        kind=row["kind"],
        spec=codec.loads(row["spec"]),
        next_due_at=time(row["next_due_at"]),
    )


def token(row: Row) -> TokenRecord:
    """A ``tokens`` row."""
    return TokenRecord(
        id=row["id"],
        name=row["name"],
        scopes=tuple(codec.loads(row["scopes"])),
        digest=row["digest"],
        created_at=codec.from_micros(row["created_at"]),
        resources=tuple(codec.loads(row["resources"])),
        last_used_at=time(row["last_used_at"]),
    )


def webhook(row: Row) -> Webhook:
    """A ``webhooks`` row."""
    return Webhook(
        id=row["id"],
        url=row["url"],
        name=row["name"],
        mode=row["mode"],
        state=row["state"],
        failures=row["failures"],
        last_error=row["last_error"],
        created_at=codec.from_micros(row["created_at"]),
        updated_at=codec.from_micros(row["updated_at"]),
    )


def delivery(row: Row, *, next_attempt_at: int | None = None) -> WebhookDelivery:
    """A ``webhook_deliveries`` row (with ``next_attempt_at`` as it was before a claim)."""
    due = row["next_attempt_at"] if next_attempt_at is None else next_attempt_at
    return WebhookDelivery(
        id=int(row["id"]),
        webhook_id=row["webhook_id"],
        position=row["position"],
        event=codec.loads(row["event"]),
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=codec.from_micros(due),
        last_error=row["last_error"],
    )
