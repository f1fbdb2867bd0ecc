"""Every ``/v1`` route needs a valid token (else 401) holding the route's scope (else 403)."""

from __future__ import annotations

import re

import httpx
import pytest

from emitflow.api import ApiSettings, create_app
from emitflow.api.credentials import make_token
from emitflow.runtime.engine import Engine
from tests.integration.api.conftest import ADMIN_TOKEN


def _v1_operations(engine: Engine) -> list[tuple[str, str]]:
    app = create_app(engine, ApiSettings(admin_token=ADMIN_TOKEN))
    found: list[tuple[str, str]] = []
    for template, operations in app.openapi()["paths"].items():
        if template.startswith("/v1"):
            path = re.sub(r"\{[^}]+\}", "p_x", template)
            found.extend((method.upper(), path) for method in operations)
    return found


async def _anonymous(engine: Engine) -> httpx.AsyncClient:
    app = create_app(engine, ApiSettings(admin_token=ADMIN_TOKEN))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_every_v1_route_is_guarded(engine: Engine) -> None:
    operations = _v1_operations(engine)
    assert len(operations) >= 15
    _, hooks_only = await make_token(
        engine.store, name="hooks", scopes=["hooks"], now=engine.settings.clock.now()
    )
    async with await _anonymous(engine) as http:
        for method, path in operations:
            bare = await http.request(method, path)
            assert bare.status_code == 401, (method, path, bare.text)
            assert bare.json()["error"]["code"] == "unauthorized"
            assert bare.headers["www-authenticate"] == "Bearer"
            unknown = await http.request(method, path, headers={"Authorization": "Bearer efk_no"})
            assert unknown.status_code == 401, (method, path)
            lacking = await http.request(
                method, path, headers={"Authorization": f"Bearer {hooks_only}"}
            )
            assert lacking.status_code == 403, (method, path, lacking.text)
            assert "scope" in lacking.json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/workflows"),
        ("DELETE", "/v1/workflows/p_x"),
        ("POST", "/v1/subscriptions?emitter_id=p_a&listener_id=p_b"),
        ("POST", "/v1/tokens"),
        ("DELETE", "/v1/sources/dc_x/events"),
    ],
)
async def test_a_read_token_cannot_change_things(engine: Engine, method: str, path: str) -> None:
    _, reader = await make_token(
        engine.store, name="r", scopes=["read"], now=engine.settings.clock.now()
    )
    async with await _anonymous(engine) as http:
        answer = await http.request(method, path, headers={"Authorization": f"Bearer {reader}"})
    assert answer.status_code == 403


async def test_tokens_made_over_the_api_work_and_can_be_revoked(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    made = await client.post("/v1/tokens", json={"name": "ci", "scopes": ["read"]})
    assert made.status_code == 201
    secret = made.json()["data"]["token"]
    token_id = made.json()["data"]["id"]
    listed = (await client.get("/v1/tokens")).json()["data"]
    assert [t["id"] for t in listed] == [token_id]
    assert secret not in str(listed)
    async with await _anonymous(engine) as http:
        auth = {"Authorization": f"Bearer {secret}"}
        assert (await http.get("/v1/workflows", headers=auth)).status_code == 200
        assert (await client.delete(f"/v1/tokens/{token_id}")).status_code == 200
        assert (await http.get("/v1/workflows", headers=auth)).status_code == 401


async def test_an_unknown_scope_is_refused(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v1/tokens", json={"scopes": ["root"]})
    assert answer.status_code == 400
    assert "root" in answer.json()["error"]["message"]
