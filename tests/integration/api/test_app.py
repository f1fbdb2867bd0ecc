"""The app's frame: the error shape, the body limit, auth on /v1, /openapi.json."""

from __future__ import annotations

import httpx


async def test_openapi_is_served(client: httpx.AsyncClient) -> None:
    answer = await client.get("/openapi.json")
    assert answer.status_code == 200
    assert answer.json()["info"]["title"] == "emitflow"


async def test_unknown_route_answers_in_the_error_shape(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


async def test_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v1/events", content=b"x" * (512 * 1024 + 1))
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "payload_too_large"
