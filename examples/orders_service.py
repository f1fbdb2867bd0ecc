"""A small local orders service for trying the seed example (``examples/order.yaml``).

``POST /api/v1/orders`` with ``Authorization: Bearer <ORDERS_API_KEY>`` answers 201 with the new
order (``orderId``, ``customerId``, ``items``). A ``customerId`` of ``"fail"`` makes it answer 500,
to show the workflow's error path. Run it with ``python examples/orders_service.py --port 8081``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import secrets

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def build_app(api_key: str | None) -> Starlette:
    """The orders app; ``api_key`` None accepts any bearer token."""
    counter = itertools.count(1001)

    async def place_order(request: Request) -> JSONResponse:
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or (
            api_key is not None and not secrets.compare_digest(token, api_key)
        ):
            return JSONResponse({"message": "a valid bearer token is required"}, status_code=401)
        order = await request.json()
        if order.get("customerId") == "fail":
            return JSONResponse({"message": "the order book is unavailable"}, status_code=500)
        placed = {
            "orderId": f"o-{next(counter)}",
            "customerId": order.get("customerId"),
            "items": order.get("items", []),
        }
        return JSONResponse(placed, status_code=201)

    return Starlette(routes=[Route("/api/v1/orders", place_order, methods=["POST"])])


def main() -> None:
    """Serve on 127.0.0.1."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args()
    app = build_app(os.environ.get("ORDERS_API_KEY"))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
