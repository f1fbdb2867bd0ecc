"""Pages: the workflows (triggers, last runs, errors, deploying) and one workflow's runs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from emitflow.api.deps import EngineDep
from emitflow.dsl import python_workflow
from emitflow.errors import DocumentError, EmitflowError, NotFoundError
from emitflow.runtime.engine import Engine
from emitflow.runtime.replays import RunScan, run_statuses
from emitflow.store.records import RunRecord, RunStatus, Schedule, Subscription, WorkflowVersion
from emitflow.ui.render import page
from emitflow.ui.session import Session, current_session, writer_session

__all__ = ["parse_time", "router"]

router = APIRouter()
Reader = Annotated[Session, Depends(current_session)]
Writer = Annotated[Session, Depends(writer_session)]
_PAGE = 25
_FAULTED: tuple[RunStatus, ...] = ("faulted",)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


@dataclass
class WorkflowCard:
    """What the workflows page shows of one workflow."""

    version: WorkflowVersion
    hook_url: str
    schedules: list[Schedule]
    incoming: list[Subscription]
    outgoing: list[Subscription]
    last_runs: list[RunRecord]
    errors: str


@dataclass
class DeployForm:
    """The deploy form as sent back with its problems."""

    name: str = ""
    text: str = ""
    problems: list[tuple[int | None, str]] = field(default_factory=list)
    lines: list[tuple[int, str, bool]] = field(default_factory=list)


async def _card(engine: Engine, version: WorkflowVersion, base: str) -> WorkflowCard:
    faulted = await engine.runs(version.id, statuses=_FAULTED, limit=100)
    errors = f"{faulted.count}{'+' if faulted.has_more else ''}"
    return WorkflowCard(
        version=version,
        hook_url=f"{base}/hooks/{version.id}",
        schedules=await engine.schedules(version.id),
        incoming=await engine.subscriptions(listener_id=version.id),
        outgoing=await engine.subscriptions(emitter_id=version.id),
        last_runs=list((await engine.runs(version.id, limit=5)).items),
        errors=errors,
    )


async def _workflows_page(
    request: Request, engine: Engine, session: Session, form: DeployForm, status: int = 200
) -> Response:
    base = str(request.base_url).rstrip("/")
    cards = [await _card(engine, version, base) for version in await engine.workflows()]
    return page(request, "workflows.html", session, status, cards=cards, form=form)


@router.get("/ui")
async def workflows(request: Request, engine: EngineDep, session: Reader) -> Response:
    """Every workflow with its triggers, last runs and error count; the deploy form."""
    return await _workflows_page(request, engine, session, DeployForm())


@router.post("/ui/workflows")
async def deploy(
    request: Request,
    engine: EngineDep,
    session: Writer,
    name: Annotated[str, Form(max_length=64)] = "",
    text: Annotated[str, Form(max_length=2_000_000)] = "",
    upload: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Deploy pasted or uploaded YAML or Python; problems are shown at their line."""
    form = DeployForm(name=name.strip(), text=text)
    filename = ""
    if upload is not None and upload.filename:
        filename = upload.filename
        form.text = (await upload.read()).decode("utf-8-sig", "replace")
    if not form.text.strip():
        form.problems.append((None, "Paste a YAML or Python workflow, or choose a file."))
        return await _workflows_page(request, engine, session, form, 400)
    try:
        version = await engine.deploy(_source(form, filename))
    except DocumentError as exc:
        form.problems = [(loc.line, f"{loc.pointer or '/'}: {msg}") for loc, msg in exc.problems]
    except EmitflowError as exc:
        form.problems = [(None, str(exc))]
    else:
        return RedirectResponse(f"/ui/workflows/{version.id}", status_code=303)
    bad = {line for line, _ in form.problems if line is not None}
    form.lines = [(n, line, n in bad) for n, line in enumerate(form.text.splitlines(), 1)]
    return await _workflows_page(request, engine, session, form, 400)


def _source(form: DeployForm, filename: str) -> Any:
    python = filename.endswith(".py") or (
        not filename and re.search(r"^\s*def handler\(", form.text, re.M) is not None
    )
    if not python:
        return form.text
    name = form.name or (filename[:-3] if filename else "")
    if not name or not _NAME.match(name):
        raise EmitflowError(
            "A Python step needs a name (letters, digits, '_' or '-'), e.g. 'emitter'."
        )
    return python_workflow(form.text, name=name)


def parse_time(value: str | None, what: str) -> datetime | None:
    """A time from a form field (``datetime-local`` or RFC 3339; UTC when no zone)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise EmitflowError(f"{what}={value!r} is not a time like 2026-12-02T10:00") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


@router.get("/ui/workflows/{workflow_id}")
async def workflow_runs(
    request: Request,
    workflow_id: str,
    engine: EngineDep,
    session: Reader,
    status: str = "",
    since: str = "",
    until: str = "",
    before: str | None = None,
    after: str | None = None,
) -> Response:
    """A workflow's runs, newest first, filtered by status and time, keyset paged."""
    try:
        version = await engine.get_workflow(workflow_id)
    except NotFoundError:
        return _missing(request, session, f"There is no workflow {workflow_id!r}.")
    problem = None
    runs: list[RunRecord] = []
    has_more = False
    try:
        statuses = run_statuses(status)
        start, end = parse_time(since, "since"), parse_time(until, "until")
        if start is None and end is None:
            found = await engine.runs(
                workflow_id, statuses=statuses, limit=_PAGE, before=before, after=after
            )
            runs, has_more = list(found.items), found.has_more
        else:
            scan = RunScan(
                workflow_id=workflow_id, statuses=statuses, since=start, until=end, most=_PAGE + 1
            )
            runs = await engine.scan_runs(scan)
            has_more, runs = len(runs) > _PAGE, runs[:_PAGE]
    except EmitflowError as exc:
        problem = str(exc)
    filters = {"status": status, "since": since, "until": until}
    return page(
        request,
        "workflow.html",
        session,
        version=version,
        runs=runs,
        has_more=has_more,
        filters=filters,
        problem=problem,
        paged=before is not None or after is not None,
    )


def _missing(request: Request, session: Session, message: str) -> Response:
    return page(request, "error.html", session, 404, title="Not found", message=message)


@router.post("/ui/workflows/{workflow_id}/run")
async def run_now(
    request: Request,
    workflow_id: str,
    engine: EngineDep,
    session: Writer,
    input: Annotated[str, Form(max_length=200_000)] = "",
) -> Response:
    """Start a run with a JSON input (a hook call without curl); go to the run."""
    try:
        value = json.loads(input) if input.strip() else {}
    except ValueError as exc:
        message = f"The input is not JSON: {exc}"
        return page(request, "error.html", session, 400, title="Bad input", message=message)
    try:
        run = await engine.start(
            workflow_id, input=value, wait=False, trigger={"kind": "inspector", "event": value}
        )
    except NotFoundError:
        return _missing(request, session, f"There is no workflow {workflow_id!r}.")
    return RedirectResponse(f"/ui/runs/{run.id}", status_code=303)
