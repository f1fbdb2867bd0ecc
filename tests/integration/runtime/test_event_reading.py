"""``emit`` generates ``id`` and ``source``; ``schedule.read`` and ``listen.read`` are honoured."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from emitflow.runtime.engine import Engine
from emitflow.runtime.settings import EngineSettings
from emitflow.store.records import RunRecord
from tests.unit.runner.workflows import run

EVENT = {"specversion": "1.0", "source": "/shop", "type": "com.example.paid", "data": {"k": 1}}


async def test_emit_without_id_and_source_generates_them() -> None:
    result = await run(
        "document: {dsl: '1.0.3', namespace: shop, name: pay, version: '2.1.0'}\n"
        "do:\n  - tell:\n      emit:\n        event:\n          with: {type: com.example.paid}\n"
    )
    assert result.status == "completed", result.error
    event = result.output
    assert event["source"] == "/shop/pay/2.1.0"
    assert isinstance(event["id"], str) and len(event["id"]) >= 32


def _started(read: str | None) -> dict[str, Any]:
    schedule: dict[str, Any] = {"on": {"one": {"with": {"type": "com.example.paid"}}}}
    if read is not None:
        schedule["read"] = read
    return {
        "document": {"dsl": "1.0.3", "namespace": "t", "name": "started", "version": "1.0.0"},
        "schedule": schedule,
        "do": [{"keep": {"set": {"input": "${ $workflow.input }"}}}],
    }


async def _first_run(engine: Engine) -> RunRecord:
    async with asyncio.timeout(30):
        while True:
            runs = (await engine.store.list_runs()).items
            if runs and runs[0].status == "completed":
                return runs[0]
            await asyncio.sleep(0.005)


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        ("data", [{"k": 1}]),
        ("envelope", [{**EVENT, "id": "e1"}]),
        ("raw", ['{"k":1}']),
        (None, [{**EVENT, "id": "e1"}]),
    ],
)
async def test_schedule_read_is_honoured(tmp_path: Path, read: str | None, expected: Any) -> None:
    settings = EngineSettings(code_steps=None, close_grace_seconds=0.05)
    async with Engine.open(f"sqlite:///{tmp_path}/r.db", settings=settings) as engine:
        await engine.deploy(_started(read))
        await engine.ingest({**EVENT, "id": "e1"})
        started = await _first_run(engine)
        assert started.input == expected
        assert started.output == {"input": expected}


async def test_listen_read_raw_gives_the_data_as_it_travelled(tmp_path: Path) -> None:
    waiter = {
        "document": {"dsl": "1.0.3", "namespace": "t", "name": "w", "version": "1.0.0"},
        "do": [
            {
                "await": {
                    "listen": {"to": {"one": {"with": {"type": "com.example.paid"}}}, "read": "raw"}
                }
            }
        ],
    }
    settings = EngineSettings(code_steps=None, close_grace_seconds=0.05)
    async with Engine.open(f"sqlite:///{tmp_path}/l.db", settings=settings) as engine:
        deployed = await engine.deploy(waiter)
        started = await engine.start(deployed.id, wait=False)
        async with asyncio.timeout(30):
            while not await engine.store.list_waits(run_id=started.id):  # noqa: ASYNC110
                await asyncio.sleep(0.005)
        text = {**EVENT, "id": "t1", "datacontenttype": "text/plain", "data": "plain words"}
        await engine.ingest(text)
        ended = await engine.wait(started.id)
        assert ended.output == ["plain words"]
