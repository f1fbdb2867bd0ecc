"""How stored records look in the REST API's answers and the CLI's JSON: plain JSON, times as
RFC 3339 strings. Light on purpose (records only), so the CLI prints the same shapes without
loading the API."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from emitflow.events.reading import read_event
from emitflow.store.records import (
    Page,
    RunRecord,
    StoredEvent,
    StoredTask,
    Subscription,
    TokenRecord,
    WorkflowVersion,
)

__all__ = [
    "PREVIEW_BYTES",
    "event_summary",
    "page_body",
    "run_view",
    "stored_view",
    "subscription_view",
    "task_view",
    "time_text",
    "token_view",
    "workflow_view",
]

#: Without ``expand=event``, a summary's payload longer than this (as JSON) is cut.
PREVIEW_BYTES = 1024

T = TypeVar("T")


def time_text(moment: datetime | None) -> str | None:
    """RFC 3339 with milliseconds and ``Z``, or None."""
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def workflow_view(version: WorkflowVersion, *, document: bool = False) -> dict[str, Any]:
    """A workflow version; with ``document``, its text too."""
    view: dict[str, Any] = {
        "id": version.id,
        "revision": version.revision,
        "namespace": version.namespace,
        "name": version.name,
        "version": version.version,
        "created_at": time_text(version.created_at),
        "hook_url": f"/hooks/{version.id}",
    }
    if document:
        view["media_type"] = version.media_type
        view["document"] = version.document
    return view


def task_view(task: StoredTask) -> dict[str, Any]:
    """One task record as ``GET /v1/runs/{id}`` lists it."""
    return {
        "sequence": task.sequence,
        "reference": task.reference,
        "name": task.name,
        "status": task.status,
        "input": task.input,
        "output": task.output,
        "error": task.error,
        "started_at": time_text(task.started_at),
        "ended_at": time_text(task.ended_at),
        "emits": list(task.emits),
        "log": task.log,
    }


def run_view(run: RunRecord, tasks: Iterable[StoredTask] | None = None) -> dict[str, Any]:
    """A run; with ``tasks``, its task records in order."""
    view: dict[str, Any] = {
        "id": run.id,
        "workflow_id": run.workflow_id,
        "workflow_revision": run.workflow_revision,
        "status": run.status,
        "input": run.input,
        "output": run.output,
        "error": run.error,
        "trigger": run.trigger,
        "created_at": time_text(run.created_at),
        "started_at": time_text(run.started_at),
        "ended_at": time_text(run.ended_at),
    }
    if tasks is not None:
        view["tasks"] = [task_view(task) for task in tasks]
    return view


def subscription_view(subscription: Subscription) -> dict[str, Any]:
    """A subscription in Pipedream's shape (plus its filters and creation time)."""
    return {
        "id": subscription.id,
        "emitter_id": subscription.emitter_id,
        "listener_id": subscription.listener_id,
        "event_name": subscription.event_name,
        "filters": list(subscription.filters),
        "created_at": time_text(subscription.created_at),
    }


def event_summary(stored: StoredEvent, *, expand: bool) -> dict[str, Any]:
    """An ``event_summaries`` item: the emitted payload (the CloudEvent's ``data``), cut to a
    1 KiB JSON preview string unless ``expand``, and where it came from."""
    payload = read_event(stored.event, "data")  # binary data: its base64 text
    metadata: dict[str, Any] = {
        "emitter_id": stored.emitter_id,
        "emit_id": stored.event.get("id"),
        "name": stored.channel,
        "type": stored.event.get("type"),
        "source": stored.event.get("source"),
        **{k: v for k, v in stored.metadata.items() if k not in {"emit_id"}},
    }
    if "data_base64" in stored.event:
        metadata["encoding"] = "base64"
    if not expand:
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        if len(text.encode()) > PREVIEW_BYTES:
            payload = text.encode()[:PREVIEW_BYTES].decode("utf-8", "ignore")
            metadata["truncated"] = True
    return {
        "id": stored.position,
        "indexed_at_ms": stored.indexed_at_ms,
        "event": payload,
        "metadata": metadata,
    }


def page_body(page: Page[T], view: Callable[[T], Mapping[str, Any]]) -> dict[str, Any]:
    """A page in Pipedream's shape: ``page_info`` and ``data``."""
    return {
        "page_info": {
            "total_count": page.total_count,
            "count": page.count,
            "start_cursor": page.start_cursor,
            "end_cursor": page.end_cursor,
            "has_more": page.has_more,
        },
        "data": [dict(view(item)) for item in page.items],
    }


def stored_view(stored: StoredEvent) -> dict[str, Any]:
    """A stored event as ``GET /v1/events`` lists it: the whole CloudEvent and its place."""
    return {
        "id": stored.position,
        "emitter_id": stored.emitter_id,
        "event_name": stored.channel,
        "indexed_at_ms": stored.indexed_at_ms,
        "event": dict(stored.event),
    }


def token_view(record: TokenRecord) -> dict[str, Any]:
    """A token without its secret."""
    return {
        "id": record.id,
        "name": record.name,
        "scopes": list(record.scopes),
        "workflows": list(record.resources),
        "created_at": time_text(record.created_at),
        "last_used_at": time_text(record.last_used_at),
    }
