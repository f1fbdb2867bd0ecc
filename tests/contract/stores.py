"""What the store contract suites share: the backends' names, a settable clock, counting ids,
and a throwaway PostgreSQL schema per test."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from emitflow.clock import Clock, VirtualClock
from emitflow.ids import IdFactory
from emitflow.store.base import Store

__all__ = [
    "BACKENDS",
    "POSTGRES_URL",
    "START",
    "CountingIds",
    "ManualClock",
    "PostgresSchema",
    "postgres_schema",
]

START = datetime(2026, 1, 1, tzinfo=UTC)
BACKENDS = ["memory", "sqlite", "postgres"]
#: The database the PostgreSQL tests make their schemas in.
POSTGRES_URL = os.environ.get(
    "EMITFLOW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


class ManualClock(VirtualClock):
    """A virtual clock that can also be set back, as a wall clock sometimes is."""

    def set(self, moment: datetime) -> None:
        """Jump to ``moment``, backwards or forwards."""
        self.advance((moment - self.now()).total_seconds())


class CountingIds:
    """Ids ``<prefix>_0001``, ``<prefix>_0002``… in call order."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}_{self.count:04d}"


@dataclass(frozen=True)
class PostgresSchema:
    """One test's schema: ``url`` puts a store in it (through ``search_path``)."""

    name: str
    base_url: str

    @property
    def url(self) -> str:
        """The store URL of this schema."""
        joiner = "&" if "?" in self.base_url else "?"
        return f"{self.base_url}{joiner}search_path={self.name}&application_name={self.name}"

    def store(self, *, clock: Clock, ids: IdFactory, max_connections: int = 4) -> Store:
        """A ``PostgresStore`` in this schema, not yet open (imported here, so that a machine
        without asyncpg still collects the suite)."""
        from emitflow.store.postgres import PostgresStore

        return PostgresStore(self.url, clock=clock, ids=ids, max_connections=max_connections)


@asynccontextmanager
async def postgres_schema() -> AsyncIterator[PostgresSchema]:
    """A fresh schema ``t_<random>`` in the test database, dropped on the way out."""
    import pytest

    from tests.conftest import require_service, services_required

    parts = urlsplit(POSTGRES_URL)
    require_service("postgres", parts.hostname or "127.0.0.1", parts.port or 5432)
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - the postgres extra is part of the test install
        reason = 'asyncpg is not installed: pip install -e ".[postgres]"'
        if services_required():
            pytest.fail(reason)
        pytest.skip(reason)

    name = f"t_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        await admin.execute(f"CREATE SCHEMA {name}")
        try:
            yield PostgresSchema(name, POSTGRES_URL)
        finally:
            await admin.execute(f"DROP SCHEMA {name} CASCADE")
    finally:
        await admin.close()
