"""``emitflow events`` and ``emitflow subscriptions``: the event log and subscriptions of the
embedded store, read and changed directly — or of a server, with ``--server``/``EMITFLOW_SERVER``
(and ``EMITFLOW_TOKEN``).

Every option also reads ``EMITFLOW_<OPTION>``; the store defaults to
``sqlite:///$EMITFLOW_HOME/emitflow.db`` (``EMITFLOW_HOME`` defaults to ``./.emitflow``). Output
is a table, or JSON with ``--json`` (the shapes of the REST API). Errors exit 2 with a message.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from emitflow.cli_client import ServerClient, ServerOption, remote_events, show_remote_events
from emitflow.errors import EmitflowError
from emitflow.runtime.settings import default_store_url
from emitflow.store import Store, StoredEvent, Subscription, open_store
from emitflow.store.records import EventQuery, Page

__all__ = ["events_app", "subscriptions_app"]

T = TypeVar("T")
EXIT_INVALID = 2

events_app = typer.Typer(
    name="events", help="Stored events of the embedded store.", no_args_is_help=True
)
subscriptions_app = typer.Typer(
    name="subscriptions",
    help="Subscriptions of listener workflows to emitters.",
    no_args_is_help=True,
)

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="EMITFLOW_STORE",
        help="Store URL (default sqlite:///$EMITFLOW_HOME/emitflow.db).",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", envvar="EMITFLOW_JSON", help="Print JSON for scripts.")
]
EmitterId = Annotated[
    str,
    typer.Option(
        "--emitter-id", envvar="EMITFLOW_EMITTER_ID", help="p_…, dc_…, or the globs p_*/dc_*."
    ),
]
ListenerId = Annotated[
    str,
    typer.Option("--listener-id", envvar="EMITFLOW_LISTENER_ID", help="The listener workflow p_…."),
]
EventName = Annotated[
    str,
    typer.Option("--event-name", envvar="EMITFLOW_EVENT_NAME", help="The channel ('' = default)."),
]


def store_url(value: str | None) -> str:
    """The store URL: the option, or the default under ``$EMITFLOW_HOME``."""
    return value or default_store_url()


@events_app.command("list")
def list_events(
    emitter: Annotated[
        str | None,
        typer.Option("--emitter", envvar="EMITFLOW_EMITTER", help="Only this emitter's events."),
    ] = None,
    event_name: EventName = "",
    channel: Annotated[
        str | None,
        typer.Option(
            "--channel",
            envvar="EMITFLOW_CHANNEL",
            help="The channel to show ('' = default, '$errors', '*' = every channel).",
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", envvar="EMITFLOW_LIMIT", min=1, max=100, help="1..100.")
    ] = 10,
    before: Annotated[
        str | None,
        typer.Option("--before", envvar="EMITFLOW_BEFORE", help="Older than this position."),
    ] = None,
    after: Annotated[
        str | None,
        typer.Option("--after", envvar="EMITFLOW_AFTER", help="Newer than this position."),
    ] = None,
    store: StoreOption = None,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """List stored events of one channel (--channel; '*' = all), newest first; page with
    --before/--after (positions)."""
    shown = channel if channel is not None else event_name
    selected = None if shown == "*" else shown
    title = f"{emitter or 'every emitter'}, {_channel_text(shown)}"
    if server:
        params = {"emitter_id": emitter, "event_name": selected, "limit": limit}
        params.update(before=before, after=after)
        page_json = remote_events(
            ServerClient(server), {k: v for k, v in params.items() if v is not None}
        )
        if as_json:
            _print_json({"channel": shown, **page_json})
        else:
            count = page_json["page_info"]["count"]
            show_remote_events(page_json, title=f"events of {title} ({count})")
        return
    query = EventQuery(emitter_id=emitter, channel=selected)

    async def fetch(opened: Store) -> Page[StoredEvent]:
        return await opened.list_events(query, limit=limit, before=before, after=after)

    page = _with_store(store, fetch, missing=_empty_page)
    if as_json:
        _print_json({"channel": shown, **_page_json(page)})
        return
    from emitflow.api.views import page_body, stored_view

    rows = page_body(page, stored_view)
    show_remote_events(rows, title=f"events of {title} ({page.count} of {_total(page)})")


def _channel_text(channel: str) -> str:
    if channel == "*":
        return "every channel"
    return "the default channel" if channel == "" else f"channel {channel!r}"


@subscriptions_app.command("create")
def create_subscription(
    emitter_id: EmitterId,
    listener_id: ListenerId,
    event_name: EventName = "",
    filter: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            envvar="EMITFLOW_FILTER",
            help='A filter as JSON (repeatable), e.g. \'{"prefix": {"type": "com.example."}}\'.',
        ),
    ] = None,
    store: StoreOption = None,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Subscribe a listener workflow to an emitter's channel (idempotent)."""
    from emitflow.runtime.subscriptions import Subscriptions

    filters = _filters(filter or [])
    if server:
        triple = {"emitter_id": emitter_id, "listener_id": listener_id, "event_name": event_name}
        body = {"filters": filters} if filters else None
        answer = ServerClient(server).call("POST", "/v1/subscriptions", params=triple, json=body)
        _show_rows([answer["data"]], as_json, single=True)
        return

    async def create(opened: Store) -> Subscription:
        return await Subscriptions(opened).create(emitter_id, listener_id, event_name, filters)

    subscription = _with_store(store, create, missing=None)
    _show_subscriptions([subscription], as_json, single=True)


@subscriptions_app.command("list")
def list_subscriptions(
    emitter_id: Annotated[
        str | None, typer.Option("--emitter-id", envvar="EMITFLOW_EMITTER_ID")
    ] = None,
    listener_id: Annotated[
        str | None, typer.Option("--listener-id", envvar="EMITFLOW_LISTENER_ID")
    ] = None,
    store: StoreOption = None,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """List subscriptions in creation order."""
    if server:
        wanted = {"emitter_id": emitter_id, "listener_id": listener_id}
        params = {k: v for k, v in wanted.items() if v}
        answer = ServerClient(server).call("GET", "/v1/subscriptions", params=params)
        _show_rows(answer["data"], as_json, single=False)
        return

    async def fetch(opened: Store) -> list[Subscription]:
        return await opened.list_subscriptions(emitter_id=emitter_id, listener_id=listener_id)

    _show_subscriptions(_with_store(store, fetch, missing=list), as_json, single=False)


@subscriptions_app.command("delete")
def delete_subscription(
    emitter_id: EmitterId,
    listener_id: ListenerId,
    event_name: EventName = "",
    store: StoreOption = None,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Unsubscribe; deleting a subscription that does not exist is not an error."""

    async def delete(opened: Store) -> bool:
        return await opened.delete_subscription(emitter_id, listener_id, event_name)

    if server:
        deleted = _delete_remote(server, emitter_id, listener_id, event_name)
    else:
        deleted = _with_store(store, delete, missing=lambda: False)
    if as_json:
        _print_json({"data": {"deleted": deleted}})
        return
    triple = f"{emitter_id} -> {listener_id} (event_name {event_name!r})"
    typer.echo(f"deleted {triple}" if deleted else f"no subscription {triple}; nothing deleted")


# --- plumbing ------------------------------------------------------------------------------


def _fail(message: str) -> typer.Exit:
    typer.echo(f"emitflow: {message}", err=True)
    return typer.Exit(EXIT_INVALID)


def _with_store(
    url_option: str | None,
    action: Callable[[Store], Awaitable[T]],
    *,
    missing: Callable[[], T] | None,
) -> T:
    """Run ``action`` on the opened store; a store file that does not exist yet is not
    created: ``missing()`` answers instead (or, without it, an error)."""
    url = store_url(url_option)
    path = _sqlite_file(url)
    if path is not None and not path.exists():
        if missing is not None:
            return missing()
        raise _fail(
            f"there is no store at {path} ({url}): nothing was deployed there yet; "
            "use --store or EMITFLOW_HOME to point at one"
        )

    async def go() -> T:
        async with open_store(url) as opened:
            return await action(opened)

    try:
        return asyncio.run(go())
    except EmitflowError as exc:
        raise _fail(str(exc)) from None


def _sqlite_file(url: str) -> Path | None:
    if not url.lower().startswith("sqlite:"):
        return None
    from emitflow.store.sqlite import path_from_url
    from emitflow.store.sqlite_db import MEMORY

    try:
        path = path_from_url(url)
    except EmitflowError as exc:
        raise _fail(str(exc)) from None
    return None if path == MEMORY else Path(path)


def _filters(texts: list[str]) -> list[Any]:
    filters: list[Any] = []
    for text in texts:
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise _fail(
                f'--filter {text!r} is not JSON ({exc}); e.g. --filter \'{{"exact": '
                '{"type": "com.example.created"}}\''
            ) from None
        filters.extend(value if isinstance(value, list) else [value])
    return filters


def _empty_page() -> Page[StoredEvent]:
    return Page(items=(), total_count=0, start_cursor=None, end_cursor=None, has_more=False)


def _total(page: Page[Any]) -> str:
    return "?" if page.total_count is None else str(page.total_count)


def _page_json(page: Page[StoredEvent]) -> dict[str, Any]:
    from emitflow.api.views import page_body

    def view(stored: StoredEvent) -> dict[str, Any]:
        return {
            "id": stored.position,
            "indexed_at_ms": stored.indexed_at_ms,
            "event": stored.event,
            "metadata": {
                **stored.metadata,
                "emitter_id": stored.emitter_id,
                "emit_id": stored.event.get("id"),
                "name": stored.channel,
            },
        }

    return page_body(page, view)


def _delete_remote(server: str, emitter_id: str, listener_id: str, event_name: str) -> bool:
    triple = {"emitter_id": emitter_id, "listener_id": listener_id, "event_name": event_name}
    client = ServerClient(server)
    existing = client.call("GET", "/v1/subscriptions", params={"emitter_id": emitter_id})
    if not any(
        s["listener_id"] == listener_id and s["event_name"] == event_name for s in existing["data"]
    ):
        return False
    client.call("DELETE", "/v1/subscriptions", params=triple)
    return True


def _show_subscriptions(found: list[Subscription], as_json: bool, *, single: bool) -> None:
    from emitflow.api.views import subscription_view

    _show_rows([subscription_view(s) for s in found], as_json, single=single)


def _show_rows(rows: list[dict[str, Any]], as_json: bool, *, single: bool) -> None:
    if as_json:
        _print_json({"data": rows[0] if single else rows})
        return
    table = Table(title=f"subscriptions ({len(rows)})", expand=False)
    for column in ("id", "emitter_id", "listener_id", "event_name", "filters"):
        table.add_column(column, overflow="fold")
    for row in rows:
        filters = json.dumps(row["filters"]) if row["filters"] else ""
        table.add_row(
            row["id"], row["emitter_id"], row["listener_id"], row["event_name"] or '""', filters
        )
    Console().print(table)


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))
