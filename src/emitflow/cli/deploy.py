"""``emitflow deploy``: a workflow to a server.

Without ``--id``, a workflow already deployed under the same namespace and name gets a new
version (said on stderr) — the way a redeploy is usually meant; ``--new`` deploys a new
workflow instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from emitflow.cli.options import JsonOption, ServerOption, TokenOption, fail

if TYPE_CHECKING:
    from emitflow.cli.client import ServerClient

__all__ = ["deploy"]

_MEDIA_TYPES = {
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".json": "application/json",
}


def deploy(
    file: Annotated[
        Path, typer.Argument(help="A DSL document, or a Python file with handler(pd).")
    ],
    id: Annotated[
        str | None, typer.Option("--id", envvar="EMITFLOW_ID", help="Add a version to p_….")
    ] = None,
    new: Annotated[
        bool,
        typer.Option(
            "--new",
            envvar="EMITFLOW_NEW",
            help="A new workflow even when one of the same name is deployed.",
        ),
    ] = False,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Deploy a workflow to the server; prints its id (p_…)."""
    from emitflow.cli.client import ServerClient, need_server

    client = ServerClient(need_server(server, "deploy"), token)
    if id and new:
        raise fail("--id and --new contradict each other: --id adds a version, --new makes one")
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise fail(f"{file}: cannot be read ({exc.strerror})") from None
    suffix = file.suffix.lower()
    params: dict[str, str] = {}
    if suffix == ".py":
        media = "text/x-python"
        params["name"] = file.stem
    else:
        media = _MEDIA_TYPES.get(suffix, "application/yaml")
    if not id and not new:
        id = _same_name(client, file)
    if id:
        params["id"] = id
    data = client.call(
        "POST", "/v1/workflows", params=params, content=content, headers={"Content-Type": media}
    )
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        version = data["data"]
        typer.echo(f"{version['id']} (revision {version['revision']}): {file}")


def _same_name(client: ServerClient, file: Path) -> str | None:
    """The id of the deployed workflow with the document's namespace and name, if any."""
    names = _names(file)
    if names is None:
        return None  # the server says what is wrong with it
    namespace, name = names
    listed: list[dict[str, Any]] = client.call("GET", "/v1/workflows")["data"]
    same = [w for w in listed if w["namespace"] == namespace and w["name"] == name]
    if not same:
        return None
    chosen = max(same, key=lambda w: w.get("created_at") or "")
    others = f" ({len(same) - 1} other workflow(s) have that name too)" if len(same) > 1 else ""
    typer.echo(
        f"emitflow: updating {chosen['id']}, already deployed as {namespace}/{name}{others}; "
        "--new deploys a new workflow instead",
        err=True,
    )
    return str(chosen["id"])


def _names(file: Path) -> tuple[str, str] | None:
    from emitflow.dsl import load_workflow, python_workflow
    from emitflow.errors import EmitflowError

    try:
        workflow = python_workflow(file) if file.suffix.lower() == ".py" else load_workflow(file)
    except EmitflowError:
        return None
    return workflow.document.namespace, workflow.document.name
