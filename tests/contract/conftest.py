"""The store backends every contract suite runs on, built lazily by name.

``make_store`` is parametrized over ``BACKENDS``; a backend that cannot be built (a service that
is absent) skips only its own cases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from emitflow.store import MemoryStore, Store
from emitflow.store.sqlite import SqliteStore
from tests.contract.stores import (
    BACKENDS,
    START,
    CountingIds,
    ManualClock,
    PostgresSchema,
    postgres_schema,
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def memory_factory(clock: ManualClock) -> Callable[[], Store]:
    return lambda: MemoryStore(clock=clock, ids=CountingIds())


@pytest.fixture
def sqlite_factory(clock: ManualClock, tmp_path: Path) -> Callable[[], Store]:
    return lambda: SqliteStore(tmp_path / "db" / "store.db", clock=clock, ids=CountingIds())


@pytest.fixture
async def pg_schema() -> AsyncIterator[PostgresSchema]:
    """A fresh schema of the test database for one test, dropped after it (skips, or fails
    under ``EMITFLOW_REQUIRE_SERVICES=1``, when PostgreSQL is not reachable)."""
    async with postgres_schema() as schema:
        yield schema


@pytest.fixture
def postgres_factory(clock: ManualClock, pg_schema: PostgresSchema) -> Callable[[], Store]:
    return lambda: pg_schema.store(clock=clock, ids=CountingIds())


@pytest.fixture(params=BACKENDS)
def make_store(request: pytest.FixtureRequest) -> Callable[[], Store]:
    factory: Callable[[], Store] = request.getfixturevalue(f"{request.param}_factory")
    return factory


@pytest.fixture
async def store(make_store: Callable[[], Store]) -> AsyncIterator[Store]:
    async with make_store() as opened:
        yield opened
