"""Custom functions a ``call`` names: ``use.functions``, a URL, or ``name:version@catalog``.

A function from a URL or a catalog is fetched with the run's HTTP client (so ``--route`` and
``EMITFLOW_ROUTES`` apply), read as a task definition, and kept for the life of the process by
its URL: the next call of the same function does not fetch it again. A catalog's ``endpoint``
may carry an authentication policy; it is applied to the fetch.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from emitflow.dsl.catalogs import DEFAULT_CATALOG, catalog_function, function_url
from emitflow.dsl.functions import parse_function
from emitflow.dsl.model import Endpoint, Task
from emitflow.errors import DocumentError, FaultError, Problem
from emitflow.runner.context import Frame

__all__ = ["forget_functions", "resolve_function"]

_MAX_CACHED = 256
_MAX_BYTES = 1024 * 1024
_CACHE: OrderedDict[str, Task] = OrderedDict()


def forget_functions() -> None:
    """Drop every fetched function (the next call fetches it again)."""
    _CACHE.clear()


async def resolve_function(call: str, data: Any, frame: Frame) -> Task:
    """The task ``call`` names; a ``configuration`` or ``communication`` fault when it cannot."""
    defined = frame.run.workflow.use.functions.get(call)
    if defined is not None:
        return defined
    url, endpoint = _location(call, frame)
    cached = _CACHE.get(url)
    if cached is not None:
        _CACHE.move_to_end(url)
        return cached
    text = await _fetch(url, endpoint, data, frame)
    try:
        task = parse_function(text, source=url, name=call)
    except DocumentError as exc:
        detail = f"the function document {url} is invalid: {exc.render()}"
        raise _fault(frame, "configuration", "Invalid Function", detail) from exc
    _CACHE[url] = task
    if len(_CACHE) > _MAX_CACHED:
        _CACHE.popitem(last=False)
    return task


def _location(call: str, frame: Frame) -> tuple[str, Endpoint | None]:
    if "://" in call:
        return call, None
    cataloged = catalog_function(call)
    if cataloged is None:
        detail = f"the function {call!r} is not defined in use.functions"
        raise _fault(frame, "configuration", "Invalid Call", detail)
    name, version, catalog = cataloged
    endpoint = frame.run.workflow.use.catalogs.get(catalog)
    if endpoint is None:
        if catalog != "default":
            detail = f"the catalog {catalog!r} is not defined in use.catalogs"
            raise _fault(frame, "configuration", "Invalid Call", detail)
        return function_url(DEFAULT_CATALOG, name, version), None
    return function_url(endpoint.uri, name, version), endpoint


async def _fetch(url: str, endpoint: Endpoint | None, data: Any, frame: Frame) -> str:
    import httpx  # here, not at the top: a run that fetches no function never imports it

    from emitflow.runner.tasks.call import authorization  # the call task's own resolver

    auth = None
    if endpoint is not None:
        auth = await authorization(endpoint.authentication, data, frame)
    headers = auth.headers() if auth is not None else {}
    try:
        response = await frame.run.client().get(
            url, headers=headers, auth=auth.httpx_auth() if auth is not None else None
        )
    except httpx.HTTPError as exc:
        detail = f"the function document {url} could not be fetched: {exc}"
        raise _fault(frame, "communication", "Function Not Available", detail) from exc
    if response.status_code != 200:
        detail = f"fetching the function document {url} answered {response.status_code}"
        raise _fault(frame, "communication", "Function Not Available", detail, response.status_code)
    if len(response.content) > _MAX_BYTES:
        detail = f"the function document {url} is over {_MAX_BYTES // 1024} KiB"
        raise _fault(frame, "configuration", "Invalid Function", detail)
    return response.text


def _fault(
    frame: Frame, kind: str, title: str, detail: str, status: int | None = None
) -> FaultError:
    return FaultError(
        Problem.of(kind, title=title, detail=detail, status=status, instance=frame.where)
    )
