"""The SQLite database under ``SqliteStore``: connection threads, transactions, migrations.

Each connection lives on its own thread, and every store operation is one plain function run
there, inside one transaction, in a single hand-off from the event loop. That makes a
transaction atomic by construction (no ``await`` can interleave or abandon it half-way, even when
the caller is cancelled) and costs one thread hand-off instead of one per statement, which
measured about three times the write throughput of statement-by-statement ``aiosqlite``.

One writer connection serialises every write: SQLite allows one writer at a time anyway, and
queueing in-process is cheaper than ``SQLITE_BUSY`` retries. A second, read-only connection
serves reads, which WAL lets run beside a write. ``:memory:`` has one connection for both,
since a second one would open a different, empty database.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from importlib import resources
from pathlib import Path
from typing import TypeVar

from emitflow.errors import StoreError

__all__ = ["MEMORY", "Migration", "SqliteDatabase", "migrations"]

log = logging.getLogger(__name__)

T = TypeVar("T")
MEMORY = ":memory:"
_MIGRATION_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")

# WAL with synchronous=NORMAL: a commit is durable once it is in the WAL file, which survives a
# crash of the process (kill -9): that is the guarantee emitflow publishes. Only a power loss or
# OS crash can lose the last commits before a checkpoint; FULL would fsync every commit for that,
# costing most of the write throughput, so it is a documented trade-off.
_WRITER_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA busy_timeout = 5000",
)
_READER_PRAGMAS = ("PRAGMA busy_timeout = 5000", "PRAGMA query_only = ON")


class Migration:
    """One numbered SQL file of ``emitflow/store/sql/sqlite``."""

    __slots__ = ("name", "sql", "version")

    def __init__(self, version: int, name: str, sql: str) -> None:
        self.version = version
        self.name = name
        self.sql = sql

    def statements(self) -> list[str]:
        """The file's statements, split where SQLite says one is complete (triggers included)."""
        found: list[str] = []
        buffer = ""
        for line in self.sql.splitlines(keepends=True):
            buffer += line
            if sqlite3.complete_statement(buffer):
                found.append(buffer.strip())
                buffer = ""
        leftover = [
            ln for ln in buffer.splitlines() if ln.strip() and not ln.strip().startswith("--")
        ]
        if leftover:
            raise StoreError(f"migration {self.version:04d}_{self.name}: unterminated statement")
        return found


def migrations() -> list[Migration]:
    """The packaged migrations in version order."""
    folder = resources.files("emitflow.store").joinpath("sql", "sqlite")
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


class _Connection:
    """One sqlite3 connection and the single thread that uses it."""

    def __init__(self, path: str, pragmas: Sequence[str], name: str) -> None:
        self._path = path
        self._pragmas = pragmas
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"emitflow-{name}")
        self._conn: sqlite3.Connection | None = None

    async def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` with the connection on its thread."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._run, fn)

    def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._conn is None:
            # isolation_level=None: BEGIN/COMMIT are ours, not sqlite3's implicit ones.
            self._conn = sqlite3.connect(self._path, isolation_level=None)
            self._conn.row_factory = sqlite3.Row
            for pragma in self._pragmas:
                self._conn.execute(pragma)
        return fn(self._conn)

    async def close(self) -> None:
        """Close the connection on its thread, then let the thread end."""
        try:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._close)
        finally:
            self._thread.shutdown(wait=False)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _transaction(
    begin: str, fn: Callable[[sqlite3.Connection], T], *, commit: bool
) -> Callable[[sqlite3.Connection], T]:
    """``fn`` wrapped in BEGIN … COMMIT (or ROLLBACK when reading, or when it raises)."""

    def run(conn: sqlite3.Connection) -> T:
        conn.execute(begin)
        try:
            result = fn(conn)
            conn.execute("COMMIT" if commit else "ROLLBACK")
        except BaseException:
            # Some errors (a full disk) already rolled the transaction back.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    return run


class SqliteDatabase:
    """The connections to one SQLite file (or ``:memory:``) and how transactions use them."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._writer: _Connection | None = None
        self._reader: _Connection | None = None

    async def open(self, now_us: int) -> None:
        """Connect, set up WAL, and apply the migrations not yet applied."""
        if self._writer is not None:
            return
        try:
            if self.path != MEMORY:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._writer = _Connection(self.path, _WRITER_PRAGMAS, "sqlite-writer")
            await self._writer.call(lambda conn: _migrate(conn, self.path, now_us))
            if self.path == MEMORY:
                self._reader = self._writer
            else:
                self._reader = _Connection(self.path, _READER_PRAGMAS, "sqlite-reader")
                await self._reader.call(lambda conn: None)
        except (sqlite3.Error, OSError) as exc:
            await self.close()
            raise StoreError(f"cannot open the sqlite store at {self.path!r}: {exc}") from exc
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Close both connections; safe to call twice."""
        reader, writer = self._reader, self._writer
        self._reader = self._writer = None
        if reader is not None and reader is not writer:
            await reader.close()
        if writer is not None:
            await writer.close()

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one write transaction: committed if it returns, rolled back if not."""
        return await self._call(self._writer, _transaction("BEGIN IMMEDIATE", fn, commit=True))

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one read transaction: everything it reads is one committed state."""
        return await self._call(self._reader, _transaction("BEGIN", fn, commit=False))

    async def _call(self, conn: _Connection | None, fn: Callable[[sqlite3.Connection], T]) -> T:
        if conn is None:
            raise StoreError(
                "the store is not open; use 'async with store:' or 'await store.open()'"
            )
        try:
            return await conn.call(fn)
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite store {self.path!r}: {exc}") from exc


def _migrate(conn: sqlite3.Connection, path: str, now_us: int) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
    )
    known = migrations()
    newest = known[-1].version if known else 0
    applied = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] or 0
    if applied > newest:
        raise StoreError(
            f"the sqlite store at {path!r} has schema version {applied}, newer than this "
            f"emitflow knows ({newest}); upgrade emitflow"
        )
    for migration in known:
        _transaction(
            "BEGIN IMMEDIATE", partial(_apply, migration=migration, now_us=now_us), commit=True
        )(conn)


def _apply(conn: sqlite3.Connection, *, migration: Migration, now_us: int) -> None:
    # Checked inside the write transaction: another process may have applied it meanwhile.
    done = conn.execute(
        "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
    ).fetchone()
    if done is not None:
        return
    for statement in migration.statements():
        conn.execute(statement)
    conn.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        (migration.version, migration.name, now_us),
    )
    log.info(
        "applied store migration",
        extra={"version": migration.version, "migration": migration.name},
    )
