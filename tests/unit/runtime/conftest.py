"""Engines on a ``MemoryStore`` with the fake runner: the runtime without I/O."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest

from emitflow.runtime import Engine, EngineSettings
from emitflow.store import MemoryStore
from tests.unit.runtime.fakes import FakeRunner

OpenEngine = Callable[..., AbstractAsyncContextManager[Engine]]


@pytest.fixture
def runner() -> FakeRunner:
    return FakeRunner()


@pytest.fixture
def open_engine(runner: FakeRunner) -> OpenEngine:
    """``async with open_engine(**settings) as engine`` on a fresh (or given) memory store."""

    @asynccontextmanager
    async def opened(store: MemoryStore | None = None, **options: Any) -> AsyncIterator[Engine]:
        options.setdefault("executor", runner)
        settings = EngineSettings(**options)
        target = store or MemoryStore(clock=settings.clock)
        async with Engine.open(target, settings=settings) as engine:
            yield engine

    return opened
