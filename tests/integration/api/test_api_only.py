"""The API of an API-only process (``serve --no-worker``) next to a worker on one shared store:
what waits for a run (``?wait=true``, a hook that responds) reads the run's record until a
worker has ended it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from emitflow.api import ApiSettings, create_app
from emitflow.runtime import Engine, EngineSettings
from tests.standins.shared_store import SharedMemoryStore
from tests.unit.runtime.fakes import FakeRunner, doc

ADMIN_TOKEN = "test-admin-token-0123456789"

GREETER = doc(
    "greeter",
    """do:
  - greet:
      set:
        hello: ${ .name }
""",
    header=", metadata: {emitflow: {hook: {respond: true}}}",
)


@asynccontextmanager
async def processes(
    api_runner: FakeRunner, worker_runner: FakeRunner
) -> AsyncIterator[tuple[Engine, httpx.AsyncClient]]:
    """An API-only engine with its API, and a worker engine, on one shared store."""
    store = SharedMemoryStore()
    options: dict[str, Any] = {"lease_seconds": 0.5, "rescan_seconds": 0.05}
    api = Engine(store, EngineSettings(executor=api_runner, worker=False, **options))
    worker = Engine(store, EngineSettings(executor=worker_runner, **options))
    async with api, worker:
        app = create_app(api, ApiSettings(admin_token=ADMIN_TOKEN))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://emitflow.test",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        ) as http:
            yield api, http


async def test_a_run_started_with_wait_answers_once_a_worker_ended_it() -> None:
    api_runner, worker_runner = FakeRunner(), FakeRunner()
    async with processes(api_runner, worker_runner) as (api, http):
        version = await api.deploy(GREETER)
        answer = await http.post(
            f"/v1/workflows/{version.id}/runs?wait=true", json={"input": {"name": "Yoda"}}
        )
        assert answer.status_code == 200, answer.text
        assert (answer.json()["status"], answer.json()["output"]) == (
            "completed",
            {"hello": "Yoda"},
        )
        assert api_runner.calls == []
        assert worker_runner.calls == [("greeter", {"name": "Yoda"})]


async def test_a_responding_hook_answers_with_the_run_id_once_the_run_ended() -> None:
    # pd.respond's answer reaches only the process that executes the run: an API-only
    # process answers 202 with the run's id once a worker has ended it.
    api_runner, worker_runner = FakeRunner(), FakeRunner()
    async with processes(api_runner, worker_runner) as (api, http):
        version = await api.deploy(GREETER)
        answer = await http.post(f"/hooks/{version.id}", json={"name": "Yoda"})
        assert answer.status_code == 202, answer.text
        run = await api.get_run(answer.json()["run_id"])
        assert (run.status, run.output) == ("completed", {"hello": "Yoda"})
        assert api_runner.calls == []
