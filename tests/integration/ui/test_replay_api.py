"""``POST /v1/runs/{id}/replay`` and ``POST /v1/workflows/{id}/replay?status=failed&since=…``."""

from __future__ import annotations

import httpx
import pytest

from emitflow.api import ApiSettings, create_app
from emitflow.runtime.engine import Engine
from tests.integration.runtime.documents import EMITTER, FAULTY, LISTENER
from tests.integration.ui.conftest import ADMIN_TOKEN


@pytest.fixture
async def api(engine: Engine) -> httpx.AsyncClient:
    app = create_app(engine, ApiSettings(admin_token=ADMIN_TOKEN))
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://emitflow.test",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )


async def test_a_listener_run_replays_its_event_on_the_newest_version(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    emitter = await engine.deploy(EMITTER)
    listener = await engine.deploy(LISTENER)
    await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
    await engine.start(emitter.id, input={"name": "Han"})
    await engine.drain()
    (first,) = (await engine.runs(listener.id)).items
    newer = await engine.deploy(LISTENER.replace('"hello "', '"hi "'), id=listener.id)
    answer = await api.post(f"/v1/runs/{first.id}/replay")
    assert answer.status_code == 202, answer.text
    data = answer.json()["data"]
    assert data["trigger"]["replay_of"] == first.id
    assert data["workflow_revision"] == newer.revision == 2
    replayed = await engine.wait(data["id"])
    assert replayed.output == {"greeting": "hi Han"}
    missing = await api.post("/v1/runs/r_nothing/replay")
    assert missing.status_code == 404


async def test_failed_runs_in_a_range_are_counted_then_replayed(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    faulty = await engine.deploy(FAULTY)
    for _ in range(4):
        await engine.start(faulty.id)
    path = f"/v1/workflows/{faulty.id}/replay"
    counted = await api.post(path, params={"status": "failed", "dry_run": "true"})
    assert counted.json()["data"] == {"count": 4, "runs": []}
    future = await api.post(path, params={"since": "2999-01-01T00:00:00Z"})
    assert future.json()["data"]["count"] == 0
    done = await api.post(path, params={"status": "failed", "since": "2000-01-01T00:00:00Z"})
    assert done.status_code == 202 and done.json()["data"]["count"] == 4
    await engine.drain()
    assert len((await engine.runs(faulty.id, limit=20)).items) == 8
    bad = await api.post(path, params={"status": "sideways"})
    assert bad.status_code == 400 and "sideways" in bad.json()["error"]["message"]
    naive = await api.post(path, params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 400
    assert (await api.post("/v1/workflows/p_none/replay")).status_code == 404
    read_only = await api.post(path, headers={"Authorization": "Bearer nope"})
    assert read_only.status_code == 401
