"""``emitflow deploy``: a workflow to a server.

Without ``--id``, the server adds a version to the workflow already deployed under the same
namespace and name, if there is one; the command says so on stderr. ``--new`` deploys a new
workflow instead (under a fresh id).
"""

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
    existing: set[str] = set()
    if new:
        import secrets

        id = "p_" + secrets.token_hex(9)  # the server adds to a same-name workflow otherwise
    elif not id:
        existing = _same_name(client, file)
    if id:
        params["id"] = id
    data = client.call(
        "POST", "/v1/workflows", params=params, content=content, headers={"Content-Type": media}
    )
    version = data["data"]
    if version["id"] in existing:
        typer.echo(
            f"emitflow: updated {version['id']}, already deployed as "
            f"{version['namespace']}/{version['name']}; --new deploys a new workflow instead",
            err=True,
        )
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        typer.echo(f"{version['id']} (revision {version['revision']}): {file}")


def _same_name(client: "ServerClient", file: Path) -> set[str]:
    """The ids of deployed workflows with the document's namespace and name."""
    names = _names(file)
    if names is None:
        return set()  # the server says what is wrong with it
    listed: list[dict[str, Any]] = client.call("GET", "/v1/workflows")["data"]
    return {str(w["id"]) for w in listed if (w["namespace"], w["name"]) == names}


def _names(file: Path) -> tuple[str, str] | None:
    from emitflow.dsl import load_workflow, python_workflow
    from emitflow.errors import EmitflowError

    try:
        workflow = python_workflow(file) if file.suffix.lower() == ".py" else load_workflow(file)
    except EmitflowError:
        return None
    return workflow.document.namespace, workflow.document.name
