"""Public hooks under a flood (issue 10, item 9): a bounded queue per workflow answered with 429,
and the code-step pool shared fairly between workflows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from emitflow.api import ApiSettings, create_app
from emitflow.codesteps import PoolSettings
from emitflow.codesteps.bridge import PoolStepRunner
from emitflow.runtime.engine import Engine
from emitflow.runtime.settings import DEFAULT_HOOK_QUEUE_LIMIT, EngineSettings
from tests.integration.api.conftest import ADMIN_TOKEN


def _doc(name: str, task: dict[str, Any], concurrency: int | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {"dsl": "1.0.0", "namespace": "t", "name": name, "version": "1.0.0"}
    if concurrency is not None:
        document["metadata"] = {"emitflow": {"concurrency": concurrency}}
    return {"document": document, "do": [{name: task}]}


def _code(code: str) -> dict[str, Any]:
    return {"run": {"script": {"language": "python", "code": code}}}


NEVER = {"listen": {"to": {"one": {"with": {"type": "com.example.never"}}}}}


@asynccontextmanager
async def _served(
    tmp_path: Path, **settings: Any
) -> AsyncIterator[tuple[Engine, httpx.AsyncClient]]:
    options = EngineSettings(close_grace_seconds=0.05, **settings)
    async with Engine.open(f"sqlite:///{tmp_path}/h.db", settings=options) as engine:
        app = create_app(engine, ApiSettings(admin_token=ADMIN_TOKEN))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://emitflow.test",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        ) as client:
            yield engine, client


async def test_a_flooded_hook_answers_429_with_retry_after_past_its_queue(tmp_path: Path) -> None:
    assert DEFAULT_HOOK_QUEUE_LIMIT == 1_000
    async with _served(tmp_path, hook_queue_limit=3) as (engine, client):
        stuck = await engine.deploy(_doc("stuck", NEVER, concurrency=1))
        answers = [await client.post(f"/hooks/{stuck.id}", json={"n": n}) for n in range(6)]
        assert [answer.status_code for answer in answers] == [202, 202, 202, 202, 429, 429]
        refused = answers[4]
        assert refused.headers["Retry-After"] == "1"
        error = refused.json()["error"]
        assert error["code"] == "hook_queue_full"
        assert "already has 3 runs waiting" in error["message"]
        assert "EngineSettings.hook_queue_limit" in error["message"]
        runs = await engine.store.list_runs(workflow_id=stuck.id, limit=100)
        assert runs.count == 4  # nothing was started for the refused requests
        view = (await client.get(f"/v1/workflows/{stuck.id}")).json()["data"]
        assert view["concurrency"] == {
            "limit": 1,
            "running": 1,
            "queued": 3,
            "waiting": 3,
            "hook_queue_limit": 3,
        }


SLOW = "import time\ndef handler(pd):\n    time.sleep(0.1)\n    return 'a'\n"
QUICK = "def handler(pd):\n    return 'b'\n"


async def test_a_flood_of_one_hook_does_not_queue_another_workflow_behind_it(
    tmp_path: Path,
) -> None:
    async with (
        PoolStepRunner(PoolSettings(size=1)) as steps,
        _served(tmp_path, code_steps=steps) as (engine, client),
    ):
        flooded = await engine.deploy(_doc("flooded", _code(SLOW)))
        other = await engine.deploy(_doc("other", _code(QUICK)))
        warm = await engine.start(other.id)  # the pool starts
        assert warm.output == "b", warm.error
        flood = 12
        for n in range(flood):
            assert (await client.post(f"/hooks/{flooded.id}", json={"n": n})).status_code == 202
        answer = await client.post(f"/hooks/{other.id}", json={})
        run = await engine.wait(answer.json()["run_id"])
        assert run.output == "b", run.error
        done = await engine.store.list_runs(
            workflow_id=flooded.id, statuses=["completed"], limit=100
        )
        # One worker, taken in turn by workflow: the other workflow's step waited for at most
        # the step running and one more, not for the flooded workflow's twelve.
        assert done.count <= 3, f"{done.count} of {flood} flooded runs ran first"
        load = (await client.get(f"/v1/workflows/{flooded.id}")).json()["data"]["concurrency"]
        assert load["limit"] is None
        assert load["running"] + done.count == flood
        await engine.drain()  # the flood ends before the pool closes
