"""``emitflow runs replay``: a run's trigger event again, or a workflow's failed runs again.

With ``--server``/``EMITFLOW_SERVER`` it asks the server (``POST /v1/runs/{id}/replay``,
``POST /v1/workflows/{id}/replay``); otherwise it opens the local store, replays, and waits for
the new runs to end. ``--dry-run`` only counts the runs a bulk replay would start.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Annotated, Any

import typer

from emitflow.cli_client import ServerClient, ServerOption
from emitflow.errors import EmitflowError

__all__ = ["register", "runs_app"]

runs_app = typer.Typer(name="runs", help="Runs: replay them.", no_args_is_help=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"emitflow: {message}", err=True)
    return typer.Exit(code)


def _time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(f"--{name} {value!r} is not a time like 2026-12-02T10:00:00Z") from None
    if moment.tzinfo is None:
        raise _fail(f"--{name} {value!r}: give a time zone, e.g. 2026-12-02T10:00:00Z")
    return moment


@runs_app.command("replay")
def replay(
    run_id: Annotated[str | None, typer.Argument(help="The run to replay (r_…).")] = None,
    workflow: Annotated[
        str | None, typer.Option("--workflow", help="Replay this workflow's runs instead.")
    ] = None,
    status: Annotated[str, typer.Option("--status", help="Which runs (bulk).")] = "failed",
    since: Annotated[str | None, typer.Option("--since", help="RFC 3339, inclusive.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="RFC 3339, exclusive.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count them.")] = False,
    server: ServerOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Replay a run (its trigger event, on the newest workflow version), or with --workflow the
    runs of a status in a time range."""
    if (run_id is None) == (workflow is None):
        raise _fail("give a run id, or --workflow p_… for a bulk replay (not both)")
    start, end = _time(since, "since"), _time(until, "until")
    if server:
        data = _remote(ServerClient(server), run_id, workflow, status, since, until, dry_run)
    else:
        try:
            data = asyncio.run(_local(run_id, workflow, status, start, end, dry_run))
        except EmitflowError as exc:
            raise _fail(str(exc), 1) from None
    if as_json:
        typer.echo(json.dumps(data))
    elif "count" in data:
        verb = "would replay" if dry_run else "replayed"
        ids = " ".join(run["id"] for run in data.get("runs", []))
        typer.echo(f"{verb} {data['count']} run(s){': ' + ids if ids else ''}")
    else:
        typer.echo(f"{data['id']} {data['status']} (replay of {run_id})")


def _remote(
    client: ServerClient,
    run_id: str | None,
    workflow: str | None,
    status: str,
    since: str | None,
    until: str | None,
    dry_run: bool,
) -> dict[str, Any]:
    if run_id is not None:
        answer: dict[str, Any] = client.call("POST", f"/v1/runs/{run_id}/replay")["data"]
        return answer
    params = {"status": status, "dry_run": str(dry_run).lower()}
    params.update({k: v for k, v in (("since", since), ("until", until)) if v})
    bulk: dict[str, Any] = client.call("POST", f"/v1/workflows/{workflow}/replay", params=params)
    return dict(bulk["data"])


async def _local(
    run_id: str | None,
    workflow: str | None,
    status: str,
    since: datetime | None,
    until: datetime | None,
    dry_run: bool,
) -> dict[str, Any]:
    from emitflow.api.views import run_view
    from emitflow.runtime.engine import Engine
    from emitflow.runtime.replays import RunScan, run_statuses

    async with Engine.open() as engine:
        if workflow is None:
            new = await engine.replay(str(run_id))
            return run_view(await engine.wait(new.id))
        await engine.get_workflow(workflow)
        scan = RunScan(
            workflow_id=workflow, statuses=run_statuses(status), since=since, until=until
        )
        if dry_run:
            return {"count": len(await engine.scan_runs(scan)), "runs": []}
        runs = [await engine.wait(run.id) for run in await engine.replay_runs(scan)]
        return {"count": len(runs), "runs": [run_view(run) for run in runs]}


def register(app: typer.Typer) -> None:
    """Add ``emitflow runs`` to the CLI."""
    app.add_typer(runs_app)
