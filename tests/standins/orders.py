"""A stand-in for the seed example's orders service (``http://orders-service/api/v1/orders``).

``POST /api/v1/orders`` with ``Authorization: Bearer <api key>`` answers 201 with the placed
order (``orderId``, ``customerId``, ``items``); a wrong or missing token gets 401, and a
``customerId`` of ``"fail"`` gets 500, for the example's error path. Every request received is
kept in ``app.state.received`` (method, path, headers, JSON body) for tests to inspect.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = ["FAILING_CUSTOMER", "ORIGIN", "Received", "create_app"]

#: The origin the seed example calls; route it to the stand-in.
ORIGIN = "http://orders-service"
#: The customer id that makes the service fail with 500.
FAILING_CUSTOMER = "fail"


@dataclass(frozen=True, slots=True)
class Received:
    """One request as the service saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


def create_app(api_key: str) -> Starlette:
    """The orders service, accepting only ``Bearer <api_key>``."""
    counter = itertools.count(1001)
    received: list[Received] = []

    async def place_order(request: Request) -> JSONResponse:
        body = await request.json()
        received.append(Received(request.method, request.url.path, dict(request.headers), body))
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(token, api_key):
            return JSONResponse({"message": "a valid bearer token is required"}, status_code=401)
        if body.get("customerId") == FAILING_CUSTOMER:
            return JSONResponse({"message": "the order book is unavailable"}, status_code=500)
        order = {
            "orderId": f"o-{next(counter)}",
            "customerId": body.get("customerId"),
            "items": body.get("items", []),
        }
        return JSONResponse(order, status_code=201)

    app = Starlette(routes=[Route("/api/v1/orders", place_order, methods=["POST"])])
    app.state.received = received
    return app
