"""Route: ``/hooks/{workflow_id}``, the HTTP trigger of a workflow (any method).

The run's input is the JSON body (``{}`` when empty; the text itself when it is not JSON).
Code steps see the whole request as ``pd.steps["trigger"]["event"]``: ``method``, ``path``,
``headers`` (without ``Authorization`` and ``Cookie``), ``query`` and ``body``. The answer is
202 ``{"run_id": …}``; a workflow whose code calls ``pd.respond({...})`` (or that sets
``document.metadata.emitflow.hook.respond: true``) answers with that response instead, waiting
up to ``RESPOND_TIMEOUT`` seconds (504 past it). Hooks are public unless the document sets
``document.metadata.emitflow.hook.auth: token``; then a token with the ``hooks`` scope is needed.
A workflow that already has ``EngineSettings.hook_queue_limit`` runs waiting answers 429 with
``Retry-After``, and starts nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from emitflow.api.auth import Scope, require
from emitflow.api.bodies import JsonBodyError, parse_json
from emitflow.api.errors import error_response
from emitflow.api.openapi import body
from emitflow.errors import RequestError
from emitflow.runtime.engine import Engine
from emitflow.store.records import WorkflowVersion

__all__ = ["RESPOND_TIMEOUT", "router"]

router = APIRouter(tags=["hooks"])

RESPOND_TIMEOUT = 30.0
#: Seconds a client refused with 429 (the workflow's queue is full) is told to wait.
RETRY_AFTER = 1
_HIDDEN_HEADERS = {"authorization", "cookie", "proxy-authorization"}
_check_token = require(Scope.HOOKS)


def _hook_settings(version: WorkflowVersion) -> Mapping[str, Any]:
    definition = version.definition if isinstance(version.definition, Mapping) else {}
    document = definition.get("document")
    metadata = document.get("metadata") if isinstance(document, Mapping) else None
    emitflow = metadata.get("emitflow") if isinstance(metadata, Mapping) else None
    hook = emitflow.get("hook") if isinstance(emitflow, Mapping) else None
    return hook if isinstance(hook, Mapping) else {}


def _wants_response(version: WorkflowVersion, settings: Mapping[str, Any]) -> bool:
    return bool(settings.get("respond")) or "pd.respond(" in version.document


def _body_value(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return parse_json(body)
    except JsonBodyError as exc:
        if not exc.syntax:
            raise  # JSON the run could not hold (NaN, 1e400, too deep, a lone surrogate): 400
        return body.decode("utf-8", "replace")


def _answer(response: Any) -> Response:
    if not isinstance(response, Mapping):
        return JSONResponse(response)
    status = int(response.get("status", 200))
    headers = {str(k): str(v) for k, v in dict(response.get("headers") or {}).items()}
    body = response.get("body")
    if isinstance(body, str):
        return Response(body, status_code=status, headers=headers, media_type="text/plain")
    return JSONResponse(body, status_code=status, headers=headers)


async def hook(workflow_id: str, request: Request) -> Response:
    """Start a run of the workflow with this request as its trigger."""
    engine: Engine = request.app.state.engine
    version = await engine.get_workflow(workflow_id)
    settings = _hook_settings(version)
    if settings.get("auth") == "token":
        await _check_token(request, await _credentials(request))
    body = _body_value(await request.body())
    event = {
        "method": request.method,
        "path": request.url.path,
        "headers": {k: v for k, v in request.headers.items() if k.lower() not in _HIDDEN_HEADERS},
        "query": dict(request.query_params),
        "body": body,
    }
    trigger = {"kind": "http", "event": event, "context": {"workflow_id": workflow_id}}
    if not _wants_response(version, settings):
        run = await engine.start_hook(workflow_id, input=body, trigger=trigger)
        if run is None:
            return await _queue_full(engine, workflow_id)
        return JSONResponse({"run_id": run.id}, status_code=202)
    response: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    run = await engine.start_hook(workflow_id, input=body, trigger=trigger, response=response)
    if run is None:
        return await _queue_full(engine, workflow_id)
    ended = asyncio.ensure_future(engine.wait(run.id))
    try:
        await asyncio.wait(
            {response, ended}, timeout=RESPOND_TIMEOUT, return_when="FIRST_COMPLETED"
        )
    finally:
        ended.cancel()
    if response.done():
        return _answer(response.result())
    response.cancel()
    if ended.done() and not ended.cancelled():
        return JSONResponse({"run_id": run.id}, status_code=202)
    raise RequestError(
        504, "respond_timeout", f"run {run.id} did not call pd.respond within {RESPOND_TIMEOUT} s"
    )


async def _queue_full(engine: Engine, workflow_id: str) -> Response:
    load = await engine.load(workflow_id)
    message = (
        f"workflow {workflow_id} already has {load['waiting']} runs waiting (the limit of its "
        "hook, EngineSettings.hook_queue_limit); retry later"
    )
    headers = {"Retry-After": str(RETRY_AFTER)}
    return error_response(429, "hook_queue_full", message, load, headers)


async def _credentials(request: Request) -> HTTPAuthorizationCredentials | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)


for _method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
    router.add_api_route(
        "/hooks/{workflow_id}",
        hook,
        methods=[_method],
        response_model=None,
        status_code=202,
        operation_id=f"hook_{_method.lower()}",
        openapi_extra=body({"application/json": {}}, required=False),
    )
