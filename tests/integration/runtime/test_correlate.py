"""``correlate.expect`` reads the listening task's input as ``.``, like every task expression."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from emitflow.runtime.engine import Engine
from emitflow.runtime.settings import EngineSettings
from emitflow.store.records import RunRecord


def _waiter(expect: str) -> dict[str, Any]:
    to = {
        "one": {
            "with": {"type": "com.example.go"},
            "correlate": {"order": {"from": ".data.id", "expect": expect}},
        }
    }
    return {
        "document": {"dsl": "1.0.3", "namespace": "t", "name": "w", "version": "1.0.0"},
        "do": [{"await": {"listen": {"to": to}}}],
    }


async def _waiting(engine: Engine, run: RunRecord) -> None:
    async with asyncio.timeout(30):
        while not await engine.store.list_waits(run_id=run.id):  # noqa: ASYNC110
            await asyncio.sleep(0.005)


@pytest.mark.parametrize("expect", [".id", "${ .id }", "${ $input.id }"])
async def test_expect_dot_is_the_task_input(tmp_path: Path, expect: str) -> None:
    settings = EngineSettings(close_grace_seconds=0.05)
    async with Engine.open(f"sqlite:///{tmp_path}/c.db", settings=settings) as engine:
        waiter = await engine.deploy(_waiter(expect))
        first = await engine.start(waiter.id, input={"id": "o-1"}, wait=False)
        second = await engine.start(waiter.id, input={"id": "o-2"}, wait=False)
        await _waiting(engine, first)
        await _waiting(engine, second)
        for n, order in enumerate(("o-2", "o-1")):
            event = {"specversion": "1.0", "id": f"e{n}", "source": "/t", "type": "com.example.go"}
            await engine.ingest({**event, "data": {"id": order}})
        assert (await engine.wait(first.id)).output == [{"id": "o-1"}]
        assert (await engine.wait(second.id)).output == [{"id": "o-2"}]
