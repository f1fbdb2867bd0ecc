"""The SQLite database under ``SqliteStore``: connection threads, transactions, migrations.

Each connection lives on its own thread, and every store operation is one plain function run
there, inside one transaction (or one savepoint of a group commit), in a single hand-off from
the event loop. That makes an operation atomic by construction (no ``await`` can interleave or
abandon it half-way, even when the caller is cancelled) and costs one thread hand-off instead of
one per statement, which measured about three times the write throughput of
statement-by-statement ``aiosqlite``.

One writer connection serialises every write: SQLite allows one writer at a time anyway, and
queueing in-process is cheaper than ``SQLITE_BUSY`` retries. Writes queued together commit
together, each in its own savepoint (see ``connection``): one commit, and one hand-off
back to the loop, for the whole group. A second, read-only connection serves reads, which WAL
lets run beside a write. ``:memory:`` has one connection for both, since a second one would
open a different, empty database. A small operation may skip the hand-off: ``inline=True``
runs it on the caller's thread when the connection's thread is idle (see ``connection``).
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import sqlite3
from collections.abc import Callable
from functools import partial
from importlib import resources
from pathlib import Path
from typing import TypeVar, cast

from emitflow.errors import StoreError
from emitflow.store.queries import queries
from emitflow.store.sqlite.connection import READ, READ_ONE, WRITE, ConnectionThread
from emitflow.store.sqlite.failures import store_error

__all__ = ["MEMORY", "Migration", "SqliteDatabase", "migrations"]

log = logging.getLogger(__name__)

T = TypeVar("T")
MEMORY = ":memory:"
_MIGRATION_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")

# WAL with synchronous=NORMAL: a commit is durable once it is in the WAL file, which survives a
# crash of the process (kill -9): that is the guarantee emitflow publishes. Only a power loss or
# OS crash can lose the last commits before a checkpoint; FULL would fsync every commit for that,
# costing most of the write throughput, so it is a documented trade-off.
#
# mmap_size = 0: the database file is read with read(), never memory-mapped, so a file that
# becomes unwritable or a disk that fills is an error code (a 503 at the API), not a SIGBUS
# that kills the process. (The -shm index is mapped by SQLite in WAL mode, which allocates its
# pages with write() first for that very reason.)
_WRITER_PRAGMAS = (
    "PRAGMA mmap_size = 0",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA busy_timeout = 5000",
    # 16 MiB of pages (SQLite's default is 2): the writer's cache is never emptied by another
    # connection's commit, so it keeps the tables' hot pages, and inline reads use it too.
    "PRAGMA cache_size = -16384",
)
_READER_PRAGMAS = ("PRAGMA mmap_size = 0", "PRAGMA busy_timeout = 5000", "PRAGMA query_only = ON")


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
    found.sort(key=lambda m: m.version)
    for earlier, later in itertools.pairwise(found):
        if earlier.version == later.version:
            # Only the highest applied version is recorded: a second file with the same number
            # would be skipped silently on every database that has the first.
            raise StoreError(
                f"migrations {earlier.version:04d}_{earlier.name} and "
                f"{later.version:04d}_{later.name} share a number: renumber one"
            )
    return found


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
        self._writer: ConnectionThread | None = None
        self._reader: ConnectionThread | None = None

    async def open(self, now_us: int) -> list[str]:
        """Connect, set up WAL, and apply the migrations not yet applied; their names."""
        if self._writer is not None:
            return []
        try:
            if self.path != MEMORY:
                _private_file(Path(self.path))
            self._writer = ConnectionThread(
                self.path, _WRITER_PRAGMAS, "sqlite-writer", group_commit=True
            )
            applied = await self._writer.call(lambda conn: _migrate(conn, self.path, now_us))
            if self.path == MEMORY:
                self._reader = self._writer
            else:
                self._reader = ConnectionThread(
                    self.path, _READER_PRAGMAS, "sqlite-reader", group_commit=False
                )
                await self._reader.call(lambda conn: None)
            return applied
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

    @property
    def is_open(self) -> bool:
        """Whether ``open`` has connected (and ``close`` not yet undone it)."""
        return self._writer is not None

    @property
    def commits(self) -> int:
        """Write transactions committed so far (each may hold many writes)."""
        return 0 if self._writer is None else self._writer.commits

    @property
    def checkpoints(self) -> int:
        """WAL checkpoints the writer thread ran for inline commits."""
        return 0 if self._writer is None else self._writer.checkpoints

    async def write(self, fn: Callable[[sqlite3.Connection], T], *, inline: bool = False) -> T:
        """Run ``fn`` as one write: committed if it returns (once this returns), undone if not.

        It may share its transaction with other writes queued at the same time, inside a
        savepoint of its own, so its failure undoes only its own work. ``inline`` is for an
        operation of a few statements: run at once on this thread if the writer is idle.
        """
        return await self._call(self._writer, fn, WRITE, inline)

    async def read(
        self,
        fn: Callable[[sqlite3.Connection], T],
        *,
        inline: bool = False,
        one_statement: bool = False,
    ) -> T:
        """Run ``fn`` in one read transaction: everything it reads is one committed state.

        ``one_statement``: ``fn`` runs a single statement, which reads one committed state by
        itself, so inline it runs without BEGIN and ROLLBACK around it. An inline read runs on
        the writer's connection when that is idle: its page cache stays warm (a commit of the
        writer empties the reader's), so the read costs about half.
        """
        kind = READ_ONE if one_statement else READ
        writer = self._writer
        if inline and writer is not None and writer is not self._reader:
            try:
                done, value = writer.try_now(fn, kind)
            except sqlite3.Error as exc:
                raise store_error(exc, self.path) from exc
            if done:
                return cast(T, value)
        return await self._call(self._reader, fn, kind, inline)

    async def _call(
        self,
        conn: ConnectionThread | None,
        fn: Callable[[sqlite3.Connection], T],
        kind: int,
        inline: bool,
    ) -> T:
        if conn is None:
            raise StoreError(
                "the store is not open; use 'async with store:' or 'await store.open()'"
            )
        try:
            return await conn.call(fn, kind, inline=inline)
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc


def _private_file(path: Path) -> None:
    """Create the store's folders (0700) and file (0600) if missing, readable by the owner only.

    SQLite gives the -wal and -shm files the mode of the database file, so they are 0600 too.
    Folders and files that already exist keep their modes (the folder may be a shared one).
    """
    missing = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)  # mkdir's mode is narrowed by the umask, never widened; be exact
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        path.chmod(0o600)


def _migrate(conn: sqlite3.Connection, path: str, now_us: int) -> list[str]:
    conn.execute(queries("sqlite")["create_schema_migrations"])
    known = migrations()
    newest = known[-1].version if known else 0
    applied = conn.execute(queries("sqlite")["schema_version"]).fetchone()[0] or 0
    if applied > newest:
        raise StoreError(
            f"the sqlite store at {path!r} has schema version {applied}, newer than this "
            f"emitflow knows ({newest}); upgrade emitflow"
        )
    return [
        f"{migration.version:04d}_{migration.name}"
        for migration in known
        if _transaction(
            "BEGIN IMMEDIATE", partial(_apply, migration=migration, now_us=now_us), commit=True
        )(conn)
    ]


def _apply(conn: sqlite3.Connection, *, migration: Migration, now_us: int) -> bool:
    # Checked inside the write transaction: another process may have applied it meanwhile.
    done = conn.execute(queries("sqlite")["migration_applied"], (migration.version,)).fetchone()
    if done is not None:
        return False
    for statement in migration.statements():
        conn.execute(statement)
    conn.execute(queries("sqlite")["record_migration"], (migration.version, migration.name, now_us))
    log.info(
        "applied store migration",
        extra={"version": migration.version, "migration": migration.name},
    )
    return True
