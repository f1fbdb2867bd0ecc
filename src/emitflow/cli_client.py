"""The ``emitflow`` commands that talk to a server: ``deploy``, ``events tail``, and the server
side of ``events list`` and ``subscriptions …`` (``--server``/``EMITFLOW_SERVER`` with
``EMITFLOW_TOKEN``). A server's error is printed as one line naming the status and the message
(exit 1; 2 when the request itself is invalid); never a traceback.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

__all__ = ["ServerClient", "ServerOption", "deploy", "register"]

EXIT_FAILED = 1
EXIT_INVALID = 2

ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="EMITFLOW_SERVER",
        help="A server URL; without it, commands work on the local store.",
        show_default=False,
    ),
]

_MEDIA_TYPES = {
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".json": "application/json",
}


class ServerClient:
    """Requests to one server with ``EMITFLOW_TOKEN``; errors become one readable line."""

    def __init__(self, server: str) -> None:
        self.base = server.rstrip("/")
        token = os.environ.get("EMITFLOW_TOKEN", "")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer of a request, or exit with the server's message."""
        kwargs.setdefault("headers", self.headers)
        try:
            answer = httpx.request(method, self.base + path, timeout=60, **kwargs)
        except httpx.HTTPError as exc:
            raise _fail(f"{self.base}: cannot reach the server ({exc})", EXIT_FAILED) from None
        if answer.status_code >= 400:
            try:
                message = answer.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = answer.text[:200]
            code = EXIT_INVALID if answer.status_code in (400, 413, 415, 422) else EXIT_FAILED
            raise _fail(f"{self.base}: {answer.status_code}: {message}", code)
        return answer.json()


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"emitflow: {message}", err=True)
    return typer.Exit(code)


def deploy(
    file: Annotated[
        Path, typer.Argument(help="A DSL document, or a Python file with handler(pd).")
    ],
    id: Annotated[
        str | None, typer.Option("--id", envvar="EMITFLOW_ID", help="Add a version to p_….")
    ] = None,
    server: ServerOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Deploy a workflow to the server; prints its id (p_…)."""
    if not server:
        raise _fail("deploy needs a server: --server URL or EMITFLOW_SERVER", EXIT_INVALID)
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise _fail(f"{file}: cannot be read ({exc.strerror})", EXIT_INVALID) from None
    suffix = file.suffix.lower()
    params: dict[str, str] = {}
    if id:
        params["id"] = id
    if suffix == ".py":
        media = "text/x-python"
        params.setdefault("name", file.stem)
    else:
        media = _MEDIA_TYPES.get(suffix, "application/yaml")
    client = ServerClient(server)
    data = client.call(
        "POST",
        "/v1/workflows",
        params=params,
        content=content,
        headers={**client.headers, "Content-Type": media},
    )
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        version = data["data"]
        typer.echo(f"{version['id']} (revision {version['revision']}): {file}")


def remote_events(client: ServerClient, params: dict[str, Any]) -> dict[str, Any]:
    """A page of ``GET /v1/events``."""
    page: dict[str, Any] = client.call("GET", "/v1/events", params=params)
    return page


def show_remote_events(page: dict[str, Any], *, title: str | None = None) -> None:
    """A page of stored events (as ``GET /v1/events`` gives it) as a table."""
    table = Table(title=title or f"events ({page['page_info']['count']})", expand=False)
    for column in ("position", "emitter", "channel", "type", "source", "id", "data"):
        table.add_column(column, overflow="fold")
    for item in page["data"]:
        event = item["event"]
        data = json.dumps(event.get("data"), ensure_ascii=False)
        table.add_row(
            item["id"],
            item["emitter_id"],
            item["event_name"] or "(default)",
            str(event.get("type", "")),
            str(event.get("source", "")),
            str(event.get("id", "")),
            data if len(data) <= 60 else data[:57] + "...",
        )
    console = Console()
    console.print(table)
    if page["page_info"].get("has_more") and page["page_info"].get("end_cursor"):
        console.print(f"more: --before {page['page_info']['end_cursor']}")


def tail(
    emitter: Annotated[str | None, typer.Option("--emitter", help="Only this emitter.")] = None,
    event_name: Annotated[
        str | None, typer.Option("--event-name", help="Only this channel.")
    ] = None,
    after: Annotated[
        str | None, typer.Option("--after", help="Replay after this position.")
    ] = None,
    server: ServerOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Follow the server's events as they are stored (Ctrl-C stops)."""
    if not server:
        raise _fail("events tail needs a server: --server URL or EMITFLOW_SERVER", EXIT_INVALID)
    client = ServerClient(server)
    params = {k: v for k, v in {"emitter_id": emitter, "event_name": event_name}.items() if v}
    headers = {**client.headers, **({"Last-Event-ID": after} if after else {})}
    try:
        with httpx.stream(
            "GET", client.base + "/v1/events/stream", params=params, headers=headers, timeout=None
        ) as answer:
            if answer.status_code >= 400:
                answer.read()
                client.call("GET", "/v1/events/stream")  # reports the error and exits
            for line in answer.iter_lines():
                if line.startswith("data:"):
                    _print_tailed(json.loads(line[5:]), as_json)
    except KeyboardInterrupt:
        return
    except httpx.HTTPError as exc:
        raise _fail(f"{client.base}: the stream broke ({exc})", EXIT_FAILED) from None


def _print_tailed(item: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(item, ensure_ascii=False))
        return
    event = item["event"]
    data = json.dumps(event.get("data"), ensure_ascii=False)
    channel = item["event_name"] or "(default)"
    typer.echo(f"{item['id']}  {item['emitter_id']}  {channel}  {event.get('type')}  {data}")


def register(app: typer.Typer, events_app: typer.Typer) -> None:
    """Add ``deploy`` and ``events tail``."""
    app.command("deploy")(deploy)
    events_app.command("tail")(tail)
