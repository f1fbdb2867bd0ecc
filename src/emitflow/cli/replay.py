"""``emitflow runs replay``: a run's trigger event again, or a workflow's failed runs again.

With ``--server``/``EMITFLOW_SERVER`` it asks the server (``POST /v1/runs/{id}/replay``,
``POST /v1/workflows/{id}/replay``); otherwise it opens the local store, replays, and waits for
the new runs to end. ``--dry-run`` only counts the runs a bulk replay would start.
"""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from emitflow.cli.options import (
    EXIT_FAILED,
    JsonOption,
    ServerOption,
    StoreOption,
    TokenOption,
    fail,
    print_json,
)

if TYPE_CHECKING:
    from emitflow.cli.client import ServerClient

__all__ = ["replay"]


def _time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"--{name} {value!r} is not a time like 2026-12-02T10:00:00Z") from None
    if moment.tzinfo is None:
        raise fail(f"--{name} {value!r}: give a time zone, e.g. 2026-12-02T10:00:00Z")
    return moment


def replay(
    run_id: Annotated[str | None, typer.Argument(help="The run to replay (r_…).")] = None,
    workflow: Annotated[
        str | None,
        typer.Option(
            "--workflow", envvar="EMITFLOW_WORKFLOW", help="Replay this workflow's runs instead."
        ),
    ] = None,
    status: Annotated[
        str, typer.Option("--status", envvar="EMITFLOW_STATUS", help="Which runs (bulk).")
    ] = "failed",
    since: Annotated[
        str | None, typer.Option("--since", envvar="EMITFLOW_SINCE", help="RFC 3339, inclusive.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", envvar="EMITFLOW_UNTIL", help="RFC 3339, exclusive.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", envvar="EMITFLOW_DRY_RUN", help="Only count them.")
    ] = False,
    store: StoreOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replay a run (its trigger event, on the newest workflow version), or with --workflow the
    runs of a status in a time range."""
    import asyncio

    from emitflow.errors import EmitflowError

    if (run_id is None) == (workflow is None):
        raise fail("give a run id, or --workflow p_… for a bulk replay (not both)")
    start, end = _time(since, "since"), _time(until, "until")
    if server:
        from emitflow.cli.client import ServerClient

        client = ServerClient(server, token)
        data = _remote(client, run_id, workflow, status, since, until, dry_run)
    else:
        try:
            data = asyncio.run(_local(store, run_id, workflow, status, start, end, dry_run))
        except EmitflowError as exc:
            raise fail(str(exc), EXIT_FAILED) from None
    if as_json:
        print_json(data)
    elif "count" in data:
        verb = "would replay" if dry_run else "replayed"
        ids = " ".join(run["id"] for run in data.get("runs", []))
        typer.echo(f"{verb} {data['count']} run(s){': ' + ids if ids else ''}")
    else:
        typer.echo(f"{data['id']} {data['status']} (replay of {run_id})")


def _remote(
    client: "ServerClient",
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
    store: str | None,
    run_id: str | None,
    workflow: str | None,
    status: str,
    since: datetime | None,
    until: datetime | None,
    dry_run: bool,
) -> dict[str, Any]:
    from emitflow.runtime.engine import Engine
    from emitflow.runtime.replays import RunScan, run_statuses
    from emitflow.store.views import run_view

    async with Engine.open(store) as engine:
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
