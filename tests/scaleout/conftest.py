"""Fault tests of several emitflow processes over one PostgreSQL of the tests' own.

The server is started once per session (``private_postgres``) and each test works in a fresh
database of it. Without PostgreSQL's binaries the tests skip with the reason (and fail under
``EMITFLOW_REQUIRE_SERVICES=1``). Every test here is ``slow``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import services_required
from tests.scaleout.cluster import Cluster
from tests.scaleout.postgres import PrivatePostgres, postgres_binaries

_databases = itertools.count(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fault tests start processes and a server: all are ``slow``."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server these tests may restart (never the shared one)."""
    binaries = postgres_binaries()
    if binaries is None:
        reason = "PostgreSQL's initdb and pg_ctl are not under /usr/lib/postgresql/*/bin"
        if services_required():
            pytest.fail(reason + "; EMITFLOW_REQUIRE_SERVICES=1 makes this a failure")
        pytest.skip(reason)
    pytest.importorskip("asyncpg")
    server = PrivatePostgres(binaries)
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def cluster(private_postgres: PrivatePostgres, tmp_path: Path) -> Iterator[Cluster]:
    """A cluster over a fresh database (migrated); its processes are killed at the end."""
    database = f"scaleout_{next(_databases)}"
    url = private_postgres.create_database(database)
    made = Cluster(tmp_path, url)
    made.migrate()
    try:
        yield made
    finally:
        made.close()
        private_postgres.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
