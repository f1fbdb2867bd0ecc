"""``emitflow serve`` and ``emitflow tokens``: the server process and its API tokens.

``tokens create`` talks to ``EMITFLOW_SERVER`` with ``EMITFLOW_TOKEN`` when a server is given,
and otherwise writes to the local store directly (how the first tokens of a fresh install are
made). The secret is printed once.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from emitflow.clock import SystemClock
from emitflow.errors import EmitflowError
from emitflow.runtime.settings import default_store_url
from emitflow.store import open_store

__all__ = ["register"]

tokens_app = typer.Typer(name="tokens", help="API tokens.", no_args_is_help=True)

StoreOption = Annotated[
    str | None,
    typer.Option("--store", envvar="EMITFLOW_STORE", help="Store URL.", show_default=False),
]
ServerOption = Annotated[
    str | None,
    typer.Option("--server", envvar="EMITFLOW_SERVER", help="A server URL.", show_default=False),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"emitflow: {message}", err=True)
    return typer.Exit(code)


def serve_command(
    host: Annotated[str, typer.Option("--host", envvar="EMITFLOW_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", envvar="EMITFLOW_PORT", help="0: any")] = 8080,
    store: StoreOption = None,
    workflows: Annotated[
        Path | None,
        typer.Option("--workflows", envvar="EMITFLOW_WORKFLOWS", help="Deploy a folder."),
    ] = None,
    broker: Annotated[
        list[str] | None,
        typer.Option(
            "--broker",
            help="Publish every workflow's emitted events to this broker URL (repeatable; "
            "also EMITFLOW_BROKERS). ?types=GLOB,...&channel=NAME narrows it.",
        ),
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="NAME=URL: consume a broker as the source dc_NAME."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar="EMITFLOW_CONFIG",
            help="A TOML file of [[destinations]] and [[sources]] (default ./emitflow.toml "
            "when present).",
        ),
    ] = None,
) -> None:
    """Serve the REST API, run the dispatcher, schedules and code steps, until SIGTERM."""
    # The server's modules (FastAPI, uvicorn) load only for this command.
    from emitflow.api.server import ServeOptions, serve
    from emitflow.api.settings import ApiSettings
    from emitflow.brokers.config import broker_specs
    from emitflow.runtime.broker_setup import from_options, load_config

    try:
        setup = from_options(broker_specs(broker or ()), source or ())
        if config is None and Path("emitflow.toml").is_file():
            config = Path("emitflow.toml")
        if config is not None:
            setup = load_config(config).merged(setup)
    except EmitflowError as exc:
        raise _fail(str(exc)) from None
    options = ServeOptions(
        host=host,
        port=port,
        store=store,
        workflows=workflows,
        brokers=setup,
        api=ApiSettings(admin_token=os.environ.get("EMITFLOW_TOKEN") or None),
    )
    try:
        asyncio.run(serve(options))
    except EmitflowError as exc:
        raise _fail(str(exc)) from None


@tokens_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "cli",
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="admin, read, ingest or hooks (repeatable; default read)."),
    ] = None,
    server: ServerOption = None,
    store: StoreOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Make an API token and print its secret (shown once)."""
    scopes = scope or ["read"]
    try:
        if server:
            data = _create_remote(server, name, scopes)
        else:
            data = asyncio.run(_create_local(store or default_store_url(), name, scopes))
    except EmitflowError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(data))
    else:
        scopes_text = ", ".join(str(s) for s in data.get("scopes", []))
        typer.echo(f"{data['id']} ({scopes_text}): {data['token']}")


async def _create_local(url: str, name: str, scopes: list[str]) -> dict[str, Any]:
    from emitflow.api.credentials import make_token
    from emitflow.api.tokens import token_view

    async with open_store(url) as store:
        record, secret = await make_token(store, name=name, scopes=scopes, now=_now())
    return {**token_view(record), "token": secret}


def _create_remote(server: str, name: str, scopes: list[str]) -> dict[str, Any]:
    token = os.environ.get("EMITFLOW_TOKEN", "")
    try:
        answer = httpx.post(
            server.rstrip("/") + "/v1/tokens",
            json={"name": name, "scopes": scopes},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
    except httpx.HTTPError as exc:
        raise _fail(f"{server}: cannot connect ({exc.__class__.__name__})", 1) from None
    if answer.status_code >= 400:
        message = answer.json().get("error", {}).get("message", answer.text)
        raise _fail(f"{server}: {answer.status_code} {message}", 1)
    data: dict[str, Any] = answer.json()["data"]
    return data


def _now() -> datetime:
    return SystemClock().now()


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``tokens`` to the ``emitflow`` command."""
    app.command("serve")(serve_command)
    app.add_typer(tokens_app)
