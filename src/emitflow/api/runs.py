"""Routes: a run with its task records (and what each task emitted)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from emitflow.api.auth import Scope, require
from emitflow.api.deps import EngineDep
from emitflow.store.views import run_view

__all__ = ["router"]

router = APIRouter(tags=["runs"])


@router.get("/v1/runs/{run_id}", dependencies=[Depends(require(Scope.READ))])
async def get_run(run_id: str, engine: EngineDep) -> dict[str, Any]:
    """A run with its tasks (each lists the events it emitted), as a top-level object."""
    run = await engine.get_run(run_id)
    # A run's records hold what its tasks computed, possibly from a secret: masked here.
    return engine.secrets.masked(run_view(run, await engine.tasks(run_id)))
