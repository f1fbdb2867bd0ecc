"""Routes: replaying a run's trigger event, and a workflow's failed runs in a time range.

A replay runs the *newest* version of the workflow with the run's input and trigger event; the
new run's trigger says ``replay_of``. ``POST /v1/workflows/{id}/replay?status=failed&since=…``
replays every matching run (``dry_run=true`` only counts them, to show before starting).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from emitflow.api.auth import Scope, require
from emitflow.api.deps import EngineDep
from emitflow.errors import EmitflowError, RequestError
from emitflow.runtime.replays import RunScan, run_statuses
from emitflow.store.views import run_view

__all__ = ["router"]

router = APIRouter(tags=["runs"], dependencies=[Depends(require(Scope.ADMIN))])

Moment = Annotated[datetime | None, Query(description="RFC 3339 with a time zone.")]


@router.post("/v1/runs/{run_id}/replay", status_code=202)
async def replay_run(run_id: str, engine: EngineDep) -> dict[str, Any]:
    """Re-run a run's trigger event on the newest version of its workflow; the new run."""
    run = await engine.replay(run_id)
    return {"data": engine.secrets.masked(run_view(run))}


@router.post("/v1/workflows/{workflow_id}/replay", status_code=202)
async def replay_runs(
    workflow_id: str,
    engine: EngineDep,
    status: Annotated[str, Query(description="Run statuses, e.g. 'failed'.")] = "failed",
    since: Moment = None,
    until: Moment = None,
    dry_run: Annotated[bool, Query(description="Only count the runs.")] = False,
) -> dict[str, Any]:
    """Replay a workflow's runs of a status created in [since, until); how many and which."""
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise RequestError(
                400, "bad_request", f"{name}: give a time zone, e.g. 2026-11-22T10:00:00Z"
            )
    await engine.get_workflow(workflow_id)
    try:
        statuses = run_statuses(status)
    except EmitflowError as exc:
        raise RequestError(400, "bad_request", f"status: {exc}") from exc
    scan = RunScan(workflow_id=workflow_id, statuses=statuses, since=since, until=until)
    if dry_run:
        return {"data": {"count": len(await engine.scan_runs(scan)), "runs": []}}
    runs = await engine.replay_runs(scan)
    return {
        "data": {
            "count": len(runs),
            "runs": [engine.secrets.masked(run_view(run)) for run in runs],
        }
    }
