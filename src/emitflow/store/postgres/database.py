"""The PostgreSQL database under ``PostgresStore``: the pool, transactions, errors, migrations.

Every store operation is one transaction on one pooled connection (``transaction``), so it
happens entirely or not at all; a caller cancelled while it runs leaves it rolled back, or
committed if the COMMIT was already sent. asyncpg's pool replaces a connection that broke (the
server restarted, an administrator ended the session): the operation that met the break fails
with ``StoreUnavailableError`` and the next one gets a fresh connection.

Migrations are the numbered files of ``store/sql/postgres``, each applied in its own
transaction and recorded in ``schema_migrations``, under an advisory lock of the schema
(``pg_advisory_lock``): several processes starting at once apply each migration once, and the
others wait for it and then find nothing to do.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from importlib import resources
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from emitflow.errors import StoreError, StoreUnavailableError
from emitflow.store.queries import queries

__all__ = [
    "DRIVER_ERRORS",
    "Migration",
    "PostgresDatabase",
    "migrations",
    "redacted",
    "status_count",
    "store_error",
]

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")
_NOT_OPEN = "the store is not open; use 'async with store:' or 'await store.open()'"

# Errors that say the server or the connection is gone, not that the request is wrong.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    ConnectionError,
    asyncpg.exceptions.InterfaceError,
    # "cannot switch to state …; another operation is in progress": a connection the server
    # ended (a restart) while an operation was on it; the pool replaces it.
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.DiskFullError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.QueryCanceledError,
)
DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    *_UNAVAILABLE,
    asyncpg.exceptions.PostgresError,
)


def redacted(url: str) -> str:
    """The URL without its password, fit for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def store_error(exc: BaseException, where: str) -> StoreError:
    """The emitflow error for a driver error on the store at ``where`` (a redacted URL)."""
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, _UNAVAILABLE):
        cause = f"{type(exc).__name__}: {exc}"
        return StoreUnavailableError(
            f"the postgresql store at {where} cannot serve now: {cause}; the connection is "
            "replaced on the next operation: check that the server is up, then try again",
            path=where,
            cause=cause,
        )
    return StoreError(f"postgresql store {where}: {type(exc).__name__}: {exc}")


class Migration:
    """One numbered SQL file of ``emitflow/store/sql/postgres``."""

    __slots__ = ("name", "sql", "version")

    def __init__(self, version: int, name: str, sql: str) -> None:
        self.version = version
        self.name = name
        self.sql = sql

    @property
    def label(self) -> str:
        """``0001_init``: how ``migrate`` names it."""
        return f"{self.version:04d}_{self.name}"


def migrations() -> list[Migration]:
    """The packaged PostgreSQL migrations in version order."""
    folder = resources.files("emitflow.store").joinpath("sql", "postgres")
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    for earlier, later in itertools.pairwise(found):
        if earlier.version == later.version:
            raise StoreError(
                f"migrations {earlier.label} and {later.label} share a number: renumber one"
            )
    return found


class PostgresDatabase:
    """The connection pool of one PostgreSQL database (and schema) and its transactions."""

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        server_settings: Mapping[str, str] | None = None,
    ) -> None:
        self.url = url
        self.where = redacted(url)
        self._min_size = min_size
        self._max_size = max_size
        self._settings = dict(server_settings or {})
        self._pool: asyncpg.Pool | None = None

    @property
    def is_open(self) -> bool:
        """Whether ``open`` has connected (and ``close`` not yet undone it)."""
        return self._pool is not None

    async def connect(self) -> asyncpg.Connection:
        """One connection outside the pool (migrations of an unopened store, the listener)."""
        try:
            return await asyncpg.connect(self.url, server_settings=self._settings or None)
        except DRIVER_ERRORS as exc:
            raise StoreUnavailableError(
                f"cannot connect to the postgresql store at {self.where}: "
                f"{type(exc).__name__}: {exc}; check the URL and that the server is up",
                path=self.where,
                cause=str(exc),
            ) from exc

    async def open(self, now_us: int) -> list[str]:
        """Apply the pending migrations, then open the pool; the migrations applied."""
        if self._pool is not None:
            return []
        applied = await self.migrate(now_us)
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=self._min_size,
                max_size=self._max_size,
                server_settings=self._settings or None,
                reset=_keep_session,
            )
        except DRIVER_ERRORS as exc:
            raise store_error(exc, self.where) from exc
        return applied

    async def close(self) -> None:
        """Close the pool; safe to call twice."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    @asynccontextmanager
    async def transaction(self, *, snapshot: bool = False) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection inside one transaction: committed if the block ends, rolled
        back if it raises; driver errors become ``StoreError``. ``snapshot``: a read-only
        transaction whose statements all read one committed state (REPEATABLE READ)."""
        if self._pool is None:
            raise StoreError(_NOT_OPEN)
        isolation = "repeatable_read" if snapshot else None
        try:
            async with (
                self._pool.acquire() as conn,
                conn.transaction(isolation=isolation, readonly=snapshot),
            ):
                yield conn
        except DRIVER_ERRORS as exc:
            raise store_error(exc, self.where) from exc

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection for one statement, which is its own transaction (a read has
        its own snapshot; a write commits when it returns): one round trip, where a block of
        ``transaction`` takes three (BEGIN, the statement, COMMIT)."""
        if self._pool is None:
            raise StoreError(_NOT_OPEN)
        try:
            async with self._pool.acquire() as conn:
                yield conn
        except DRIVER_ERRORS as exc:
            raise store_error(exc, self.where) from exc

    async def migrate(self, now_us: int) -> list[str]:
        """Apply the migrations the schema lacks, each in its own transaction, under the
        schema's advisory lock; the names applied. ``StoreError`` if the schema is newer."""
        conn = await self.connect()
        try:
            return await _migrate(conn, self.where, now_us)
        except DRIVER_ERRORS as exc:
            raise store_error(exc, self.where) from exc
        finally:
            await conn.close()


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a connection going back to the pool needs beyond asyncpg's own rollback of an
    unfinished transaction: nothing. Store operations leave no session state (no LISTEN, no
    SET, only transaction-scoped advisory locks), so the default reset query (``RESET ALL``,
    ``UNLISTEN *``…) would be one more round trip per operation for nothing."""


async def _migrate(conn: asyncpg.Connection, where: str, now_us: int) -> list[str]:
    q = queries("postgres")
    key = await conn.fetchval(q["migration_lock_key"])
    await conn.execute(q["lock_migrations"], key)
    try:
        await conn.execute(q["create_schema_migrations"])
        known = migrations()
        newest = known[-1].version if known else 0
        current = await conn.fetchval(q["schema_version"])
        if current > newest:
            raise StoreError(
                f"the postgresql store at {where} has schema version {current}, newer than "
                f"this emitflow knows ({newest}); upgrade emitflow (every process on one "
                "database runs the same version)"
            )
        applied = []
        for migration in known:
            if migration.version <= current:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    q["record_migration"],
                    migration.version,
                    migration.name,
                    now_us,
                )
            log.info(
                "applied store migration",
                extra={"version": migration.version, "migration": migration.name},
            )
            applied.append(migration.label)
        return applied
    finally:
        if not conn.is_closed():
            await conn.execute(q["unlock_migrations"], key)


def status_count(status: str) -> int:
    """The row count of a command status such as ``"DELETE 3"`` or ``"INSERT 0 2"``."""
    tail = status.rpartition(" ")[2]
    return int(tail) if tail.isdigit() else 0
