"""Several engines on one shared store (``SharedMemoryStore``: each engine plays a process):
run leases, claims after a crash, lost leases, API-only processes, wake-ups and the follower."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from emitflow.errors import ConfigurationError
from emitflow.events.cloudevent import CloudEvent
from emitflow.runtime import Engine, EngineSettings
from emitflow.store import MemoryStore
from emitflow.store.records import TERMINAL_STATUSES, NewRun, StoredEvent, Transition
from tests.standins.shared_store import SharedMemoryStore, crash
from tests.unit.runtime.fakes import EMITTER, LISTENER, FakeRunner, eventually

LEASE = 0.3


@asynccontextmanager
async def process(store: MemoryStore, runner: FakeRunner, **options: Any) -> AsyncIterator[Engine]:
    """An engine as one process of several: short leases and re-scans."""
    options.setdefault("lease_seconds", LEASE)
    options.setdefault("rescan_seconds", 0.05)
    settings = EngineSettings(executor=runner, close_grace_seconds=0.05, **options)
    async with Engine(store, settings) as engine:
        yield engine


def _event(n: int) -> CloudEvent:
    return CloudEvent.create(type="com.example.tick", source="/shared", data={"n": n})


async def _all_ended(store: MemoryStore, workflow_id: str, count: int) -> bool:
    runs = (await store.list_runs(workflow_id=workflow_id, limit=1000)).items
    return len(runs) == count and all(r.status in TERMINAL_STATUSES for r in runs)


async def test_a_run_started_in_one_process_runs_there_once() -> None:
    store, here, there = SharedMemoryStore(), FakeRunner(), FakeRunner()
    async with process(store, here) as a, process(store, there):
        emitter = await a.deploy(EMITTER)
        runs = [await a.start(emitter.id, input={"n": n}) for n in range(5)]
        assert {run.status for run in runs} == {"completed"}
        assert len(here.calls) == 5
        assert there.calls == []


async def test_an_api_only_process_leaves_its_runs_to_a_worker() -> None:
    store, api_runner, worker_runner = SharedMemoryStore(), FakeRunner(), FakeRunner()
    async with process(store, api_runner, worker=False) as api, process(store, worker_runner):
        emitter = await api.deploy(EMITTER)
        listener = await api.deploy(LISTENER)
        await api.subscribe(emitter_id=emitter.id, listener_id=listener.id)
        run = await api.start(emitter.id, input={"name": "Yoda"})  # waits by reading the row
        assert run.status == "completed"
        await api.ingest(_event(1), emitter_id="dc_outside")
        await eventually(lambda: _all_ended(store, listener.id, 1))
        assert api_runner.calls == []
        assert [name for name, _ in worker_runner.calls] == ["emitter", "listener"]
        await eventually(lambda: _logged(api, "dc_outside"))


async def test_each_listener_runs_once_per_event_whichever_process_emitted() -> None:
    store, one, two = SharedMemoryStore(), FakeRunner(), FakeRunner()
    async with process(store, one) as a, process(store, two) as b:
        emitter = await a.deploy(EMITTER)
        listener = await a.deploy(LISTENER)
        await b.subscribe(emitter_id=emitter.id, listener_id=listener.id)
        started = [a.start(emitter.id, input={"n": n}) for n in range(10)]
        started += [b.start(emitter.id, input={"n": n}) for n in range(10, 20)]
        await asyncio.gather(*started)
        await eventually(lambda: _all_ended(store, listener.id, 20))
        inputs = [i for name, i in one.calls + two.calls if name == "listener"]
        assert sorted(i[0]["data"]["n"] for i in inputs) == list(range(20))
        assert (await a.events(emitter.id, limit=100)).count == 20


async def test_a_crashed_process_runs_are_resumed_by_another_after_the_lease() -> None:
    store, stuck, healthy = SharedMemoryStore(), FakeRunner(block=asyncio.Event()), FakeRunner()
    async with process(store, stuck) as a, process(store, healthy) as b:
        emitter = await a.deploy(EMITTER)
        runs = [await a.start(emitter.id, input={"n": n}, wait=False) for n in range(3)]
        await eventually(lambda: _true(stuck.running == 3))
        await crash(a)
        ended = [await b.wait(run.id) for run in runs]
        assert {run.status for run in ended} == {"completed"}
        assert sorted(i["n"] for _, i in healthy.calls) == [0, 1, 2]
        assert (await b.events(emitter.id, limit=10)).count == 3


async def test_a_lost_lease_stops_the_run_here(caplog: pytest.LogCaptureFixture) -> None:
    store, stuck = SharedMemoryStore(), FakeRunner(block=asyncio.Event())
    async with process(store, stuck) as a:
        emitter = await a.deploy(EMITTER)
        run = await a.start(emitter.id, wait=False)
        await eventually(lambda: _true(stuck.running == 1))
        # Another process took the run over (as after this one stalled past its lease).
        store._run_leases[run.id] = ("elsewhere", datetime(2999, 1, 1, tzinfo=UTC))
        with caplog.at_level(logging.WARNING, logger="emitflow.runtime.runs"):
            await eventually(lambda: _true(stuck.running == 0))
        assert "run lease lost" in caplog.text
        assert run.id not in a._runs.held
        assert (await store.get_run(run.id)).status == "pending"  # left to the new holder


async def test_the_feed_of_one_process_sees_every_process_events_once_in_order() -> None:
    store, one, two = SharedMemoryStore(), FakeRunner(), FakeRunner()
    async with process(store, one) as a, process(store, two) as b:
        reader = await a.feed.attach()
        for n in range(5):
            await b.ingest(_event(n), emitter_id="dc_b")
            await a.ingest(_event(n), emitter_id="dc_a")
        await eventually(lambda: _true(reader.queue.qsize() >= 10))
        got: list[StoredEvent] = []
        while not reader.queue.empty():
            got.append(reader.queue.get_nowait())
        positions = [tuple(map(int, e.position.split("-"))) for e in got]
        assert positions == sorted(set(positions))
        assert sorted((e.emitter_id, e.event["data"]["n"]) for e in got) == sorted(
            (emitter, n) for emitter in ("dc_a", "dc_b") for n in range(5)
        )
        reader.close()


async def test_other_processes_wake_this_one_without_waiting_for_a_rescan() -> None:
    store, api_runner, worker_runner = SharedMemoryStore(), FakeRunner(), FakeRunner()
    slow = {"rescan_seconds": 60.0}
    async with (
        process(store, api_runner, worker=False, **slow) as api,
        process(store, worker_runner, **slow),
    ):
        emitter = await api.deploy(EMITTER)
        run = await api.start(emitter.id, wait=False)  # "runs" wakes the worker's claims
        await eventually(lambda: _all_ended(store, emitter.id, 1))
        await api.ingest(_event(1), emitter_id="dc_api")  # "outbox" wakes its dispatcher
        await eventually(lambda: _logged(api, "dc_api"))
        assert (await api.wait(run.id)).status == "completed"
        assert {"runs", "outbox", "events"} <= set(store.reports)


async def test_a_store_of_one_process_takes_no_lease() -> None:
    store, runner = MemoryStore(), FakeRunner()
    async with process(store, runner) as engine:
        emitter = await engine.deploy(EMITTER)
        await engine.start(emitter.id)
        assert store._run_leases == {}
        assert engine._claims is None


async def test_an_api_only_process_needs_a_shared_store() -> None:
    with pytest.raises(ConfigurationError, match="API-only"):
        Engine(MemoryStore(), EngineSettings(worker=False))


async def test_an_api_only_process_executes_nothing() -> None:
    async with process(SharedMemoryStore(), FakeRunner(), worker=False) as api:
        with pytest.raises(ConfigurationError, match="emitflow worker"):
            await api.drain()
        with pytest.raises(ConfigurationError, match="dc_orders"):
            await api.start_source("orders", "redis://127.0.0.1:6379/0?stream=o")


async def _true(value: bool) -> bool:
    return value


async def _logged(engine: Engine, emitter_id: str) -> bool:
    return (await engine.events(emitter_id)).count > 0


async def test_secrets_and_deployments_of_one_process_reach_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One key for every process of the database: $EMITFLOW_HOME/emitflow.key here.
    monkeypatch.setenv("EMITFLOW_HOME", str(tmp_path))
    monkeypatch.delenv("EMITFLOW_KEY_FILE", raising=False)
    store, one, two = SharedMemoryStore(), FakeRunner(), FakeRunner()
    async with process(store, one) as a, process(store, two) as b:
        await a.secrets.put("api_key", "k-1", datetime(2026, 1, 1, tzinfo=UTC))
        assert (tmp_path / "emitflow.key").is_file()
        await eventually(lambda: _true(b.secrets.current().get("api_key") == "k-1"))
        emitter = await a.deploy(EMITTER)
        listener = await a.deploy(LISTENER)
        await b.subscribe(emitter_id=emitter.id, listener_id=listener.id)
        assert (await b._workflows.latest(listener.id)).revision == 1
        await a.deploy(LISTENER.replace("got:", "again:"), id=listener.id)
        await eventually(
            lambda: _revision(b, listener.id, 2)
        )  # b's cached version is taken in again


async def _revision(engine: Engine, workflow_id: str, revision: int) -> bool:
    return (await engine._workflows.latest(workflow_id)).revision == revision


async def test_a_waiting_run_completed_by_another_process_runs_once() -> None:
    # A schedule.on "all" collection waits unleased; the process whose event completes it
    # submits it, and whichever worker claims it runs it, once.
    store, one, two = SharedMemoryStore(), FakeRunner(), FakeRunner()
    async with process(store, one) as a, process(store, two) as b:
        version = await a.deploy(LISTENER)
        waiting, _ = await a._runs.create(
            NewRun(workflow_id=version.id, workflow_revision=1, status="waiting")
        )
        assert waiting.id not in a._runs.held
        ready = replace(waiting, status="pending", input=[{"data": 1}])
        await store.commit_transition(Transition(run_id=waiting.id, run=ready))
        await b._runs.submit(ready)
        ended = await a.wait(waiting.id)
        assert ended.status == "completed"
        assert len(one.calls) + len(two.calls) == 1


async def test_a_run_created_but_never_submitted_is_claimed_after_its_lease() -> None:
    # Its starter failed between creating and submitting it: the lease is not renewed, and a
    # worker (here the same process) claims and runs it once the lease ran out.
    store, runner = SharedMemoryStore(), FakeRunner()
    async with process(store, runner) as a:
        version = await a.deploy(LISTENER)
        run, _ = await a._runs.create(
            NewRun(workflow_id=version.id, workflow_revision=1, input=[{"data": 1}])
        )
        assert run.id not in a._runs.held
        ended = await a.wait(run.id)
        assert ended.status == "completed"
        assert len(runner.calls) == 1
        await a._runs.submit(run)  # a late submit finds it done or held: nothing runs twice
        assert len(runner.calls) == 1


async def test_a_reader_added_without_attach_is_fed_after_a_rescan() -> None:
    store, one, two = SharedMemoryStore(), FakeRunner(), FakeRunner()
    async with process(store, one) as a, process(store, two) as b:
        reader = a.feed.reader()  # as the inspector's live tail does
        await eventually(
            lambda: _true(a._follower is not None and a._follower.position is not None)
        )
        await b.ingest(_event(1), emitter_id="dc_b")
        await eventually(lambda: _true(reader.queue.qsize() == 1))
        reader.close()
