"""``emitflow tokens create|list|revoke``: API tokens, on a server (``--server`` with an admin
``--token``) or in the local store directly (how the first tokens of a fresh install are made).
A token's secret is printed once, when it is made."""

from typing import TYPE_CHECKING, Annotated, Any

import typer

from emitflow.cli.options import (
    JsonOption,
    ServerOption,
    StoreOption,
    TokenOption,
    WideOption,
    print_json,
)

if TYPE_CHECKING:
    from emitflow.store import Store

__all__ = ["app"]

app = typer.Typer(name="tokens", help="API tokens.", no_args_is_help=True)

TokenId = Annotated[str, typer.Argument(help="The token's id (tok_…), not its secret.")]


@app.command("create")
def create(
    name: Annotated[
        str, typer.Option("--name", envvar="EMITFLOW_TOKEN_NAME", help="What the token is for.")
    ] = "cli",
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            envvar="EMITFLOW_SCOPE",
            help="admin, read, ingest or hooks (repeatable; default read).",
        ),
    ] = None,
    workflow: Annotated[
        list[str] | None,
        typer.Option(
            "--workflow",
            envvar="EMITFLOW_TOKEN_WORKFLOW",
            help="Limit a read or hooks token to this workflow (repeatable).",
        ),
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make an API token and print its secret (shown once)."""
    scopes = scope or ["read"]
    workflows = workflow or []
    if server:
        from emitflow.cli.client import ServerClient

        body = {"name": name, "scopes": scopes, "workflows": workflows}
        data = ServerClient(server, token).call("POST", "/v1/tokens", json=body)["data"]
    else:
        from emitflow.cli.local import with_store
        from emitflow.store.views import token_view

        async def make(opened: "Store") -> dict[str, Any]:
            from emitflow.api.credentials import make_token
            from emitflow.clock import SystemClock

            now = SystemClock().now()
            record, secret = await make_token(
                opened, name=name, scopes=scopes, now=now, workflows=workflows
            )
            return {**token_view(record), "token": secret}

        data = with_store(store, make, create=True)  # a fresh install's first token
    if as_json:
        print_json({"data": data})
    else:
        scopes_text = ", ".join(str(s) for s in data.get("scopes", []))
        typer.echo(f"{data['id']} ({scopes_text}): {data['token']}")


@app.command("list")
def list_tokens(
    server: ServerOption = None,
    token: TokenOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """List tokens, oldest first (never their secrets)."""
    if server:
        from emitflow.cli.client import ServerClient

        rows = ServerClient(server, token).call("GET", "/v1/tokens")["data"]
    else:
        from emitflow.cli.local import with_store
        from emitflow.store.views import token_view

        async def fetch(opened: "Store") -> list[dict[str, Any]]:
            return [token_view(record) for record in await opened.list_tokens()]

        rows = with_store(store, fetch)
    if as_json:
        print_json({"data": rows})
        return
    from emitflow.cli.tables import Column, show

    columns = [
        Column(title="id", kind="id"),
        Column(title="name", kind="text"),
        Column(title="scopes"),
        Column(title="workflows", kind="text"),
        Column(title="created"),
        Column(title="last used"),
    ]
    table = [
        [
            r["id"],
            r["name"],
            ",".join(r["scopes"]),
            ",".join(r.get("workflows") or []) or "all",
            r["created_at"] or "",
            r.get("last_used_at") or "",
        ]
        for r in rows
    ]
    show(columns, table, wide=wide, title=f"tokens ({len(rows)})")


@app.command("revoke")
def revoke(
    token_id: TokenId,
    server: ServerOption = None,
    token: TokenOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a token: requests with its secret are refused from now on."""
    if server:
        from emitflow.cli.client import ServerClient

        ServerClient(server, token).call("DELETE", f"/v1/tokens/{token_id}")
    else:
        from emitflow.cli.local import with_store
        from emitflow.cli.options import EXIT_FAILED, fail

        async def delete(opened: "Store") -> bool:
            return await opened.delete_token(token_id)

        if not with_store(store, delete):
            raise fail(f"no token {token_id!r}; `emitflow tokens list` shows them", EXIT_FAILED)
    if as_json:
        print_json({"data": {"id": token_id, "deleted": True}})
    else:
        typer.echo(f"revoked {token_id}")
