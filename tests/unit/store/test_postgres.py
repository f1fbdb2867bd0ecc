"""The PostgreSQL backend's pieces that need no server: its queries, migrations and URLs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from emitflow.errors import ConfigurationError, StoreError, StoreUnavailableError
from emitflow.store.postgres import PostgresStore
from emitflow.store.postgres.database import migrations, redacted, status_count, store_error
from emitflow.store.queries import queries

PACKAGE = Path(__file__).resolve().parents[3] / "src" / "emitflow" / "store" / "postgres"


def test_every_query_the_backend_names_is_in_the_sql_files() -> None:
    named = queries("postgres")
    used = {
        name
        for module in PACKAGE.glob("*.py")
        for name in re.findall(r'(?:Q|q|queries\("postgres"\))\["(\w+)"\]', module.read_text())
    }
    assert used and used <= set(named)
    assert set(named) - used == set(), "a query no code uses"


def test_a_missing_query_names_the_ones_there_are() -> None:
    with pytest.raises(StoreError, match=r"no postgres query named 'nope'.*claim_runs"):
        queries("postgres")["nope"]


def test_migrations_are_numbered_from_one() -> None:
    found = migrations()
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    assert found[0].label == "0001_init"


def test_claims_skip_locked_rows() -> None:
    named = queries("postgres")
    for name in ("claim_runs", "claim_outbox", "claim_waits", "claim_schedules"):
        assert "FOR UPDATE SKIP LOCKED" in named[name], name


def test_urls_lose_their_password_in_messages() -> None:
    assert redacted("postgresql://u:secret@h:5/db?x=1") == "postgresql://u:***@h:5/db?x=1"
    assert redacted("postgresql://u@h/db") == "postgresql://u@h/db"
    store = PostgresStore("postgresql://u:secret@h/db")
    assert "secret" not in store.url
    with pytest.raises(ConfigurationError, match="not a PostgreSQL URL"):
        PostgresStore("mysql://u:secret@h/db")


def test_driver_errors_become_store_errors() -> None:
    assert status_count("DELETE 3") == 3 and status_count("INSERT 0 2") == 2
    assert status_count("BEGIN") == 0
    lost = store_error(ConnectionResetError("reset by peer"), "postgresql://h/db")
    assert isinstance(lost, StoreUnavailableError) and "h/db" in str(lost)
    assert not isinstance(store_error(ValueError("x"), "w"), StoreUnavailableError)


async def test_a_store_not_open_refuses_work() -> None:
    store = PostgresStore("postgresql://postgres@127.0.0.1:1/none")
    with pytest.raises(StoreError, match="not open"):
        await store.get_run("r_1")
    await store.close()


async def test_a_server_not_there_is_unavailable_naming_the_fix() -> None:
    store = PostgresStore("postgresql://postgres:pw@127.0.0.1:1/none")
    with pytest.raises(StoreUnavailableError, match=r"cannot connect.*server is up") as caught:
        await store.open()
    assert "pw" not in str(caught.value)


def test_the_pool_is_sized_from_the_url() -> None:
    store = PostgresStore("postgresql://u@h/db?pool_max=3&search_path=s&pool_min=2")
    assert store.url == "postgresql://u@h/db?search_path=s"
    for bad in ("pool_max=0", "pool_min=x", "pool_min=5&pool_max=2"):
        with pytest.raises(ConfigurationError, match="pool_m"):
            PostgresStore(f"postgresql://u@h/db?{bad}")
