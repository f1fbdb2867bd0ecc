"""``emitflow destinations create|list|test|enable|delete``: webhooks and brokers as listeners.

On the local store (``--store``/``EMITFLOW_STORE``/``EMITFLOW_HOME``) or a server
(``--server`` with ``--token``). Creating a broker destination connects to it first: a wrong
URL or refused credentials exit 2 with a message naming the broker. A URL carrying credentials
is stored sealed with the store's key, as the server stores it.
"""

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from emitflow.cli.options import (
    EXIT_FAILED,
    JsonOption,
    ServerOption,
    StoreOption,
    TokenOption,
    WideOption,
    print_json,
)

if TYPE_CHECKING:
    from emitflow.runtime.webhooks import Webhooks
    from emitflow.store import Store

__all__ = ["app"]

T = TypeVar("T")

app = typer.Typer(
    name="destinations",
    help="Destinations: webhooks (http/https) and brokers (nats, amqp, mqtt, redis, kafka).",
    no_args_is_help=True,
)
IdArgument = Annotated[str, typer.Argument(help="The destination id wh_…")]


def _local(
    option: str | None,
    action: "Callable[[Webhooks, Store], Awaitable[T]]",
    *,
    create: bool = False,
) -> T:
    from emitflow.cli.local import with_store
    from emitflow.clock import SystemClock
    from emitflow.runtime.webhooks import Webhooks, WebhookSettings
    from emitflow.sealing import Sealer

    async def go(opened: "Store") -> T:
        path = getattr(opened, "path", None)
        sealer = Sealer.for_store(path if isinstance(path, str) else None)
        hooks = Webhooks(opened, SystemClock(), WebhookSettings(), sealer=lambda: sealer)
        return await action(hooks, opened)

    return with_store(option, go, create=create)


def _show(rows: list[dict[str, Any]], *, as_json: bool, wide: bool, single: bool = False) -> None:
    if as_json:
        print_json({"data": rows[0] if single else rows})
        return
    from emitflow.cli.tables import Column, show

    columns = [
        Column(title="id", kind="id"),
        Column(title="name"),
        Column(title="mode"),
        Column(title="state"),
        Column(title="url", kind="text"),
        Column(title="last error", kind="text"),
    ]
    table = [
        [
            r["id"],
            r["name"],
            r["mode"],
            r["health"]["state"],
            r["url"],
            r["health"]["last_error"] or "",
        ]
        for r in rows
    ]
    show(columns, table, wide=wide, title=f"destinations ({len(rows)})")


def _view(webhook: Any) -> dict[str, Any]:
    from emitflow.api.destinations import destination_view

    return destination_view(webhook)


def _client(server: str, token: str | None) -> Any:
    from emitflow.cli.client import ServerClient

    return ServerClient(server, token)


@app.command("create")
def create(
    url: Annotated[str, typer.Argument(help="http(s)://…, nats://…, amqp://…, mqtt://…, …")],
    name: Annotated[
        str, typer.Option("--name", envvar="EMITFLOW_DESTINATION_NAME", help="What it is for.")
    ] = "",
    mode: Annotated[
        str,
        typer.Option("--mode", envvar="EMITFLOW_DESTINATION_MODE", help="binary or structured."),
    ] = "binary",
    store: StoreOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Create a destination (a broker is connected once first); subscribe it to emitters
    with ``emitflow subscriptions create --emitter-id … --listener-id wh_…``."""
    if server:
        params = {"url": url, "name": name, "mode": mode}
        answer = _client(server, token).call("POST", "/v1/destinations", params=params)
        _show([answer["data"]], as_json=as_json, wide=wide, single=True)
        return
    made = _local(store, lambda hooks, _: hooks.create(url, name=name, mode=mode), create=True)
    _show([_view(made)], as_json=as_json, wide=wide, single=True)


@app.command("list")
def list_destinations(
    store: StoreOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Every destination with its health."""
    if server:
        rows = _client(server, token).call("GET", "/v1/destinations")["data"]
        _show(rows, as_json=as_json, wide=wide)
        return

    async def fetch(hooks: "Webhooks", opened: "Store") -> list[Any]:
        return [hooks.reveal(w) for w in await opened.list_webhooks()]

    _show([_view(w) for w in _local(store, fetch)], as_json=as_json, wide=wide)


@app.command("test")
def test(
    destination_id: IdArgument,
    store: StoreOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send one test event straight to the destination; exit 1 if it was not accepted."""
    if server:
        path = f"/v1/destinations/{destination_id}/test"
        error = _client(server, token).call("POST", path)["data"]["error"]
    else:
        error = _local(store, lambda hooks, _: hooks.test(destination_id))
    if as_json:
        print_json({"data": {"id": destination_id, "ok": error is None, "error": error}})
    else:
        typer.echo(f"{destination_id}: ok" if error is None else f"{destination_id}: {error}")
    if error is not None:
        raise typer.Exit(EXIT_FAILED)


@app.command("enable")
def enable(
    destination_id: IdArgument,
    store: StoreOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Make a disabled destination healthy again."""
    if server:
        path = f"/v1/destinations/{destination_id}/enable"
        row = _client(server, token).call("POST", path)["data"]
    else:

        async def heal(hooks: "Webhooks", _: "Store") -> Any:
            return hooks.reveal(await hooks.enable(destination_id))

        row = _view(_local(store, heal))
    _show([row], as_json=as_json, wide=wide, single=True)


@app.command("delete")
def delete(
    destination_id: IdArgument,
    store: StoreOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Remove a destination with its subscriptions and deliveries."""
    if server:
        _client(server, token).call("DELETE", f"/v1/destinations/{destination_id}")
        deleted = True
    else:

        async def remove(_: "Webhooks", opened: "Store") -> bool:
            return await opened.delete_webhook(destination_id)

        deleted = _local(store, remove)
    typer.echo(f"deleted {destination_id}" if deleted else f"no destination {destination_id}")
    if not deleted:
        raise typer.Exit(EXIT_FAILED)
