"""What ``/openapi.json`` says beyond FastAPI's own: the error shape on every operation, and the
request bodies of routes that read their body themselves (documents, events, hooks)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

__all__ = ["ERROR_STATUSES", "body", "install_openapi"]

#: The error answers any operation may give (auth, limits, bad input, unknown ids).
ERROR_STATUSES = {
    "400": "The request is invalid; the message names the problem and its place.",
    "401": "No token, or not a valid one.",
    "403": "The token lacks the scope this route needs.",
    "404": "No such thing.",
    "413": "The body (or one event) is over the limit.",
    "415": "The body's Content-Type is not one this route reads.",
    "422": "The request or the document it carries is invalid.",
}

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        }
    },
}


def body(content: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """``openapi_extra`` declaring a request body by media type → schema."""
    return {
        "requestBody": {
            "required": required,
            "content": {media: {"schema": schema} for media, schema in content.items()},
        }
    }


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` add the error answers to every operation."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = _ERROR_SCHEMA
        reference = {"$ref": "#/components/schemas/Error"}
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                responses = operation.setdefault("responses", {})
                for status, description in ERROR_STATUSES.items():
                    responses[status] = {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
