"""Engines on a real ``SqliteStore`` in ``tmp_path``, running the real runner."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from emitflow.runtime import Engine, EngineSettings

OpenEngine = Callable[..., AbstractAsyncContextManager[Engine]]


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/emitflow.db"


@pytest.fixture
def open_engine(store_url: str) -> OpenEngine:
    """``async with open_engine(**settings) as engine`` on the test's sqlite file."""

    @asynccontextmanager
    async def opened(**options: Any) -> AsyncIterator[Engine]:
        async with Engine.open(store_url, settings=EngineSettings(**options)) as engine:
            yield engine

    return opened
