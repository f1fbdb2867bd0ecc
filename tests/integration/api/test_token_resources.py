"""Tokens limited to workflows (``--workflow p_x``), and ``GET /v1/tokens`` with each token's
scope, resources, creation and last use."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from emitflow.api import ApiSettings, create_app
from emitflow.api.credentials import make_token
from emitflow.cli import app as cli_app
from emitflow.clock import VirtualClock
from emitflow.runtime.engine import Engine
from emitflow.runtime.settings import EngineSettings
from emitflow.store.factory import open_store
from tests.integration.api.conftest import ADMIN_TOKEN


def _doc(name: str, metadata: Mapping[str, object] | None = None) -> dict[str, object]:
    document: dict[str, object] = {"dsl": "1.0.0", "namespace": "t", "name": name}
    document["version"] = "1.0.0"
    if metadata:
        document["metadata"] = metadata
    return {"document": document, "do": [{"k": {"set": {"ok": True}}}]}


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
async def timed(tmp_path: Path, clock: VirtualClock) -> AsyncIterator[Engine]:
    settings = EngineSettings(code_steps=None, clock=clock)
    async with Engine.open(f"sqlite:///{tmp_path}/emitflow.db", settings=settings) as opened:
        guarded = {"emitflow": {"hook": {"auth": "token"}}}
        await opened.deploy(_doc("a", guarded), id="p_a")
        await opened.deploy(_doc("b", guarded), id="p_b")
        await opened.subscribe(emitter_id="p_a", listener_id="p_a")
        await opened.subscribe(emitter_id="p_b", listener_id="p_b")
        yield opened


@pytest.fixture
async def admin(timed: Engine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(timed, ApiSettings(admin_token=ADMIN_TOKEN))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://t",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ) as http:
        yield http


async def _token(admin: httpx.AsyncClient, scopes: list[str], workflows: list[str]) -> str:
    made = await admin.post("/v1/tokens", json={"scopes": scopes, "workflows": workflows})
    assert made.status_code == 201, made.text
    assert made.json()["data"]["workflows"] == workflows
    return str(made.json()["data"]["token"])


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_read_token_reaches_only_its_workflows(
    admin: httpx.AsyncClient, timed: Engine
) -> None:
    reader = _as(await _token(admin, ["read"], ["p_a"]))
    run_a = await timed.start("p_a", input={}, wait=True)
    run_b = await timed.start("p_b", input={}, wait=True)
    allowed = [
        "/v1/workflows/p_a",
        "/v1/workflows/p_a/runs",
        "/v1/workflows/p_a/event_summaries",
        f"/v1/runs/{run_a.id}",
        "/v1/events?emitter_id=p_a",
    ]
    for path in allowed:
        answer = await admin.get(path, headers=reader)
        assert answer.status_code == 200, (path, answer.text)
    refused = [
        "/v1/workflows/p_b",
        "/v1/workflows/p_b/runs",
        "/v1/workflows/p_b/event_summaries",
        f"/v1/runs/{run_b.id}",
        "/v1/events?emitter_id=p_b",
        "/v1/events",
        "/v1/events/stream",
        "/v1/sources/dc_x/event_summaries",
        "/v1/webhooks",
    ]
    for path in refused:
        answer = await admin.get(path, headers=reader)
        assert answer.status_code == 403, (path, answer.text)
        assert "limited to the workflows p_a" in answer.json()["error"]["message"]
    listed = await admin.get("/v1/workflows", headers=reader)
    assert [w["id"] for w in listed.json()["data"]] == ["p_a"]
    subscriptions = await admin.get("/v1/subscriptions", headers=reader)
    assert [s["emitter_id"] for s in subscriptions.json()["data"]] == ["p_a"]
    # The admin token still sees everything.
    everything = await admin.get("/v1/workflows")
    assert sorted(w["id"] for w in everything.json()["data"]) == ["p_a", "p_b"]


async def test_a_hooks_token_starts_only_its_workflows(
    admin: httpx.AsyncClient, timed: Engine
) -> None:
    hooker = _as(await _token(admin, ["hooks"], ["p_a"]))
    assert (await admin.post("/hooks/p_a", json={}, headers=hooker)).status_code == 202
    refused = await admin.post("/hooks/p_b", json={}, headers=hooker)
    assert refused.status_code == 403, refused.text
    runs = await timed.store.list_runs(workflow_id="p_b", limit=10)
    assert list(runs.items) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"scopes": ["admin"], "workflows": ["p_a"]}, "only the read and hooks scopes"),
        ({"scopes": ["read", "ingest"], "workflows": ["p_a"]}, "not ingest"),
        ({"scopes": ["read"], "workflows": ["orders"]}, "not a workflow id"),
    ],
)
async def test_tokens_that_cannot_be_limited_are_refused(
    admin: httpx.AsyncClient, body: dict[str, object], expected: str
) -> None:
    answer = await admin.post("/v1/tokens", json=body)
    assert answer.status_code == 400, answer.text
    assert expected in answer.json()["error"]["message"]


async def test_the_token_list_shows_scope_resources_creation_and_last_use(
    admin: httpx.AsyncClient, timed: Engine, clock: VirtualClock
) -> None:
    reader = _as(await _token(admin, ["read"], ["p_a", "p_b"]))
    listed = (await admin.get("/v1/tokens")).json()["data"]
    assert len(listed) == 1
    view = listed[0]
    assert view["scopes"] == ["read"] and view["workflows"] == ["p_a", "p_b"]
    assert view["created_at"] is not None and view["last_used_at"] is None
    assert "token" not in view and "digest" not in view
    await admin.get("/v1/workflows/p_a", headers=reader)
    first = (await admin.get("/v1/tokens")).json()["data"][0]["last_used_at"]
    assert first is not None
    # Recorded to the minute: a use within it writes nothing, one after it moves it on.
    clock.advance(30)
    await admin.get("/v1/workflows/p_a", headers=reader)
    assert (await admin.get("/v1/tokens")).json()["data"][0]["last_used_at"] == first
    clock.advance(60)
    await admin.get("/v1/workflows/p_a", headers=reader)
    later = (await admin.get("/v1/tokens")).json()["data"][0]["last_used_at"]
    assert later > first


def test_the_cli_makes_a_limited_token(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/emitflow.db"
    done = CliRunner().invoke(
        cli_app,
        ["tokens", "create", "--scope", "read", "--workflow", "p_a", "--store", url, "--json"],
    )
    assert done.exit_code == 0, done.output
    made = json.loads(done.output)["data"]
    assert made["workflows"] == ["p_a"] and made["token"].startswith("efk_")
    assert asyncio.run(_resources(url)) == [("p_a",)]
    refused = CliRunner().invoke(
        cli_app, ["tokens", "create", "--scope", "admin", "--workflow", "p_a", "--store", url]
    )
    assert refused.exit_code != 0
    assert "only the read and hooks scopes" in refused.output


async def _resources(url: str) -> list[tuple[str, ...]]:
    async with open_store(url) as store:
        return [record.resources for record in await store.list_tokens()]


async def test_an_unlimited_token_is_unchanged(timed: Engine, admin: httpx.AsyncClient) -> None:
    _, secret = await make_token(
        timed.store, name="r", scopes=["read"], now=timed.settings.clock.now()
    )
    answer = await admin.get("/v1/events", headers=_as(secret))
    assert answer.status_code == 200, answer.text
