"""Pages: subscriptions — made by picking an emitter and channel the log has seen and a
listener (with a filter checked as you type, as the API checks it), removed, and drawn."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from markupsafe import Markup

from emitflow.api.deps import EngineDep
from emitflow.errors import EmitflowError
from emitflow.events.filters import compile_filters
from emitflow.runtime.engine import Engine
from emitflow.ui.graph import draw
from emitflow.ui.render import page
from emitflow.ui.session import Session, current_session, writer_session

__all__ = ["check_filter", "router"]

router = APIRouter()
Reader = Annotated[Session, Depends(current_session)]
Writer = Annotated[Session, Depends(writer_session)]


def check_filter(text: str) -> tuple[list[Any] | None, str | None]:
    """The filters of the form's JSON text and the problem with them, if any (the API's
    validation: a JSON list of CloudEvents Subscriptions API filters)."""
    if not text.strip():
        return None, None
    try:
        value = json.loads(text)
    except ValueError as exc:
        return None, f"not JSON: {exc}"
    if isinstance(value, dict):
        value = [value]
    try:
        compile_filters(value)
    except EmitflowError as exc:
        return None, str(exc)
    return value, None


async def _page(
    request: Request, engine: Engine, session: Session, problem: str | None = None, **form: str
) -> Response:
    subscriptions = await engine.subscriptions()
    listeners = [w.id for w in await engine.workflows()]
    listeners += [w.id for w in await engine.webhooks()]
    seen = await engine.channels_seen()
    graph = draw(subscriptions)
    return page(
        request,
        "subscriptions.html",
        session,
        400 if problem else 200,
        subscriptions=subscriptions,
        seen=seen,
        emitters=sorted({emitter for emitter, _ in seen}),
        channels=sorted({channel for _, channel in seen}),
        listeners=listeners,
        graph=Markup(graph.svg),  # built from escaped parts in graph.py
        problem=problem,
        form=form,
    )


@router.get("/ui/subscriptions")
async def subscriptions(request: Request, engine: EngineDep, session: Reader) -> Response:
    """Every subscription, the form to make one, and the graph."""
    return await _page(request, engine, session)


@router.post("/ui/subscriptions")
async def create(
    request: Request,
    engine: EngineDep,
    session: Writer,
    emitter_id: Annotated[str, Form(min_length=1, max_length=200)],
    listener_id: Annotated[str, Form(min_length=1, max_length=200)],
    event_name: Annotated[str, Form(max_length=200)] = "",
    filter: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """Subscribe a listener to an emitter's channel."""
    form = {"emitter_id": emitter_id, "listener_id": listener_id, "event_name": event_name}
    filters, problem = check_filter(filter)
    if problem is None:
        try:
            await engine.subscribe(
                emitter_id=emitter_id,
                listener_id=listener_id,
                event_name=event_name,
                filters=filters,
            )
        except EmitflowError as exc:
            problem = str(exc)
    if problem is not None:
        return await _page(request, engine, session, problem, filter=filter, **form)
    return RedirectResponse("/ui/subscriptions", status_code=303)


@router.post("/ui/subscriptions/delete")
async def delete(
    engine: EngineDep,
    session: Writer,
    emitter_id: Annotated[str, Form(min_length=1)],
    listener_id: Annotated[str, Form(min_length=1)],
    event_name: Annotated[str, Form()] = "",
) -> Response:
    """Unsubscribe."""
    await engine.unsubscribe(emitter_id=emitter_id, listener_id=listener_id, event_name=event_name)
    return RedirectResponse("/ui/subscriptions", status_code=303)


@router.post("/ui/subscriptions/check")
async def check(session: Writer, filter: Annotated[str, Form(max_length=20_000)] = "") -> Response:
    """Check a filter as it is typed: ``{"ok": true}`` or ``{"ok": false, "problem": …}``."""
    _, problem = check_filter(filter)
    return JSONResponse({"ok": problem is None, "problem": problem})
