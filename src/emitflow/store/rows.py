"""Store records as table rows and back, declared once for every SQL backend.

Both SQL dialects keep the same columns (times as BIGINT microseconds, JSON as TEXT, an event's
position as one BIGINT), and both drivers read a row by column name (``sqlite3.Row``,
``asyncpg.Record``). So each record type has ONE ``RowCodec`` here: its columns, each with the
record attribute it holds and how the value is encoded, and from that its ``to_row`` (query
parameters in column order) and ``from_row``. A backend's SQL names the columns in the same
order; ``encoder(*names)`` gives the parameters of a statement that writes only some of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from emitflow.errors import StoreError
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
    "DELIVERY",
    "EVENT",
    "OUTBOX",
    "RUN",
    "RUN_CHANGES",
    "SCHEDULE",
    "SUBSCRIPTION",
    "TASK",
    "TOKEN",
    "WAIT",
    "WEBHOOK",
    "WORKFLOW",
    "Column",
    "Row",
    "RowCodec",
    "json_or_none",
    "micros",
]

R = TypeVar("R")
Convert = Callable[[Any], Any]


class Row(Protocol):
    """A fetched row, read by column name (``sqlite3.Row``, ``asyncpg.Record``)."""

    def __getitem__(self, key: str, /) -> Any: ...


def json_or_none(value: Any) -> str | None:
    """JSON text, or ``None`` for ``None``."""
    return None if value is None else codec.dumps(value)


def micros(moment: datetime | None) -> int | None:
    """Microseconds since the epoch, or ``None``."""
    return None if moment is None else codec.to_micros(moment)


def _time(value: int | None) -> datetime | None:
    return None if value is None else codec.from_micros(value)


def _items_text(value: Any) -> str:
    return codec.dumps(list(value))


def _items(text: str) -> tuple[Any, ...]:
    return tuple(codec.loads(text))


def _event_text(event: CloudEvent) -> str:
    return codec.dumps(event.to_dict())


def _event(text: str) -> CloudEvent:
    return CloudEvent.from_dict(codec.loads(text))


@dataclass(frozen=True, slots=True)
class Kind:
    """How one column's value is written (``None``: derived, never written) and read."""

    encode: Convert | None
    decode: Convert | None


PLAIN = Kind(encode=None, decode=None)
JSON = Kind(encode=json_or_none, decode=codec.loads)
ITEMS = Kind(encode=_items_text, decode=_items)  # a tuple kept as a JSON array
TIME = Kind(encode=micros, decode=_time)  # an optional datetime
INSTANT = Kind(encode=codec.to_micros, decode=codec.from_micros)
INT = Kind(encode=None, decode=int)  # a BIGINT asyncpg may give back as another int type
EVENT_JSON = Kind(encode=_event_text, decode=_event)


@dataclass(frozen=True, slots=True)
class Column:
    """A column and the record attribute it holds (the same name unless ``attr`` says)."""

    name: str
    kind: Kind = PLAIN
    attr: str = ""
    #: False for an attribute derived from another column (read, never written).
    written: bool = True

    @property
    def field(self) -> str:
        """The record attribute."""
        return self.attr or self.name


class RowCodec(Generic[R]):
    """One record type's columns, and the record as query parameters and from a row.

    ``from_row`` and each encoder are compiled once from the columns (as ``dataclasses`` does
    for ``__init__``): one plain expression per column, half the time of a loop over the
    columns, and a run's records are read and written several times per run.
    """

    def __init__(self, record: Callable[..., R], *columns: Column) -> None:
        self.record = record
        self.columns = columns
        self.names = tuple(column.name for column in columns if column.written)
        self._encoders: dict[tuple[str, ...], Callable[[R], tuple[Any, ...]]] = {}
        scope: dict[str, Any] = {"record": record}
        reads = []
        for at, column in enumerate(columns):
            value = f"row[{column.name!r}]"
            if column.kind.decode is not None:
                scope[f"decode{at}"] = column.kind.decode
                value = f"decode{at}({value})"
            reads.append(f"{column.field}={value}")
        self.from_row: Callable[[Row], R] = _compiled(
            f"def from_row(row):\n    return record({', '.join(reads)})", scope, "from_row"
        )
        self.to_row = self.encoder(*self.names)

    def encoder(self, *names: str) -> Callable[[R], tuple[Any, ...]]:
        """A function giving a record's values of these columns, in this order, encoded."""
        found = self._encoders.get(names)
        if found is not None:
            return found
        by_name = {column.name: column for column in self.columns if column.written}
        unknown = [name for name in names if name not in by_name]
        if unknown:
            raise StoreError(f"{self.record!r} has no written column {unknown}")
        scope: dict[str, Any] = {}
        values = []
        for at, name in enumerate(names):
            column = by_name[name]
            value = f"value.{column.field}"
            if column.kind.encode is not None:
                scope[f"encode{at}"] = column.kind.encode
                value = f"encode{at}({value})"
            values.append(value)
        source = f"def to_row(value):\n    return ({', '.join(values)},)"
        encode: Callable[[R], tuple[Any, ...]] = _compiled(source, scope, "to_row")
        self._encoders[names] = encode
        return encode


def _compiled(source: str, scope: dict[str, Any], name: str) -> Any:
    """The function ``name`` defined by ``source`` (built from column names only)."""
    exec(source, scope)  # the text is made of this module's own column names
    return scope[name]


WORKFLOW: RowCodec[WorkflowVersion] = RowCodec(
    WorkflowVersion,
    Column("id"),
    Column("revision"),
    Column("namespace"),
    Column("name"),
    Column("version"),
    Column("media_type"),
    Column("document"),
    Column("definition", JSON),
    Column("created_at", INSTANT),
)

RUN: RowCodec[RunRecord] = RowCodec(
    RunRecord,
    Column("id"),
    Column("workflow_id"),
    Column("workflow_revision"),
    Column("status"),
    Column("input", JSON),
    Column("output", JSON),
    Column("error", JSON),
    Column("context", JSON),
    Column("trigger", JSON),
    Column("hops"),
    Column("created_at", INSTANT),
    Column("started_at", TIME),
    Column("ended_at", TIME),
)

#: The parameters of ``update_run`` in both dialects: what a transition may change, then the id.
RUN_CHANGES = RUN.encoder(
    *("status", "input", "output", "error", "context", "trigger", "hops"),
    *("started_at", "ended_at", "id"),
)

TASK: RowCodec[StoredTask] = RowCodec(
    StoredTask,
    Column("run_id"),
    Column("sequence"),
    Column("reference"),
    Column("name"),
    Column("status"),
    Column("input", JSON),
    Column("output", JSON),
    Column("error", JSON),
    Column("emits", ITEMS),
    Column("log"),
    Column("started_at", TIME),
    Column("ended_at", TIME),
)

WAIT: RowCodec[Wait] = RowCodec(
    Wait,
    Column("run_id"),
    Column("reference"),
    Column("workflow_id"),
    Column("state", JSON),
    Column("expires_at", TIME),
)

EVENT: RowCodec[StoredEvent] = RowCodec(
    StoredEvent,
    Column("pos", Kind(encode=codec.position_key, decode=codec.position_text), attr="position"),
    Column("pos", Kind(encode=None, decode=codec.position_ms), "indexed_at_ms", written=False),
    Column("emitter_id"),
    Column("channel"),
    Column("event", JSON),
    Column("metadata", JSON),
)

OUTBOX: RowCodec[OutboxItem] = RowCodec(
    OutboxItem,
    Column("id", INT),
    Column("emitter_id"),
    Column("channel"),
    Column("event", EVENT_JSON),
    Column("metadata", JSON),
    Column("created_at", INSTANT),
    Column("attempts", INT),
)

SUBSCRIPTION: RowCodec[Subscription] = RowCodec(
    Subscription,
    Column("id"),
    Column("emitter_id"),
    Column("event_name"),
    Column("listener_id"),
    Column("filters", ITEMS),
    Column("created_at", INSTANT),
)

SCHEDULE: RowCodec[Schedule] = RowCodec(
    Schedule,
    Column("workflow_id"),
    Column("kind"),
    Column("spec", JSON),
    Column("next_due_at", TIME),
)

TOKEN: RowCodec[TokenRecord] = RowCodec(
    TokenRecord,
    Column("id"),
    Column("name"),
    Column("scopes", ITEMS),
    Column("digest"),
    Column("created_at", INSTANT),
    Column("resources", ITEMS),
    Column("last_used_at", TIME),
)

WEBHOOK: RowCodec[Webhook] = RowCodec(
    Webhook,
    Column("id"),
    Column("url"),
    Column("name"),
    Column("mode"),
    Column("state"),
    Column("failures"),
    Column("last_error"),
    Column("created_at", INSTANT),
    Column("updated_at", INSTANT),
)

DELIVERY: RowCodec[WebhookDelivery] = RowCodec(
    WebhookDelivery,
    Column("id", INT),
    Column("webhook_id"),
    Column("position"),
    Column("event", JSON),
    Column("status"),
    Column("attempts"),
    Column("next_attempt_at", INSTANT),
    Column("last_error"),
)
