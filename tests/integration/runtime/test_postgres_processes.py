"""Two engines on two ``PostgresStore`` pools of one database (two processes, as far as the
database can tell): each run once, each listener once per event, ``listen`` and the live feed
across processes, a crashed process's runs resumed after its lease, an API-only process.

Each test works in a fresh schema (``EMITFLOW_TEST_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432/test``); without PostgreSQL the tests skip, and fail under
``EMITFLOW_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from emitflow.events.cloudevent import CloudEvent
from emitflow.runtime import Engine, EngineSettings
from emitflow.runtime.executor import Executor
from emitflow.store.records import TERMINAL_STATUSES, StoredEvent
from tests.contract.stores import PostgresSchema, postgres_schema
from tests.standins.shared_store import crash
from tests.unit.runtime.fakes import EMITTER, LISTENER, FakeRunner, doc, eventually


@pytest.fixture
async def schema() -> AsyncIterator[PostgresSchema]:
    async with postgres_schema() as made:
        yield made


@asynccontextmanager
async def process(
    schema: PostgresSchema, executor: Executor | None = None, **options: Any
) -> AsyncIterator[Engine]:
    """An engine on a pool of its own, with short leases and re-scans."""
    from emitflow.store.postgres import PostgresStore

    settings = EngineSettings(
        executor=executor,
        lease_seconds=1.0,
        rescan_seconds=0.2,
        close_grace_seconds=0.1,
        **options,
    )
    async with Engine(PostgresStore(schema.url, max_connections=4), settings) as engine:
        yield engine


def _event(n: int, type: str = "com.example.tick") -> CloudEvent:
    return CloudEvent.create(type=type, source="/pg", data={"n": n})


async def _ended(engine: Engine, workflow_id: str, count: int) -> bool:
    runs = (await engine.store.list_runs(workflow_id=workflow_id, limit=1000)).items
    return len(runs) == count and all(r.status in TERMINAL_STATUSES for r in runs)


async def test_a_run_started_by_one_process_runs_once(schema: PostgresSchema) -> None:
    here, there = FakeRunner(), FakeRunner()
    async with process(schema, here) as a, process(schema, there):
        emitter = await a.deploy(EMITTER)
        runs = await asyncio.gather(*(a.start(emitter.id, input={"n": n}) for n in range(10)))
        assert {run.status for run in runs} == {"completed"}
        assert sorted(i["n"] for _, i in here.calls) == list(range(10))
        assert there.calls == []


async def test_a_listener_runs_once_per_event_emitted_by_the_other(schema: PostgresSchema) -> None:
    one, two = FakeRunner(), FakeRunner()
    async with process(schema, one) as a, process(schema, two) as b:
        emitter = await a.deploy(EMITTER)
        listener = await a.deploy(LISTENER)
        await a.subscribe(emitter_id=emitter.id, listener_id=listener.id)
        await asyncio.gather(*(b.start(emitter.id, input={"n": n}) for n in range(20)))
        await eventually(lambda: _ended(a, listener.id, 20), within=30)
        listened = [i[0]["data"]["n"] for name, i in one.calls + two.calls if name == "listener"]
        assert sorted(listened) == list(range(20))
        assert (await a.events(emitter.id, limit=100)).count == 20


async def test_a_listen_in_one_process_resumes_on_the_other_process_event(
    schema: PostgresSchema,
) -> None:
    waiter = {
        "document": {"dsl": "1.0.0", "namespace": "t", "name": "w", "version": "1.0.0"},
        "do": [{"await": {"listen": {"to": {"one": {"with": {"type": "com.example.go"}}}}}}],
    }
    async with process(schema) as a, process(schema) as b:
        deployed = await a.deploy(waiter)
        run = await a.start(deployed.id, wait=False)
        async with asyncio.timeout(30):
            while not await a.store.list_waits(run_id=run.id):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        await b.ingest(_event(1, type="com.example.other"), emitter_id="dc_b")
        await b.ingest(_event(2, type="com.example.go"), emitter_id="dc_b")
        async with asyncio.timeout(30):
            ended = await a.wait(run.id)
        assert ended.status == "completed", ended.error
        assert ended.output == [{"n": 2}]


async def test_a_crashed_process_runs_are_resumed_by_the_other(schema: PostgresSchema) -> None:
    stuck, healthy = FakeRunner(block=asyncio.Event()), FakeRunner()
    async with process(schema, stuck) as a, process(schema, healthy) as b:
        emitter = await a.deploy(EMITTER)
        runs = [await a.start(emitter.id, input={"n": n}, wait=False) for n in range(3)]
        async with asyncio.timeout(30):
            while stuck.running < 3:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        await crash(a)
        async with asyncio.timeout(30):
            ended = [await b.wait(run.id) for run in runs]
        assert {run.status for run in ended} == {"completed"}
        assert sorted(i["n"] for _, i in healthy.calls) == [0, 1, 2]


async def test_the_feed_of_one_process_sees_the_other_process_events(
    schema: PostgresSchema,
) -> None:
    async with process(schema, FakeRunner()) as a, process(schema, FakeRunner()) as b:
        reader = await a.feed.attach()
        for n in range(10):
            await b.ingest(_event(n), emitter_id="dc_b")
        got: list[StoredEvent] = []
        async with asyncio.timeout(30):
            while len(got) < 10:
                got.append(await reader.queue.get())
        # Both processes dispatch the outbox: the log's order, not the ingest order, is kept.
        assert sorted(e.event["data"]["n"] for e in got) == list(range(10))
        positions = [tuple(map(int, e.position.split("-"))) for e in got]
        assert positions == sorted(set(positions))
        reader.close()


async def test_an_api_only_process_hands_its_runs_to_a_worker(schema: PostgresSchema) -> None:
    api_runner, worker_runner = FakeRunner(), FakeRunner()
    async with (
        process(schema, api_runner, worker=False) as api,
        process(schema, worker_runner),
    ):
        emitter = await api.deploy(EMITTER)
        async with asyncio.timeout(30):
            run = await api.start(emitter.id, input={"n": 1})
        assert run.status == "completed"
        assert api_runner.calls == []
        assert worker_runner.calls == [("emitter", {"n": 1})]


async def test_the_event_stream_of_one_process_serves_the_other_process_events(
    schema: PostgresSchema,
) -> None:
    import contextlib

    import uvicorn

    from emitflow.api import ApiSettings, create_app
    from tests.integration.api.conftest import ADMIN_TOKEN
    from tests.integration.api.test_stream import _read

    async with process(schema, FakeRunner()) as a, process(schema, FakeRunner()) as b:
        app = create_app(a, ApiSettings(admin_token=ADMIN_TOKEN, heartbeat_seconds=0.2))
        config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
        server = uvicorn.Server(config)
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        serving = asyncio.ensure_future(server.serve())
        try:
            async with asyncio.timeout(30):
                while not server.started:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
            reader = asyncio.ensure_future(_read(url, 3))
            async with asyncio.timeout(30):
                while a.feed.readers == 0:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            for n in range(3):
                await b.ingest(_event(n), emitter_id="dc_b")
            got = await asyncio.wait_for(reader, 30)
            assert sorted(item["event"]["data"]["n"] for item in got) == [0, 1, 2]
            # Resuming after the first (Last-Event-ID): the rest, no duplicate.
            rest = await _read(url, 2, {"Last-Event-ID": got[0]["id"]})
            assert [item["id"] for item in rest] == [item["id"] for item in got[1:]]
        finally:
            server.should_exit = True
            await serving


async def test_a_schedule_fires_once_per_tick_across_processes(schema: PostgresSchema) -> None:
    ticking = doc(
        "ticking",
        """schedule:
  every: PT0.2S
do:
  - note:
      set:
        ok: true
""",
    )
    one, two = FakeRunner(), FakeRunner()
    async with process(schema, one) as a, process(schema, two):
        version = await a.deploy(ticking)
        async with asyncio.timeout(30):
            while len(one.calls) + len(two.calls) < 6:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        runs = (await a.store.list_runs(workflow_id=version.id, limit=1000)).items
        dues = [run.trigger["schedule"]["due_at"] for run in runs]
        assert len(dues) == len(set(dues))


async def test_a_listen_of_a_crashed_process_resumes_in_the_other(schema: PostgresSchema) -> None:
    waiter = {
        "document": {"dsl": "1.0.0", "namespace": "t", "name": "w", "version": "1.0.0"},
        "do": [{"await": {"listen": {"to": {"one": {"with": {"type": "com.example.go"}}}}}}],
    }
    async with process(schema) as a, process(schema) as b:
        deployed = await a.deploy(waiter)
        run = await a.start(deployed.id, wait=False)
        async with asyncio.timeout(30):
            while not await a.store.list_waits(run_id=run.id):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        await crash(a)
        # Logged while nobody listened: the resumed listen reads it from the log.
        await b.ingest(_event(7, type="com.example.go"), emitter_id="dc_b")
        async with asyncio.timeout(30):
            ended = await b.wait(run.id)
        assert ended.status == "completed", ended.error
        assert ended.output == [{"n": 7}]
