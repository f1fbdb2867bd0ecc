"""``emitflow subscriptions create|list|delete``: listener workflows (or webhooks) subscribed
to emitters, in the local store or on a server."""

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from emitflow.cli.options import (
    JsonOption,
    ServerOption,
    StoreOption,
    TokenOption,
    WideOption,
    fail,
    print_json,
)

if TYPE_CHECKING:
    from emitflow.store import Store

__all__ = ["app"]

app = typer.Typer(
    name="subscriptions",
    help="Subscriptions of listener workflows to emitters.",
    no_args_is_help=True,
)

EmitterId = Annotated[
    str,
    typer.Option(
        "--emitter-id", envvar="EMITFLOW_EMITTER_ID", help="p_…, dc_…, or the globs p_*/dc_*."
    ),
]
ListenerId = Annotated[
    str,
    typer.Option("--listener-id", envvar="EMITFLOW_LISTENER_ID", help="The listener: p_… or wh_…."),
]
EventName = Annotated[
    str,
    typer.Option("--event-name", envvar="EMITFLOW_EVENT_NAME", help="The channel ('' = default)."),
]


@app.command("create")
def create(
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
    token: TokenOption = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Subscribe a listener to an emitter's channel (idempotent)."""
    filters = _filters(filter or [])
    if server:
        from emitflow.cli.client import ServerClient

        triple = {"emitter_id": emitter_id, "listener_id": listener_id, "event_name": event_name}
        body = {"filters": filters} if filters else None
        answer = ServerClient(server, token).call(
            "POST", "/v1/subscriptions", params=triple, json=body
        )
        rows = [answer["data"]]
    else:
        from emitflow.cli.local import with_store
        from emitflow.store.views import subscription_view

        async def create(opened: "Store") -> dict[str, Any]:
            from emitflow.runtime import Subscriptions

            made = await Subscriptions(opened).create(emitter_id, listener_id, event_name, filters)
            return subscription_view(made)

        rows = [with_store(store, create)]
    _show(rows, as_json=as_json, wide=wide, single=True)


@app.command("list")
def list_subscriptions(
    emitter_id: Annotated[
        str | None,
        typer.Option("--emitter-id", envvar="EMITFLOW_EMITTER_ID", help="Only this emitter."),
    ] = None,
    listener_id: Annotated[
        str | None,
        typer.Option("--listener-id", envvar="EMITFLOW_LISTENER_ID", help="Only this listener."),
    ] = None,
    store: StoreOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """List subscriptions in creation order."""
    if server:
        from emitflow.cli.client import ServerClient

        wanted = {"emitter_id": emitter_id, "listener_id": listener_id}
        params = {k: v for k, v in wanted.items() if v}
        rows = ServerClient(server, token).call("GET", "/v1/subscriptions", params=params)["data"]
    else:
        from emitflow.cli.local import with_store
        from emitflow.store.views import subscription_view

        async def fetch(opened: "Store") -> list[dict[str, Any]]:
            found = await opened.list_subscriptions(emitter_id=emitter_id, listener_id=listener_id)
            return [subscription_view(s) for s in found]

        rows = with_store(store, fetch)
    _show(rows, as_json=as_json, wide=wide, single=False)


@app.command("delete")
def delete(
    emitter_id: EmitterId,
    listener_id: ListenerId,
    event_name: EventName = "",
    store: StoreOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Unsubscribe; deleting a subscription that does not exist is not an error."""
    if server:
        deleted = _delete_remote(server, token, emitter_id, listener_id, event_name)
    else:
        from emitflow.cli.local import with_store

        async def delete(opened: "Store") -> bool:
            return await opened.delete_subscription(emitter_id, listener_id, event_name)

        deleted = with_store(store, delete)
    if as_json:
        print_json({"data": {"deleted": deleted}})
        return
    triple = f"{emitter_id} -> {listener_id} (event_name {event_name!r})"
    typer.echo(f"deleted {triple}" if deleted else f"no subscription {triple}; nothing deleted")


def _filters(texts: list[str]) -> list[Any]:
    filters: list[Any] = []
    for text in texts:
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise fail(
                f'--filter {text!r} is not JSON ({exc}); e.g. --filter \'{{"exact": '
                '{"type": "com.example.created"}}\''
            ) from None
        filters.extend(value if isinstance(value, list) else [value])
    return filters


def _delete_remote(
    server: str, token: str | None, emitter_id: str, listener_id: str, event_name: str
) -> bool:
    from emitflow.cli.client import ServerClient

    triple = {"emitter_id": emitter_id, "listener_id": listener_id, "event_name": event_name}
    client = ServerClient(server, token)
    existing = client.call("GET", "/v1/subscriptions", params={"emitter_id": emitter_id})
    if not any(
        s["listener_id"] == listener_id and s["event_name"] == event_name for s in existing["data"]
    ):
        return False
    client.call("DELETE", "/v1/subscriptions", params=triple)
    return True


def _show(rows: list[dict[str, Any]], *, as_json: bool, wide: bool, single: bool) -> None:
    if as_json:
        print_json({"data": rows[0] if single else rows})
        return
    from emitflow.cli.tables import Column, show

    columns = [
        Column(title="id", kind="id"),
        Column(title="emitter", kind="id"),
        Column(title="listener", kind="id"),
        Column(title="channel"),
        Column(title="filters", kind="text"),
    ]
    table = [
        [
            row["id"],
            row["emitter_id"],
            row["listener_id"],
            row["event_name"] or '""',
            json.dumps(row["filters"]) if row["filters"] else "",
        ]
        for row in rows
    ]
    show(columns, table, wide=wide, title=f"subscriptions ({len(rows)})")
