"""``emitflow destinations create|list|test|enable|delete``: webhooks and brokers as listeners.

On the local store (``--store``/``EMITFLOW_STORE``/``EMITFLOW_HOME``) or a server
(``--server`` with ``EMITFLOW_TOKEN``). Creating a broker destination connects to it first:
a wrong URL or refused credentials exit 2 with a message naming the broker.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from emitflow.cli_client import ServerClient, ServerOption
from emitflow.cli_events import StoreOption, store_url
from emitflow.store.base import Store

__all__ = ["destinations_app", "register"]

T = TypeVar("T")

destinations_app = typer.Typer(
    name="destinations",
    help="Destinations: webhooks (http/https) and brokers (nats, amqp, mqtt, redis, kafka).",
    no_args_is_help=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
IdArgument = Annotated[str, typer.Argument(help="The destination id wh_…")]


def register(app: typer.Typer) -> None:
    """Add the ``destinations`` commands to the ``emitflow`` command."""
    app.add_typer(destinations_app)


def _local(url_option: str | None, action: Callable[[Any, Store], Awaitable[T]]) -> T:
    import asyncio

    from emitflow.clock import SystemClock
    from emitflow.errors import EmitflowError
    from emitflow.runtime.webhooks import Webhooks, WebhookSettings
    from emitflow.store.factory import open_store

    async def go() -> T:
        opened: Store
        async with open_store(store_url(url_option)) as opened:
            return await action(Webhooks(opened, SystemClock(), WebhookSettings()), opened)

    try:
        return asyncio.run(go())
    except EmitflowError as exc:
        typer.echo(f"emitflow: {exc}", err=True)
        raise typer.Exit(2) from None


def _show(rows: list[dict[str, Any]], as_json: bool, *, single: bool = False) -> None:
    if as_json:
        typer.echo(json.dumps({"data": rows[0] if single else rows}, indent=2))
        return
    table = Table(title=f"destinations ({len(rows)})", expand=False)
    for column in ("id", "name", "url", "mode", "state", "last_error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        health = row["health"]
        table.add_row(
            row["id"],
            row["name"],
            row["url"],
            row["mode"],
            health["state"],
            health["last_error"] or "",
        )
    Console().print(table)


def _view(webhook: Any) -> dict[str, Any]:
    from emitflow.api.destinations import destination_view

    return destination_view(webhook)


@destinations_app.command("create")
def create(
    url: Annotated[str, typer.Argument(help="http(s)://…, nats://…, amqp://…, mqtt://…, …")],
    name: Annotated[str, typer.Option("--name")] = "",
    mode: Annotated[str, typer.Option("--mode", help="binary or structured")] = "binary",
    store: StoreOption = None,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a destination (a broker is connected once first); subscribe it to emitters
    with ``emitflow subscriptions create EMITTER wh_…``."""
    if server:
        params = {"url": url, "name": name, "mode": mode}
        answer = ServerClient(server).call("POST", "/v1/destinations", params=params)
        _show([answer["data"]], as_json, single=True)
        return
    made = _local(store, lambda hooks, _: hooks.create(url, name=name, mode=mode))
    _show([_view(made)], as_json, single=True)


@destinations_app.command("list")
def list_destinations(
    store: StoreOption = None, server: ServerOption = None, as_json: JsonOption = False
) -> None:
    """Every destination with its health."""
    if server:
        _show(ServerClient(server).call("GET", "/v1/destinations")["data"], as_json)
        return

    async def fetch(_: Any, opened: Store) -> list[Any]:
        return list(await opened.list_webhooks())

    _show([_view(w) for w in _local(store, fetch)], as_json)


@destinations_app.command("test")
def test(
    destination_id: IdArgument,
    store: StoreOption = None,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send one test event straight to the destination; exit 1 if it was not accepted."""
    if server:
        path = f"/v1/destinations/{destination_id}/test"
        error = ServerClient(server).call("POST", path)["data"]["error"]
    else:
        error = _local(store, lambda hooks, _: hooks.test(destination_id))
    if as_json:
        typer.echo(
            json.dumps({"data": {"id": destination_id, "ok": error is None, "error": error}})
        )
    else:
        typer.echo(f"{destination_id}: ok" if error is None else f"{destination_id}: {error}")
    if error is not None:
        raise typer.Exit(1)


@destinations_app.command("enable")
def enable(
    destination_id: IdArgument,
    store: StoreOption = None,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make a disabled destination healthy again."""
    if server:
        path = f"/v1/destinations/{destination_id}/enable"
        _show([ServerClient(server).call("POST", path)["data"]], as_json, single=True)
        return
    _show(
        [_view(_local(store, lambda hooks, _: hooks.enable(destination_id)))], as_json, single=True
    )


@destinations_app.command("delete")
def delete(
    destination_id: IdArgument, store: StoreOption = None, server: ServerOption = None
) -> None:
    """Remove a destination with its subscriptions and deliveries."""
    if server:
        ServerClient(server).call("DELETE", f"/v1/destinations/{destination_id}")
        deleted = True
    else:

        async def remove(_: Any, opened: Store) -> bool:
            return await opened.delete_webhook(destination_id)

        deleted = _local(store, remove)
    typer.echo(f"deleted {destination_id}" if deleted else f"no destination {destination_id}")
    if not deleted:
        raise typer.Exit(1)
