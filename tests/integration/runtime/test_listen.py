"""``listen`` inside an engine: runs wait for emitted or ingested events, correlate, and keep
waiting across a restart without missing or repeating an event."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from emitflow.runtime.engine import Engine
from emitflow.runtime.settings import EngineSettings
from emitflow.store.records import RunRecord


def _waiter(name: str, to: dict[str, Any], **listen: Any) -> dict[str, Any]:
    return {
        "document": {"dsl": "1.0.0", "namespace": "t", "name": name, "version": "1.0.0"},
        "do": [{"await": {"listen": {"to": to, **listen}}}],
    }


def _event(n: int, type: str = "com.example.go", **data: Any) -> dict[str, Any]:
    return {"specversion": "1.0", "id": f"e{n}", "source": "/t", "type": type, "data": data}


async def _waiting(engine: Engine, run: RunRecord, count: int = 1) -> None:
    async with asyncio.timeout(30):
        while len(await engine.store.list_waits(run_id=run.id)) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.005)


def _settings() -> EngineSettings:
    return EngineSettings(close_grace_seconds=0.05)


async def test_a_run_resumes_when_an_ingested_event_comes(tmp_path: Path) -> None:
    async with Engine.open(f"sqlite:///{tmp_path}/l.db", settings=_settings()) as engine:
        waiter = await engine.deploy(_waiter("w", {"one": {"with": {"type": "com.example.go"}}}))
        run = await engine.start(waiter.id, wait=False)
        await _waiting(engine, run)
        await engine.ingest(_event(1, type="com.example.other"))
        await engine.ingest(_event(2, order=7))
        ended = await engine.wait(run.id)
        assert ended.status == "completed", ended.error
        assert ended.output == [{"order": 7}]
        assert await engine.store.list_waits(run_id=run.id) == []


async def test_an_event_emitted_by_another_workflow_reaches_the_listen(tmp_path: Path) -> None:
    emitter = {
        "document": {"dsl": "1.0.0", "namespace": "t", "name": "e", "version": "1.0.0"},
        "do": [
            {
                "tell": {
                    "emit": {
                        "event": {
                            "with": {
                                "source": "/shop",
                                "type": "com.example.paid",
                                "data": "${ . }",
                            }
                        }
                    }
                }
            }
        ],
    }
    async with Engine.open(f"sqlite:///{tmp_path}/l.db", settings=_settings()) as engine:
        waiter = await engine.deploy(
            _waiter("w", {"one": {"with": {"type": "com.example.paid"}}}, read="envelope")
        )
        sender = await engine.deploy(emitter)
        run = await engine.start(waiter.id, wait=False)
        await _waiting(engine, run)
        await engine.start(sender.id, input={"total": 12})
        ended = await engine.wait(run.id)
        (event,) = ended.output
        assert (event["type"], event["data"]) == ("com.example.paid", {"total": 12})


async def test_correlation_gives_each_run_its_own_event(tmp_path: Path) -> None:
    to = {
        "one": {
            "with": {"type": "com.example.go"},
            "correlate": {"order": {"from": "${ .data.order }", "expect": "${ $input.order }"}},
        }
    }
    async with Engine.open(f"sqlite:///{tmp_path}/l.db", settings=_settings()) as engine:
        waiter = await engine.deploy(_waiter("w", to))
        first = await engine.start(waiter.id, input={"order": 1}, wait=False)
        second = await engine.start(waiter.id, input={"order": 2}, wait=False)
        await _waiting(engine, first)
        await _waiting(engine, second)
        await engine.ingest(_event(1, order=2))
        await engine.ingest(_event(2, order=1))
        assert (await engine.wait(first.id)).output == [{"order": 1}]
        assert (await engine.wait(second.id)).output == [{"order": 2}]


async def test_all_needs_every_filter_and_any_until_counts(tmp_path: Path) -> None:
    both = {"all": [{"with": {"type": "com.example.a"}}, {"with": {"type": "com.example.b"}}]}
    three = {"any": [], "until": "${ length >= 3 }"}
    async with Engine.open(f"sqlite:///{tmp_path}/l.db", settings=_settings()) as engine:
        pair = await engine.start((await engine.deploy(_waiter("p", both))).id, wait=False)
        trio = await engine.start((await engine.deploy(_waiter("t", three))).id, wait=False)
        await _waiting(engine, pair)
        await _waiting(engine, trio)
        await engine.ingest(_event(1, type="com.example.b", k="b"))
        await engine.ingest(_event(2, type="com.example.b", k="b2"))
        await engine.ingest(_event(3, type="com.example.a", k="a"))
        assert (await engine.wait(pair.id)).output == [{"k": "b"}, {"k": "a"}]
        assert (await engine.wait(trio.id)).output == [{"k": "b"}, {"k": "b2"}, {"k": "a"}]


async def test_a_waiting_run_resumes_after_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/l.db"
    two = {"any": [{"with": {"type": "com.example.go"}}], "until": "${ length >= 2 }"}
    async with Engine.open(url, settings=_settings()) as engine:
        waiter = await engine.deploy(_waiter("w", two))
        run = await engine.start(waiter.id, wait=False)
        await _waiting(engine, run)
        await engine.ingest(_event(1, k=1))

        async def saved() -> bool:
            (wait,) = await engine.store.list_waits(run_id=run.id)
            return bool(wait.state.get("progress"))

        async with asyncio.timeout(30):
            while not await saved():  # noqa: ASYNC110 - the consumed event is saved, deadline
                await asyncio.sleep(0.005)
    async with Engine.open(url, settings=_settings()) as engine:
        await engine.ingest(_event(1, k=1))  # delivered again: not counted twice
        await engine.ingest(_event(2, k=2))
        ended = await engine.wait(run.id)
        assert ended.status == "completed", ended.error
        assert ended.output == [{"k": 1}, {"k": 2}]


async def test_a_listen_times_out(tmp_path: Path) -> None:
    async with Engine.open(f"sqlite:///{tmp_path}/l.db", settings=_settings()) as engine:
        doc = _waiter("w", {"one": {"with": {"type": "never"}}})
        doc["do"][0]["await"]["timeout"] = {"after": {"milliseconds": 100}}
        waiter = await engine.deploy(doc)
        ended = await engine.start(waiter.id)
        assert ended.status == "faulted"
        assert ended.error is not None and ended.error["type"].endswith("/timeout")


async def test_drain_does_not_wait_for_a_listening_run(tmp_path: Path) -> None:
    async with Engine.open(f"sqlite:///{tmp_path}/l.db", settings=_settings()) as engine:
        waiter = await engine.deploy(_waiter("w", {"one": {"with": {"type": "never"}}}))
        run = await engine.start(waiter.id, wait=False)
        await _waiting(engine, run)
        await engine.drain(within=30)
        assert (await engine.get_run(run.id)).status in {"pending", "running"}
