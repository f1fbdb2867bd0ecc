"""The API's one error shape, ``{"error": {"code", "message", "details"}}``, for every failure.

Library errors map to statuses here, once: a missing thing is 404, an invalid document 422, a
bad event, filter or argument 400, a refused request its own status, a store that cannot serve
now (disk full, read-only, I/O error, locked) 503 with ``Retry-After`` and the store's path and
cause. Anything unexpected is a
500 whose answer names a request id and nothing else; the traceback goes to the server log. A
client that goes away before its request's body arrived is an info line, not an error: there
is nobody left to answer, and nothing was accepted.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Route

from emitflow.errors import (
    CesqlError,
    ConfigurationError,
    DocumentError,
    EmitflowError,
    EventError,
    ExpressionError,
    NotFoundError,
    RequestError,
    StoreUnavailableError,
)

__all__ = ["CLIENT_CLOSED", "RETRY_AFTER_SECONDS", "error_response", "install_error_handlers"]

logger = logging.getLogger(__name__)

_CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    503: "unavailable",
}

#: The status logged for a request whose client went away before it was read (as nginx does).
CLIENT_CLOSED = 499
#: How long a client should wait before trying again when the store cannot serve (seconds).
RETRY_AFTER_SECONDS = 30
_STATUS_HEADERS: dict[int, Mapping[str, str]] = {
    401: {"WWW-Authenticate": "Bearer"},
    503: {"Retry-After": str(RETRY_AFTER_SECONDS)},
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A JSON error answer in the API's shape."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _library_error(exc: EmitflowError) -> tuple[int, str, Any]:
    if isinstance(exc, RequestError):
        return exc.status, exc.code, exc.details
    if isinstance(exc, StoreUnavailableError):
        return 503, "store_unavailable", {"store": exc.path, "cause": exc.cause}
    if isinstance(exc, NotFoundError):
        return 404, "not_found", None
    if isinstance(exc, DocumentError):
        details = [{"path": str(where), "message": what} for where, what in exc.problems]
        return 422, "invalid_document", details
    if isinstance(exc, EventError):
        return 400, "invalid_event", None
    if isinstance(exc, CesqlError | ExpressionError | ConfigurationError):
        return 400, "bad_request", None
    return 500, "internal", None


async def _on_library_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, EmitflowError):
        return await _on_unexpected(request, exc)
    status, code, details = _library_error(exc)
    if status >= 500 and status != 503:
        return await _on_unexpected(request, exc)
    message = exc.message if isinstance(exc, RequestError) else str(exc)
    headers = _STATUS_HEADERS.get(status)
    if status == 503:
        logger.warning("store unavailable", extra={"path": request.url.path, "cause": message})
    return error_response(status, code, message, details, headers)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):
        return await _on_unexpected(request, exc)
    code = _CODES_BY_STATUS.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette names the methods of the first route matching the path only; a path served
        # by several routes (one per method) supports all of theirs (RFC 9110: 405 has Allow).
        allowed = _allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)
        message = f"{request.method} is not allowed here; use {', '.join(allowed)}"
    return error_response(exc.status_code, code, message, headers=headers or None)


def _allowed_methods(request: Request) -> list[str]:
    path = request.url.path
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(path):
            methods |= route.methods
    return sorted(methods)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):
        return await _on_unexpected(request, exc)
    # Only where and what: the offending input itself may hold a secret.
    details = [
        {"path": ".".join(str(part) for part in error.get("loc", ())), "message": error["msg"]}
        for error in exc.errors()
    ]
    first = details[0] if details else {"path": "", "message": "invalid request"}
    message = f"{first['path']}: {first['message']}" if first["path"] else first["message"]
    return error_response(422, "invalid_request", message, details)


def _unavailable_cause(exc: BaseException) -> StoreUnavailableError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, StoreUnavailableError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # A store that cannot serve, wrapped by whatever it failed under, is still a 503.
    unavailable = _unavailable_cause(exc)
    if unavailable is not None and unavailable is not exc:
        return await _on_library_error(request, unavailable)
    request_id = uuid.uuid4().hex[:12]
    logger.error(
        "request failed",
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"request_id": request_id, "path": request.url.path},
    )
    return error_response(
        500, "internal", f"internal error (request id {request_id}); the server log has it"
    )


async def _on_disconnect(request: Request, exc: Exception) -> Response:
    logger.info(
        "client disconnected before its request was read",
        extra={"path": request.url.path, "method": request.method},
    )
    # Never sent (the connection is gone); 499 is what the access log shows.
    return Response(status_code=CLIENT_CLOSED)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error, expected or not, in the API's shape."""
    app.add_exception_handler(ClientDisconnect, _on_disconnect)
    app.add_exception_handler(EmitflowError, _on_library_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(Exception, _on_unexpected)
