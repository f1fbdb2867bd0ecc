"""What the runtime adds to events: the loop guard's hop count, and the ``$errors`` reports.

The hop count (decision 9) is the CloudEvents extension ``emitflowhops``: how many
event-started runs led to this event. A run started by hand or by a timer has 0 hops; a run
started by an event has that event's hops + 1; every event a run emits carries the run's hops.

Hops alone do not bound a cycle that fans out (4 emits per run reach 4^16 runs before the
hop limit), so every event also carries its causal chain, ``emitflowchain``: the id of the
run that began it (a run started by hand, a hook or a timer), or, for an event that came from
outside, its source and id. Runs an event starts belong to the event's chain (kept in their
``trigger`` as ``chain``), and so do the events they emit; the router counts the runs each
chain starts (``chains.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from emitflow.events.cloudevent import CloudEvent
from emitflow.ids import random_uuid
from emitflow.store.records import ERRORS_CHANNEL, NewEvent, RunRecord, StoredEvent

__all__ = [
    "CHAIN_EXTENSION",
    "CHANNEL_EXTENSION",
    "FAULT_TYPE",
    "HOPS_EXTENSION",
    "UNDELIVERED_TYPE",
    "chain_of",
    "channel_of",
    "delivery_context",
    "fault_report",
    "hops_of",
    "rfc3339",
    "run_chain",
    "stamp_hops",
    "undelivered_report",
]

HOPS_EXTENSION = "emitflowhops"
CHAIN_EXTENSION = "emitflowchain"
#: A code step's ``pd.send.emit(…, channel=…)`` names its channel in this extension
#: (``emitflow.codesteps.bridge.CHANNEL_ATTRIBUTE``); without it an event goes on ``""``.
CHANNEL_EXTENSION = "emitflowchannel"
FAULT_TYPE = "io.emitflow.run.faulted.v1"
UNDELIVERED_TYPE = "io.emitflow.event.undelivered.v1"


def rfc3339(moment: datetime) -> str:
    """``2026-01-01T00:00:00.000Z``."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def hops_of(attributes: Mapping[str, Any]) -> int:
    """The event's hop count; absent or unreadable counts as 0 (e.g. an external event)."""
    value = attributes.get(HOPS_EXTENSION)
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(0, value)
    # The HTTP binary binding carries extensions as strings.
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return 0


def chain_of(event: Mapping[str, Any]) -> str:
    """The causal chain of a stored event (its JSON form): its ``emitflowchain``, or, for an
    event that came from outside, a chain of its own named by its source and id."""
    value = event.get(CHAIN_EXTENSION)
    if isinstance(value, str) and value:
        return value
    return f"event:{event.get('source')}:{event.get('id')}"


def run_chain(run: RunRecord) -> str:
    """The causal chain of a run: its trigger's, or (started by hand, hook or timer) its own."""
    trigger = run.trigger
    chain = trigger.get("chain") if isinstance(trigger, Mapping) else None
    return chain if isinstance(chain, str) and chain else run.id


def channel_of(event: CloudEvent) -> str:
    """The channel an emitted event goes on: its ``emitflowchannel``, else the default."""
    value = event.attributes.get(CHANNEL_EXTENSION)
    return value if isinstance(value, str) else ""


def stamp_hops(event: CloudEvent, hops: int, chain: str | None = None) -> CloudEvent:
    """The event carrying ``hops`` and ``chain`` (a new value; the given one is left as it is).

    ``chain`` ``None`` leaves the event's chain as it is."""
    attributes = event.attributes
    if attributes.get(HOPS_EXTENSION) == hops and (
        chain is None or attributes.get(CHAIN_EXTENSION) == chain
    ):
        return event
    stamps: dict[str, Any] = {HOPS_EXTENSION: hops}
    if chain is not None:
        stamps[CHAIN_EXTENSION] = chain
    return event.with_attributes(stamps)


def fault_report(run: RunRecord, error: Mapping[str, Any], now: datetime) -> NewEvent:
    """The ``$errors`` event of a faulted run, in Pipedream's shape (``original_event``,
    ``original_context``, ``error``)."""
    trigger: Mapping[str, Any] = run.trigger if isinstance(run.trigger, Mapping) else {}
    found = trigger.get("context")
    context: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    data = {
        "original_event": trigger.get("event", run.input),
        "original_context": {
            **context,
            "run_id": run.id,
            "workflow_id": run.workflow_id,
            "workflow_revision": run.workflow_revision,
            "ts": rfc3339(now),
        },
        "error": dict(error),
    }
    event = _event(FAULT_TYPE, f"/emitflow/workflows/{run.workflow_id}", run.id, data, now)
    return NewEvent(
        emitter_id=run.workflow_id,
        channel=ERRORS_CHANNEL,
        event=stamp_hops(event, run.hops, run_chain(run)),
        metadata={"run_id": run.id, "emit_id": event.id},
    )


def undelivered_report(stored: StoredEvent, reason: str, detail: str, now: datetime) -> NewEvent:
    """The ``$errors`` event saying a stored event was not delivered, and why.

    It is appended to the log, never routed: delivering it could restart the loop it reports.
    """
    original = stored.event
    data = {
        "reason": reason,
        "detail": detail,
        "original_event": dict(original),
        "original_context": {
            "emitter_id": stored.emitter_id,
            "event_name": stored.channel,
            "position": stored.position,
            "emit_id": original.get("id"),
            "source": original.get("source"),
            "ts": rfc3339(now),
        },
    }
    event = _event(UNDELIVERED_TYPE, f"/emitflow/emitters/{stored.emitter_id}", None, data, now)
    return NewEvent(
        emitter_id=stored.emitter_id,
        channel=ERRORS_CHANNEL,
        event=stamp_hops(event, hops_of(original), chain_of(original)),
        metadata={"emit_id": event.id, "position": stored.position},
    )


def _event(
    type_: str, source: str, subject: str | None, data: dict[str, Any], now: datetime
) -> CloudEvent:
    attributes: dict[str, Any] = {
        "specversion": "1.0",
        "id": random_uuid(),
        "source": source,
        "type": type_,
        "time": rfc3339(now),
        "datacontenttype": "application/json",
    }
    if subject is not None:
        attributes["subject"] = subject
    return CloudEvent(attributes=attributes, data=data)


def delivery_context(stored: StoredEvent, subscription_id: str | None) -> dict[str, Any]:
    """What a listener run is told about the event that started it."""
    event = stored.event
    return {
        "emitter_id": stored.emitter_id,
        "event_name": stored.channel,
        "emit_id": event.get("id"),
        "id": event.get("id"),
        "source": event.get("source"),
        "type": event.get("type"),
        "position": stored.position,
        "indexed_at_ms": stored.indexed_at_ms,
        "subscription_id": subscription_id,
    }
