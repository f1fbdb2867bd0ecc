"""The SQLite store's files: private modes, no memory mapping, and failures that say why.

The disk-full case here uses SQLite's ``PRAGMA max_page_count`` as a stand-in for a full disk
(SQLite answers SQLITE_FULL either way); ``tests/e2e/test_store_unavailable.py`` fills a real
tmpfs under a running server.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from emitflow.errors import StoreError, StoreUnavailableError
from emitflow.store.sqlite.database import SqliteDatabase
from emitflow.store.sqlite.failures import store_error


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_store_is_private_to_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "home" / "nested" / "emitflow.db"
    db = SqliteDatabase(str(path))
    await db.open(0)
    try:
        await db.write(lambda conn: conn.execute("CREATE TABLE t (x)"))
        for name in ("emitflow.db", "emitflow.db-wal", "emitflow.db-shm"):
            assert _mode(path.parent / name) == 0o600, name
        assert _mode(path.parent) == 0o700
        assert _mode(path.parent.parent) == 0o700
    finally:
        await db.close()


async def test_an_existing_folder_keeps_its_mode(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    db = SqliteDatabase(str(tmp_path / "emitflow.db"))
    await db.open(0)
    await db.close()
    assert _mode(tmp_path) == 0o755
    assert _mode(tmp_path / "emitflow.db") == 0o600


async def test_the_database_is_never_memory_mapped(tmp_path: Path) -> None:
    db = SqliteDatabase(str(tmp_path / "emitflow.db"))
    await db.open(0)
    try:
        read = await db.read(lambda conn: conn.execute("PRAGMA mmap_size").fetchone()[0])
        written = await db.write(lambda conn: conn.execute("PRAGMA mmap_size").fetchone()[0])
    finally:
        await db.close()
    assert (read, written) == (0, 0)


async def test_a_full_database_is_unavailable_naming_path_and_cause(tmp_path: Path) -> None:
    path = tmp_path / "emitflow.db"
    db = SqliteDatabase(str(path))
    await db.open(0)
    try:
        pages = await db.write(lambda conn: conn.execute("PRAGMA page_count").fetchone()[0])
        await db.write(lambda conn: conn.execute(f"PRAGMA max_page_count = {pages + 2}"))
        await db.write(lambda conn: conn.execute("CREATE TABLE blob (b)"))

        def fill(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO blob VALUES (?)", (b"x" * 1_000_000,))

        with pytest.raises(StoreUnavailableError) as caught:
            await db.write(fill)
        assert str(path) in str(caught.value)
        assert "full" in caught.value.cause
        # The store goes on: a small write still fits, reads still work.
        await db.write(lambda conn: conn.execute("INSERT INTO blob VALUES (1)"))
        count = await db.read(lambda conn: conn.execute("SELECT count(*) FROM blob").fetchone())
        assert count[0] == 1
    finally:
        await db.close()


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        (13, "full"),
        (8, "read-only"),
        (8 | (5 << 8), "read-only"),  # SQLITE_READONLY_DBMOVED, an extended code
        (10, "I/O error"),
        (5, "lock"),
    ],
)
def test_conditions_of_the_machine_are_unavailable(code: int, cause: str) -> None:
    exc = sqlite3.OperationalError("boom")
    exc.sqlite_errorcode = code
    error = store_error(exc, "/data/emitflow.db")
    assert isinstance(error, StoreUnavailableError)
    assert cause in error.cause
    assert "/data/emitflow.db" in str(error)


def test_other_failures_stay_store_errors() -> None:
    exc = sqlite3.IntegrityError("UNIQUE constraint failed")
    exc.sqlite_errorcode = 2067
    error = store_error(exc, "/data/emitflow.db")
    assert type(error) is StoreError
    assert store_error(sqlite3.OperationalError("no code"), "x").__class__ is StoreError
