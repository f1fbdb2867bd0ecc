"""Routes: deploying, reading and removing workflows, and starting their runs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from emitflow.api.auth import Scope, principal_of, require
from emitflow.api.bodies import parse_json
from emitflow.api.deps import EngineDep, PageLimit
from emitflow.api.openapi import body
from emitflow.dsl import python_workflow
from emitflow.dsl.yaml import MAX_DEPTH
from emitflow.errors import RequestError
from emitflow.runtime.workflows import DeploySource
from emitflow.store.views import page_body, run_view, workflow_view

__all__ = ["router"]

router = APIRouter(tags=["workflows"])
_read = [Depends(require(Scope.READ))]
_admin = [Depends(require(Scope.ADMIN))]

_YAML_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"}
_PYTHON_TYPES = {"text/x-python", "text/x-script.python", "application/x-python"}


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _deploy_source(request: Request) -> tuple[DeploySource, str | None]:
    """The document a deploy request carries and the id it names, if any."""
    body = await request.body()
    media = _media_type(request)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RequestError(400, "bad_request", "the request body is not UTF-8 text") from exc
    if not text.strip():
        raise RequestError(400, "bad_request", "the request body is empty: send a document")
    if media in _PYTHON_TYPES:
        return python_workflow(text, name=_code_name(request)), None
    if media in _YAML_TYPES or media == "":
        return text, None
    if media == "application/json":
        value = parse_json(text, what="the JSON document", max_depth=MAX_DEPTH)
        if isinstance(value, dict) and "definition" in value:
            return _wrapped(value)
        if not isinstance(value, dict):
            raise RequestError(400, "bad_request", "a JSON workflow document is an object")
        return value, None
    raise RequestError(
        415,
        "unsupported_media_type",
        f"Content-Type {media!r} is not a workflow document: send application/yaml, "
        "application/json or text/x-python",
    )


def _code_name(request: Request) -> str:
    """The name of a Python step deployed as a workflow: ``?name=``, else from ``?id=p_<name>``."""
    name = request.query_params.get("name")
    workflow_id = request.query_params.get("id")
    if not name and workflow_id and workflow_id.startswith("p_"):
        name = workflow_id[2:]
    if not name:
        raise RequestError(
            400,
            "bad_request",
            "a Python step deployed as a workflow needs a name: add ?name=emitter (or ?id=p_…)",
        )
    return name


def _wrapped(value: dict[str, Any]) -> tuple[DeploySource, str | None]:
    definition, workflow_id = value["definition"], value.get("id")
    if workflow_id is not None and not isinstance(workflow_id, str):
        raise RequestError(400, "bad_request", "'id' must be a workflow id string like 'p_orders'")
    if isinstance(definition, str | dict):
        return definition, workflow_id
    raise RequestError(
        400, "bad_request", "'definition' must be the document (an object or YAML text)"
    )


@router.post(
    "/v1/workflows",
    status_code=201,
    dependencies=_admin,
    openapi_extra=body(
        {
            **{media: {"type": "string"} for media in sorted(_YAML_TYPES | _PYTHON_TYPES)},
            "application/json": {"type": "object"},
        }
    ),
)
async def deploy_workflow(
    request: Request,
    engine: EngineDep,
    id: Annotated[str | None, Query(description="Add a version to this workflow.")] = None,
    name: Annotated[
        str | None, Query(description="The name of a Python step deployed as a workflow.")
    ] = None,
) -> dict[str, Any]:
    """Deploy a document (YAML, JSON, ``{"definition", "id"}`` or Python code)."""
    source, named = await _deploy_source(request)
    version = await engine.deploy(source, id=id or named)
    return {"data": workflow_view(version)}


@router.get("/v1/workflows", dependencies=[Depends(require(Scope.READ, lists=True))])
async def list_workflows(request: Request, engine: EngineDep) -> dict[str, Any]:
    """The latest version of every workflow (the token's own, for a token limited to some)."""
    principal = principal_of(request)
    versions = await engine.workflows()
    return {
        "data": [
            workflow_view(version)
            for version in versions
            if principal is None or principal.reaches(version.id)
        ]
    }


@router.get("/v1/workflows/{workflow_id}", dependencies=_read)
async def get_workflow(workflow_id: str, engine: EngineDep) -> dict[str, Any]:
    """A workflow's latest version, with its document, its concurrency and queue."""
    version = await engine.get_workflow(workflow_id)
    view = workflow_view(version, document=True)
    view["concurrency"] = await engine.load(workflow_id)
    return {"data": view}


@router.delete("/v1/workflows/{workflow_id}", dependencies=_admin)
async def delete_workflow(workflow_id: str, engine: EngineDep) -> dict[str, Any]:
    """Remove a workflow, its schedules and subscriptions (runs and events stay)."""
    if not await engine.undeploy(workflow_id):
        raise RequestError(404, "not_found", f"no workflow {workflow_id!r}")
    return {"data": {"id": workflow_id, "deleted": True}}


@router.post(
    "/v1/workflows/{workflow_id}/runs",
    dependencies=_admin,
    response_model=None,
    openapi_extra=body(
        {
            "application/json": {
                "type": "object",
                "properties": {"input": {}, "context": {}},
                "additionalProperties": False,
            }
        },
        required=False,
    ),
)
async def start_run(
    workflow_id: str,
    request: Request,
    engine: EngineDep,
    wait: Annotated[bool, Query(description="Answer when the run has ended.")] = False,
) -> JSONResponse:
    """Start a run: 202 with its id, or (``?wait=true``) 200 with the ended run."""
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise RequestError(400, "bad_request", 'the body is {"input": …, "context": …}')
    unknown = sorted(set(body) - _RUN_KEYS)
    if unknown:
        raise RequestError(
            422,
            "invalid_request",
            f"unknown key(s) {', '.join(map(repr, unknown))} in the body; a run takes "
            '{"input": …, "context": …} (the workflow\'s input goes under "input")',
            {"unknown": unknown},
        )
    await engine.get_workflow(workflow_id)
    run = await engine.start(
        workflow_id, input=body.get("input"), context=body.get("context"), wait=wait
    )
    if wait:
        view = run_view(run, await engine.tasks(run.id))
        return JSONResponse({"run_id": run.id, **engine.secrets.masked(view)})
    view = engine.secrets.masked(run_view(run))
    return JSONResponse({"run_id": run.id, **view}, status_code=202)


@router.get("/v1/workflows/{workflow_id}/runs", dependencies=_read)
async def list_runs(
    workflow_id: str,
    engine: EngineDep,
    limit: PageLimit,
    before: str | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    """The workflow's runs, newest first; cursors are run ids."""
    await engine.get_workflow(workflow_id)
    page = await engine.runs(workflow_id=workflow_id, limit=limit, before=before, after=after)
    return engine.secrets.masked(page_body(page, run_view))


_RUN_KEYS = frozenset({"input", "context"})


async def _json_body(request: Request) -> Any:
    body = await request.body()
    if not body.strip():
        return {}
    return parse_json(body)
