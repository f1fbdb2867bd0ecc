"""Reading an operation out of a Swagger 2.0 or OpenAPI 3.x description.

The two versions differ in where the server is (``schemes``/``host``/``basePath`` against
``servers``), how the body is declared (an ``in: body`` parameter against ``requestBody``) and
where media types are listed (``consumes``/``produces`` against ``content``). This module
hides those differences behind ``Operation``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

from emitflow.errors import FaultError, Problem
from emitflow.http.operation import Operation, openapi_parameter, swagger_parameter

if TYPE_CHECKING:
    from emitflow.http.openapi import OpenApiDocument

__all__ = ["operation_from"]

_MAX_REF_DEPTH = 32
_FORM = "application/x-www-form-urlencoded"


def operation_from(
    document: OpenApiDocument,
    path: str,
    method: str,
    path_item: Mapping[str, Any],
    raw: Mapping[str, Any],
) -> Operation:
    """The ``Operation`` for ``raw``, found under ``path`` and ``method`` in ``document``."""
    refs = _Refs(document)
    merged = _merged_parameters(refs, path_item.get("parameters"), raw.get("parameters"))
    operation_id = str(raw.get("operationId"))
    common: dict[str, Any] = {"operation_id": operation_id, "method": method.upper(), "path": path}
    if str(document.data.get("swagger", "")).startswith("2."):
        return _swagger_operation(document, refs, raw, merged, common)
    return _openapi_operation(document, refs, path_item, raw, merged, common)


def _swagger_operation(
    document: OpenApiDocument,
    refs: _Refs,
    raw: Mapping[str, Any],
    merged: list[Mapping[str, Any]],
    common: dict[str, Any],
) -> Operation:
    data = document.data
    body = next((p for p in merged if p.get("in") == "body"), None)
    parameters = tuple(swagger_parameter(p) for p in merged if p.get("in") != "body")
    consumes = _strings(raw.get("consumes", data.get("consumes")))
    content_type = _pick_media(consumes) or "application/json"
    if any(p.location == "formData" for p in parameters):
        if _FORM not in consumes and consumes:
            raise refs.error(
                f"operation {common['operation_id']!r} sends {', '.join(consumes)}; only "
                f"{_FORM} form data is supported"
            )
        content_type = _FORM
    schema = refs.resolve(body.get("schema")) if body is not None else None
    return Operation(
        **common,
        base_url=_swagger_base(document, refs),
        parameters=parameters,
        body_name=str(body.get("name", "body")) if body is not None else None,
        body_required=bool(body.get("required")) if body is not None else False,
        body_properties=_properties(refs, schema),
        content_type=content_type,
        accept=_pick_media(_strings(raw.get("produces", data.get("produces")))),
    )


def _openapi_operation(
    document: OpenApiDocument,
    refs: _Refs,
    path_item: Mapping[str, Any],
    raw: Mapping[str, Any],
    merged: list[Mapping[str, Any]],
    common: dict[str, Any],
) -> Operation:
    request_body = _mapping(refs.resolve(raw.get("requestBody")))
    content = _mapping(refs.resolve(request_body.get("content"))) if request_body else None
    content_type = _pick_media([str(t) for t in content]) if content else None
    media = refs.resolve(content[content_type]) if content and content_type else None
    schema = media.get("schema") if isinstance(media, Mapping) else None
    servers = raw.get("servers") or path_item.get("servers") or document.data.get("servers")
    return Operation(
        **common,
        base_url=_openapi_base(document, refs, servers),
        parameters=tuple(openapi_parameter(p) for p in merged),
        body_name="body" if request_body else None,
        body_required=bool(request_body.get("required")) if request_body else False,
        body_properties=_properties(refs, schema),
        content_type=content_type,
        accept=_pick_media(_response_media(refs, raw.get("responses"))),
    )


def _merged_parameters(refs: _Refs, *groups: Any) -> list[Mapping[str, Any]]:
    # Operation parameters override path-level ones with the same name and location.
    merged: dict[tuple[str, str], Mapping[str, Any]] = {}
    for group in groups:
        for item in group if isinstance(group, list) else []:
            param = refs.resolve(item)
            if isinstance(param, Mapping):
                merged[(str(param.get("name")), str(param.get("in")))] = param
    return list(merged.values())


def _swagger_base(document: OpenApiDocument, refs: _Refs) -> str:
    data = document.data
    doc_url = httpx.URL(document.url) if document.url else None
    schemes = _strings(data.get("schemes")) or ([doc_url.scheme] if doc_url else ["https"])
    scheme = "https" if "https" in schemes else schemes[0]
    host = data.get("host") or (doc_url.netloc.decode("ascii") if doc_url else None)
    if not host:
        raise refs.error("names no host, and it was read from a file: add host to the document")
    return f"{scheme}://{host}{data.get('basePath') or '/'}"


def _openapi_base(document: OpenApiDocument, refs: _Refs, servers: Any) -> str:
    server = servers[0] if isinstance(servers, list) and servers else None
    server = server if isinstance(server, Mapping) else {"url": "/"}
    url = str(server.get("url", "/"))
    variables = server.get("variables")
    for name, variable in variables.items() if isinstance(variables, Mapping) else ():
        default = variable.get("default", "") if isinstance(variable, Mapping) else ""
        url = url.replace("{" + str(name) + "}", str(default))
    if httpx.URL(url).is_absolute_url:
        return url
    if document.url is None:
        raise refs.error(
            f"has the relative server URL {url!r} and was read from a file: give servers[0].url "
            "as an absolute URL"
        )
    return str(httpx.URL(document.url).join(url))


def _pick_media(types: list[str]) -> str | None:
    if not types:
        return None
    if "application/json" in types:
        return "application/json"
    return next((t for t in types if "json" in t), types[0])


def _response_media(refs: _Refs, responses: Any) -> list[str]:
    if not isinstance(responses, Mapping):
        return []
    for code, response in responses.items():
        if str(code).startswith("2") or code == "default":
            content = refs.resolve((_mapping(refs.resolve(response)) or {}).get("content"))
            if isinstance(content, Mapping) and content:
                return [str(t) for t in content]
    return []


def _properties(refs: _Refs, schema: Any) -> tuple[str, ...]:
    schema = refs.resolve(schema)
    if not isinstance(schema, Mapping):
        return ()
    names = list(schema.get("properties") or {})
    for part in schema.get("allOf") or []:
        names.extend(n for n in _properties(refs, part) if n not in names)
    return tuple(str(n) for n in names)


def _mapping(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


class _Refs:
    """Follows local ``$ref`` pointers (``#/components/…``) inside one document."""

    def __init__(self, document: OpenApiDocument) -> None:
        self.document = document

    def resolve(self, node: Any) -> Any:
        for _ in range(_MAX_REF_DEPTH):
            if not (isinstance(node, Mapping) and isinstance(node.get("$ref"), str)):
                return node
            node = self._target(node["$ref"])
        raise self.error(f"has $ref chains deeper than {_MAX_REF_DEPTH} (a cycle?)")

    def _target(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise self.error(
                f"refers to {ref!r}; only references inside the document are supported"
            )
        node: Any = self.document.data
        for token in ref[2:].split("/"):
            key = token.replace("~1", "/").replace("~0", "~")
            if isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            elif isinstance(node, Mapping) and key in node:
                node = node[key]
            else:
                raise self.error(f"refers to {ref!r}, which does not exist")
        return node

    def error(self, detail: str) -> FaultError:
        return FaultError(
            Problem.of(
                "configuration",
                title="Invalid OpenAPI Document",
                detail=f"OpenAPI document {self.document.source} {detail}",
            )
        )
