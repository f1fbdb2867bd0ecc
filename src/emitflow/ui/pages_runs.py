"""Pages: one run (its trigger, tasks, emits under the task that made them, where they went),
its live updates, and replays (one run, or a workflow's failed runs in a time range)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from emitflow.api.deps import EngineDep
from emitflow.errors import EmitflowError, NotFoundError
from emitflow.runtime.engine import Engine
from emitflow.runtime.replays import RunScan, emit_key, started_by
from emitflow.store.records import (
    TERMINAL_STATUSES,
    RunRecord,
    RunStatus,
    StoredTask,
    WebhookDelivery,
)
from emitflow.ui.pages_workflows import parse_time
from emitflow.ui.render import page
from emitflow.ui.session import Session, current_session, writer_session

__all__ = ["router"]

router = APIRouter()
Reader = Annotated[Session, Depends(current_session)]
Writer = Annotated[Session, Depends(writer_session)]
_LIVE_POLL = 0.5
_HEARTBEAT_EVERY = 20
_KEPT_BATCHES = 100
_FAULTED: tuple[RunStatus, ...] = ("faulted",)


@dataclass
class EmitView:
    """One emitted event under its task: what it was and where it went."""

    index: int
    event: Any
    channel: str
    type: str
    runs: list[RunRecord]
    deliveries: list[WebhookDelivery]


@dataclass
class TaskView:
    """One task with its emits."""

    record: StoredTask
    emits: list[EmitView]


def _not_found(request: Request, session: Session, message: str) -> Response:
    return page(request, "error.html", session, 404, title="Not found", message=message)


async def _task_views(engine: Engine, run: RunRecord, tasks: list[StoredTask]) -> list[TaskView]:
    emits = [emit for task in tasks for emit in task.emits]
    runs_by_key: dict[tuple[str, str] | None, list[RunRecord]] = {}
    deliveries_by_key: dict[tuple[str, str] | None, list[WebhookDelivery]] = {}
    if emits:
        reach = await engine.reach_of_run(run, emits)
        for started in reach.runs:
            runs_by_key.setdefault(started_by(started), []).append(started)
        for delivery in reach.deliveries:
            deliveries_by_key.setdefault(emit_key(delivery.event), []).append(delivery)
    return [
        TaskView(
            record=task,
            emits=[
                _emit_view(index, emit, runs_by_key, deliveries_by_key)
                for index, emit in enumerate(task.emits, 1)
            ],
        )
        for task in tasks
    ]


def _emit_view(
    index: int,
    emit: Any,
    runs: dict[tuple[str, str] | None, list[RunRecord]],
    deliveries: dict[tuple[str, str] | None, list[WebhookDelivery]],
) -> EmitView:
    key = emit_key(emit)
    attributes = emit if isinstance(emit, dict) else {}
    return EmitView(
        index=index,
        event=emit,
        channel=str(attributes.get("emitflowchannel") or ""),
        type=str(attributes.get("type") or ""),
        runs=runs.get(key, []) if key else [],
        deliveries=deliveries.get(key, []) if key else [],
    )


@router.get("/ui/runs/{run_id}")
async def run_page(request: Request, run_id: str, engine: EngineDep, session: Reader) -> Response:
    """A run: trigger, tasks in order with their emits, error, live while in flight."""
    try:
        run = await engine.get_run(run_id)
    except NotFoundError:
        return _not_found(request, session, f"There is no run {run_id!r}.")
    tasks = await engine.tasks(run_id)
    views = await _task_views(engine, run, tasks)
    return page(
        request,
        "run.html",
        session,
        run=run,
        tasks=views,
        live=run.status not in TERMINAL_STATUSES,
        task_count=len(tasks),
    )


async def _changes(engine: Engine, run_id: str, status: str, tasks: int) -> AsyncIterator[bytes]:
    yield b": live\n\n"
    quiet = 0
    while True:
        await asyncio.sleep(_LIVE_POLL)
        now = await engine.get_run(run_id)
        count = len(await engine.tasks(run_id))
        if now.status != status or count != tasks:
            yield f"event: changed\ndata: {now.status}\n\n".encode()
            return
        quiet += 1
        if quiet % _HEARTBEAT_EVERY == 0:
            yield b": heartbeat\n\n"


@router.get("/ui/runs/{run_id}/live")
async def run_live(
    run_id: str, engine: EngineDep, session: Reader, status: str = "", tasks: int = 0
) -> StreamingResponse:
    """Server-Sent Events: one ``changed`` message when the run moves on from what the page
    showed (its status or its number of tasks)."""
    run = await engine.get_run(run_id)
    return StreamingResponse(
        _changes(engine, run.id, status or run.status, tasks),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.post("/ui/runs/{run_id}/replay")
async def replay(run_id: str, engine: EngineDep, session: Writer) -> Response:
    """Replay a run's trigger event on the newest version of its workflow; go to the new run."""
    new = await engine.replay(run_id)
    return RedirectResponse(f"/ui/runs/{new.id}", status_code=303)


def _scan(workflow_id: str, since: str, until: str) -> RunScan:
    return RunScan(
        workflow_id=workflow_id,
        statuses=_FAULTED,
        since=parse_time(since, "since"),
        until=parse_time(until, "until"),
    )


@router.get("/ui/workflows/{workflow_id}/replay")
async def replay_confirm(
    request: Request,
    workflow_id: str,
    engine: EngineDep,
    session: Reader,
    since: str = "",
    until: str = "",
) -> Response:
    """How many failed runs a bulk replay would start, before it starts."""
    try:
        version = await engine.get_workflow(workflow_id)
        runs = await engine.scan_runs(_scan(workflow_id, since, until))
    except NotFoundError:
        return _not_found(request, session, f"There is no workflow {workflow_id!r}.")
    except EmitflowError as exc:
        return page(request, "error.html", session, 400, title="Bad range", message=str(exc))
    return page(
        request, "replay.html", session, version=version, count=len(runs), since=since, until=until
    )


@router.post("/ui/workflows/{workflow_id}/replay")
async def replay_failed(
    request: Request,
    workflow_id: str,
    engine: EngineDep,
    session: Writer,
    since: Annotated[str, Form()] = "",
    until: Annotated[str, Form()] = "",
) -> Response:
    """Replay the failed runs of a workflow in a time range; go to their progress."""
    new = await engine.replay_runs(_scan(workflow_id, since, until))
    batches: dict[str, list[str]] = request.app.state.ui_replays
    batch = secrets.token_hex(8)
    batches[batch] = [run.id for run in new]
    while len(batches) > _KEPT_BATCHES:  # the oldest progress pages go first
        del batches[next(iter(batches))]
    return RedirectResponse(f"/ui/replays/{batch}", status_code=303)


@router.get("/ui/replays/{batch}")
async def replay_progress(
    request: Request, batch: str, engine: EngineDep, session: Reader
) -> Response:
    """The runs of a bulk replay and how many have ended (refreshing until all have)."""
    batches: dict[str, list[str]] = request.app.state.ui_replays
    if batch not in batches:
        return _not_found(request, session, "This replay is not known (the server restarted?).")
    runs: list[Any] = [await engine.get_run(run_id) for run_id in batches[batch]]
    ended = sum(1 for run in runs if run.status in TERMINAL_STATUSES)
    return page(request, "progress.html", session, runs=runs, ended=ended, total=len(runs))
