"""``call: openapi``: load a Swagger 2.0 / OpenAPI 3.x document, find the operation, call it.

Documents come from a URL (fetched through the engine's routed client) or a local file (a
path or ``file://`` URI), in JSON or YAML, and are kept per process by source: a service's
description is read once, not on every call. References are followed inside the document
(``#/…``); references to other files are refused with a message saying so.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from emitflow.errors import FaultError, Problem
from emitflow.http.auth import Authorization
from emitflow.http.call import build_request, perform, send
from emitflow.http.description import operation_from
from emitflow.http.operation import Operation
from emitflow.http.redaction import redact_url

__all__ = ["DocumentCache", "OpenApiDocument", "call_operation", "load_document"]

_ACCEPT = "application/json, application/yaml;q=0.9, text/yaml;q=0.9, */*;q=0.5"


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenApiDocument:
    """A parsed description; ``url`` is where it came from (``None`` for a local file)."""

    source: str
    url: str | None
    data: Mapping[str, Any]

    @property
    def version(self) -> str:
        """``2.0`` for Swagger, the ``openapi`` field (``3.0.3``, ``3.1.0``) otherwise."""
        return str(self.data.get("swagger") or self.data.get("openapi"))

    def operation_ids(self) -> list[str]:
        """Every ``operationId`` in document order."""
        return [op_id for op_id, *_ in _operations(self.data)]

    def operation(self, operation_id: str) -> Operation:
        """The operation with this id; unknown ids are a configuration fault listing known ones."""
        for op_id, path, method, path_item, raw in _operations(self.data):
            if op_id == operation_id:
                return operation_from(self, path, method, path_item, raw)
        known = self.operation_ids()
        shown = ", ".join(known[:8]) + (f" (and {len(known) - 8} more)" if len(known) > 8 else "")
        raise FaultError(
            Problem.of(
                "configuration",
                title="Unknown Operation",
                detail=(
                    f"OpenAPI document {self.source} has no operation {operation_id!r}; "
                    f"known operationIds: {shown or 'none'}"
                ),
            )
        )


def _operations(data: Mapping[str, Any]) -> list[tuple[str, str, str, Mapping[str, Any], Any]]:
    found = []
    paths = data.get("paths")
    for path, item in paths.items() if isinstance(paths, Mapping) else []:
        if not isinstance(item, Mapping):
            continue
        for method, raw in item.items():
            if isinstance(raw, Mapping) and isinstance(raw.get("operationId"), str):
                found.append((raw["operationId"], str(path), str(method), item, raw))
    return found


class DocumentCache:
    """Parsed documents by source, each loaded once even under concurrent calls."""

    def __init__(self) -> None:
        self._documents: dict[str, OpenApiDocument] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(
        self, key: str, load: Callable[[], Awaitable[OpenApiDocument]]
    ) -> OpenApiDocument:
        """The cached document for ``key``, loading it with ``load`` the first time."""
        async with self._locks.setdefault(key, asyncio.Lock()):
            if key not in self._documents:
                self._documents[key] = await load()
            return self._documents[key]

    def clear(self) -> None:
        """Forget every document."""
        self._documents.clear()


#: The per-process cache ``load_document`` uses unless given another.
DOCUMENTS = DocumentCache()


async def load_document(
    client: httpx.AsyncClient,
    source: str,
    *,
    auth: Authorization | None = None,
    base_dir: Path | None = None,
    cache: DocumentCache | None = None,
) -> OpenApiDocument:
    """The document at a URL, ``file://`` URI or path (relative to ``base_dir``), cached."""
    if not isinstance(source, str) or not source.strip():
        raise _bad_document(repr(source), "the document endpoint must be a URL or a file path")
    source = source.strip()
    store = cache if cache is not None else DOCUMENTS
    if source.startswith(("http://", "https://")):
        url = str(httpx.URL(source).copy_with(fragment=None))
        return await store.get(url, lambda: _fetch(client, url, auth))
    path = _local_path(source, base_dir)
    return await store.get(str(path), lambda: _read(path))


async def call_operation(
    client: httpx.AsyncClient,
    document: OpenApiDocument,
    operation_id: str,
    *,
    parameters: Mapping[str, Any] | None = None,
    output: str = "content",
    redirect: bool = False,
    auth: Authorization | None = None,
) -> Any:
    """Call ``operation_id`` of ``document`` with ``parameters``; output as for ``perform``."""
    prepared = document.operation(operation_id).request(parameters or {})
    return await perform(
        client,
        method=prepared.method,
        uri=prepared.uri,
        headers=prepared.headers,
        query=prepared.query,
        body=prepared.body,
        output=output,
        redirect=redirect,
        auth=auth,
    )


async def _fetch(
    client: httpx.AsyncClient, url: str, auth: Authorization | None
) -> OpenApiDocument:
    request = build_request(client, method="GET", uri=url, headers={"Accept": _ACCEPT}, auth=auth)
    response = await send(client, request, redirect=True, auth=auth)
    return _parse(redact_url(url), str(response.url), response.content)


def _local_path(source: str, base_dir: Path | None) -> Path:
    if source.startswith("file:"):
        path = Path(unquote(httpx.URL(source).path))
    else:
        path = Path(source).expanduser()
    if not path.is_absolute():
        path = (base_dir or Path.cwd()) / path
    return path.resolve()


async def _read(path: Path) -> OpenApiDocument:
    try:
        content = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise _bad_document(str(path), f"cannot be read ({exc.strerror})") from exc
    return _parse(str(path), None, content)


def _parse(source: str, url: str | None, content: bytes) -> OpenApiDocument:
    text = content.decode("utf-8-sig", errors="replace")
    try:
        # JSON is YAML 1.2 too, but the JSON parser is much faster on large descriptions.
        is_json = text.lstrip().startswith("{")
        data = json.loads(text) if is_json else YAML(typ="safe").load(text)
    except (ValueError, YAMLError) as exc:
        raise _bad_document(
            source, f"is neither JSON nor YAML ({str(exc).splitlines()[0]})"
        ) from exc
    if not isinstance(data, Mapping):
        raise _bad_document(source, "is not an object")
    swagger, openapi = str(data.get("swagger", "")), str(data.get("openapi", ""))
    if not (swagger.startswith("2.") or openapi.startswith("3.")):
        raise _bad_document(
            source, "is not an OpenAPI description (needs swagger: '2.0' or openapi: '3.x')"
        )
    return OpenApiDocument(source=source, url=url, data=data)


def _bad_document(source: str, detail: str) -> FaultError:
    return FaultError(
        Problem.of(
            "configuration",
            title="Invalid OpenAPI Document",
            detail=f"OpenAPI document {source} {detail}",
        )
    )
