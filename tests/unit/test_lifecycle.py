"""One ``async with`` lifecycle for the engine, the code-step pool and runner, and the stores."""

from __future__ import annotations

import pytest

from emitflow.codesteps import CodeStepPool
from emitflow.codesteps.bridge import PoolStepRunner
from emitflow.errors import StoreError
from emitflow.lifecycle import AsyncLifecycle
from emitflow.runtime import Engine
from emitflow.store import MemoryStore
from emitflow.store.sqlite import SqliteStore


class _Resource(AsyncLifecycle):
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.steps: list[str] = []

    async def _enter(self) -> None:
        self.steps.append("enter")
        if self.fail:
            raise RuntimeError("cannot start")

    async def close(self) -> None:
        self.steps.append("close")


@pytest.mark.parametrize("kind", [Engine, PoolStepRunner, CodeStepPool, MemoryStore, SqliteStore])
def test_every_resource_uses_the_one_mixin(kind: type) -> None:
    assert issubclass(kind, AsyncLifecycle)


async def test_enter_then_close() -> None:
    resource = _Resource()
    async with resource as entered:
        assert entered is resource and resource.steps == ["enter"]
    assert resource.steps == ["enter", "close"]


async def test_a_failed_entry_closes_what_was_started() -> None:
    resource = _Resource(fail=True)
    with pytest.raises(RuntimeError, match="cannot start"):
        async with resource:
            pytest.fail("the body must not run")
    assert resource.steps == ["enter", "close"]


async def test_a_step_runner_that_never_ran_a_step_closes_at_once() -> None:
    runner = PoolStepRunner()
    async with runner:
        pass
    await runner.close()  # again: nothing to do


async def test_an_engine_closes_its_store_on_exit() -> None:
    store = MemoryStore()
    async with Engine.open(store) as engine:
        assert (await engine.workflows()) == []
    with pytest.raises(StoreError, match="not open"):
        await store.list_workflows()
