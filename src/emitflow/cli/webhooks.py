"""``emitflow webhooks create|list|get|delete|enable|deliveries``: webhook listeners (``wh_…``)
on a server's ``/v1/webhooks``. Subscribe one with ``subscriptions create --listener-id wh_…``.
"""

from typing import Annotated, Any

import typer

from emitflow.cli.options import JsonOption, ServerOption, TokenOption, WideOption, print_json

__all__ = ["app"]

app = typer.Typer(name="webhooks", help="Webhook listeners on a server.", no_args_is_help=True)

WebhookId = Annotated[str, typer.Argument(help="The webhook's id (wh_…).")]


def _client(server: str | None, token: str | None, command: str) -> Any:
    from emitflow.cli.client import ServerClient, need_server

    return ServerClient(need_server(server, f"webhooks {command}"), token)


def _show(rows: list[dict[str, Any]], *, wide: bool) -> None:
    from emitflow.cli.tables import Column, show

    columns = [
        Column(title="id", kind="id"),
        Column(title="name"),
        Column(title="mode"),
        Column(title="health"),
        Column(title="url", kind="text"),
    ]
    table = [[r["id"], r["name"], r["mode"], _health(r["health"]), r["url"]] for r in rows]
    show(columns, table, wide=wide, title=f"webhooks ({len(rows)})")


def _health(health: dict[str, Any]) -> str:
    failures = health.get("consecutive_failures") or 0
    return f"{health['state']} ({failures})" if failures else str(health["state"])


@app.command("create")
def create(
    url: Annotated[str, typer.Argument(help="Where events are POSTed.")],
    name: Annotated[
        str, typer.Option("--name", envvar="EMITFLOW_WEBHOOK_NAME", help="What it is for.")
    ] = "",
    mode: Annotated[
        str,
        typer.Option("--mode", envvar="EMITFLOW_WEBHOOK_MODE", help="binary or structured."),
    ] = "binary",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Make a webhook listener; prints its id (wh_…)."""
    params = {"url": url, "name": name, "mode": mode}
    data = _client(server, token, "create").call("POST", "/v1/webhooks", params=params)["data"]
    if as_json:
        print_json({"data": data})
    else:
        _show([data], wide=wide)


@app.command("list")
def list_webhooks(
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """List webhook listeners with their health."""
    rows = _client(server, token, "list").call("GET", "/v1/webhooks")["data"]
    if as_json:
        print_json({"data": rows})
    else:
        _show(rows, wide=wide)


@app.command("delete")
def delete(
    webhook_id: WebhookId,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remove a webhook listener with its subscriptions and deliveries."""
    answer = _client(server, token, "delete").call("DELETE", f"/v1/webhooks/{webhook_id}")
    if as_json:
        print_json(answer)
    else:
        typer.echo(f"deleted {webhook_id}")


@app.command("enable")
def enable(
    webhook_id: WebhookId,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Make a disabled webhook healthy again (its dead letters stay)."""
    path = f"/v1/webhooks/{webhook_id}/enable"
    data = _client(server, token, "enable").call("POST", path)["data"]
    if as_json:
        print_json({"data": data})
    else:
        _show([data], wide=wide)


@app.command("deliveries")
def deliveries(
    webhook_id: WebhookId,
    status: Annotated[
        str | None,
        typer.Option(
            "--status", envvar="EMITFLOW_STATUS", help="pending, delivered or dead (dead letters)."
        ),
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """A webhook's deliveries, newest first."""
    from emitflow.cli.tables import Column, show

    params = {"status": status} if status else {}
    path = f"/v1/webhooks/{webhook_id}/deliveries"
    rows = _client(server, token, "deliveries").call("GET", path, params=params)["data"]
    if as_json:
        print_json({"data": rows})
        return
    columns = [
        Column(title="id"),
        Column(title="position"),
        Column(title="status"),
        Column(title="tries"),
        Column(title="last error", kind="text"),
    ]
    table = [
        [str(r["id"]), r["event_position"], r["status"], str(r["attempts"]), r["last_error"] or ""]
        for r in rows
    ]
    show(columns, table, wide=wide, title=f"deliveries of {webhook_id} ({len(rows)})")
