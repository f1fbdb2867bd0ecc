"""The local store, for commands run without ``--server``: opened through the store's public
``open_store``; a store that does not exist yet is never created by reading it.

Records are printed in the REST API's JSON shapes (``tests`` check they stay the same).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from emitflow.cli.options import EXIT_FAILED, EXIT_INVALID, fail

if TYPE_CHECKING:
    from emitflow.store import (
        Page,
        RunRecord,
        Store,
        StoredEvent,
        StoredTask,
        Subscription,
        TokenRecord,
    )

__all__ = [
    "event_json",
    "page_json",
    "run_json",
    "store_url",
    "subscription_json",
    "token_json",
    "with_store",
]

T = TypeVar("T")


def store_url(option: str | None) -> str:
    """The store URL: the option, or ``sqlite:///$EMITFLOW_HOME/emitflow.db``."""
    if option:
        return option
    from emitflow.runtime import default_store_url

    return default_store_url()


def with_store(
    option: str | None,
    action: Callable[[Store], Awaitable[T]],
    *,
    create: bool = False,
    not_found: int = EXIT_INVALID,
) -> T:
    """Run ``action`` on the opened local store; exit 1 saying so when there is none (unless
    ``create``), 2 on a bad URL or argument (``not_found`` when a record is missing)."""
    from emitflow.errors import EmitflowError, NotFoundError
    from emitflow.store import open_store, store_exists

    url = store_url(option)
    try:
        exists = store_exists(url)
    except EmitflowError as exc:
        raise fail(str(exc)) from None
    if not exists and not create:
        raise fail(
            f"there is no store at {url}: nothing was deployed or served there yet; "
            "use --store (EMITFLOW_STORE) or EMITFLOW_HOME to point at one, or --server",
            EXIT_FAILED,
        )

    async def go() -> T:
        async with open_store(url) as opened:
            return await action(opened)

    try:
        return asyncio.run(go())
    except NotFoundError as exc:
        raise fail(str(exc), not_found) from None
    except EmitflowError as exc:
        raise fail(str(exc)) from None


def _time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def page_json(page: Page[T], view: Callable[[T], Mapping[str, Any]]) -> dict[str, Any]:
    """A page in the API's shape: ``page_info`` and ``data``."""
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


def event_json(stored: StoredEvent) -> dict[str, Any]:
    """A stored event as ``GET /v1/events`` lists it."""
    return {
        "id": stored.position,
        "emitter_id": stored.emitter_id,
        "event_name": stored.channel,
        "indexed_at_ms": stored.indexed_at_ms,
        "event": dict(stored.event),
    }


def subscription_json(subscription: Subscription) -> dict[str, Any]:
    """A subscription as ``GET /v1/subscriptions`` lists it."""
    return {
        "id": subscription.id,
        "emitter_id": subscription.emitter_id,
        "listener_id": subscription.listener_id,
        "event_name": subscription.event_name,
        "filters": list(subscription.filters),
        "created_at": _time(subscription.created_at),
    }


def token_json(record: TokenRecord) -> dict[str, Any]:
    """A token as ``GET /v1/tokens`` lists it (never its secret)."""
    return {
        "id": record.id,
        "name": record.name,
        "scopes": list(record.scopes),
        "workflows": list(record.resources),
        "created_at": _time(record.created_at),
        "last_used_at": _time(record.last_used_at),
    }


def _task_json(task: StoredTask) -> dict[str, Any]:
    return {
        "sequence": task.sequence,
        "reference": task.reference,
        "name": task.name,
        "status": task.status,
        "input": task.input,
        "output": task.output,
        "error": task.error,
        "started_at": _time(task.started_at),
        "ended_at": _time(task.ended_at),
        "emits": list(task.emits),
        "log": task.log,
    }


def run_json(run: RunRecord, tasks: list[StoredTask] | None = None) -> dict[str, Any]:
    """A run as ``GET /v1/runs/{id}`` shows it (with ``tasks``) or a runs page lists it."""
    view: dict[str, Any] = {
        "id": run.id,
        "workflow_id": run.workflow_id,
        "workflow_revision": run.workflow_revision,
        "status": run.status,
        "input": run.input,
        "output": run.output,
        "error": run.error,
        "trigger": run.trigger,
        "created_at": _time(run.created_at),
        "started_at": _time(run.started_at),
        "ended_at": _time(run.ended_at),
    }
    if tasks is not None:
        view["tasks"] = [_task_json(task) for task in tasks]
    return view
