"""``emitflow runs get|list``: runs with their tasks, from the local store or a server."""

import json
from typing import TYPE_CHECKING, Annotated, Any

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
from emitflow.cli.replay import replay

if TYPE_CHECKING:
    from emitflow.store import Store

__all__ = ["app"]

app = typer.Typer(name="runs", help="Runs and their tasks.", no_args_is_help=True)


@app.command("get")
def get(
    run_id: Annotated[str, typer.Argument(help="The run's id (r_…).")],
    store: StoreOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """A run with its tasks: status, output or error, what each task emitted and printed."""
    if server:
        from emitflow.cli.client import ServerClient

        run = ServerClient(server, token).call("GET", f"/v1/runs/{run_id}")
    else:
        from emitflow.cli.local import with_store
        from emitflow.store.views import run_view

        async def fetch(opened: "Store") -> dict[str, Any]:
            record = await opened.get_run(run_id)
            return run_view(record, await opened.list_tasks(run_id))

        run = with_store(store, fetch, not_found=EXIT_FAILED)
    if as_json:
        print_json(run)
        return
    _show_run(run, wide=wide)


def _show_run(run: dict[str, Any], *, wide: bool) -> None:
    from emitflow.cli.tables import Column, short_id, show

    ids = [run["id"], run["workflow_id"]]
    run_id, workflow_id = ids if wide else [short_id(i) for i in ids]
    revision = run["workflow_revision"]
    typer.echo(f"run {run_id} of {workflow_id} (revision {revision}): status {run['status']}")
    typer.echo(f"created {run['created_at']}  ended {run['ended_at']}")
    outcome = run["error"] if run["error"] is not None else run["output"]
    label = "error" if run["error"] is not None else "output"
    text = json.dumps(outcome, ensure_ascii=False)
    typer.echo(f"{label} {text if wide or len(text) <= 72 else text[:71] + '…'}")
    columns = [
        Column(title="#"),
        Column(title="task", kind="text"),
        Column(title="status"),
        Column(title="emits"),
        Column(title="log", kind="text"),
    ]
    rows = [
        [
            str(task["sequence"]),
            task["reference"],
            task["status"],
            str(len(task["emits"])),
            (task["log"] or "").strip().replace("\n", " | "),
        ]
        for task in run.get("tasks", [])
    ]
    show(columns, rows, wide=wide, title=f"tasks ({len(rows)})")


@app.command("list")
def list_runs(
    workflow_id: Annotated[str, typer.Argument(help="The workflow's id (p_…).")],
    limit: Annotated[
        int, typer.Option("--limit", envvar="EMITFLOW_LIMIT", min=1, max=100, help="1..100.")
    ] = 20,
    before: Annotated[
        str | None,
        typer.Option("--before", envvar="EMITFLOW_BEFORE", help="Older than this run id."),
    ] = None,
    store: StoreOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """A workflow's runs, newest first; page with --before."""
    params: dict[str, Any] = {"limit": limit, **({"before": before} if before else {})}
    if server:
        from emitflow.cli.client import ServerClient

        path = f"/v1/workflows/{workflow_id}/runs"
        page = ServerClient(server, token).call("GET", path, params=params)
    else:
        from emitflow.cli.local import with_store
        from emitflow.store.views import page_body, run_view

        async def fetch(opened: "Store") -> dict[str, Any]:
            await opened.get_workflow(workflow_id)
            found = await opened.list_runs(workflow_id=workflow_id, limit=limit, before=before)
            return page_body(found, run_view)

        page = with_store(store, fetch, not_found=EXIT_FAILED)
    if as_json:
        print_json(page)
        return
    from emitflow.cli.tables import Column, show

    columns = [
        Column(title="run", kind="id"),
        Column(title="status"),
        Column(title="created"),
        Column(title="ended"),
    ]
    rows = [
        [r["id"], r["status"], r["created_at"] or "", r["ended_at"] or ""] for r in page["data"]
    ]
    show(columns, rows, wide=wide, title=f"runs of {workflow_id} ({len(rows)})")
    info = page["page_info"]
    if info.get("has_more") and info.get("end_cursor"):
        typer.echo(f"more: --before {info['end_cursor']}")


app.command("replay")(replay)
