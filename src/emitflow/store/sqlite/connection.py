"""The threads under ``SqliteDatabase``: one per sqlite3 connection, fed by a queue.

A caller puts an operation (a plain function of the connection) on the thread's queue and awaits
an asyncio future; the thread runs whatever has queued up and then settles the futures of the
whole batch with one ``call_soon_threadsafe``. That is the hand-off, paid once per batch instead
of once per operation: with ``run_in_executor`` every operation cost a thread wake-up, a
``concurrent.futures.Future`` wrapped in an asyncio one, and a loop wake-up of its own. The
asyncio future per operation stays: it is a small C object and the only thing a caller can
await; what mattered were the wake-ups.

The writer thread commits in groups. Everything queued when it looks (up to ``MAX_BATCH_OPS``
operations or ``MAX_BATCH_SECONDS`` of work, so no caller waits long behind the others) runs in
ONE transaction, each operation after the first inside its own ``SAVEPOINT``: an operation
that raises is rolled back to its savepoint, which undoes exactly its own statements, and its
caller gets the error; the others carry on and commit together. (The first needs no savepoint:
if it fails, the transaction holds nothing else, so it is rolled back whole and the batch goes
on in a new one.) Futures are settled only after that COMMIT, so an
awaited write is committed, as before; one commit (one WAL append) now serves many writes.

Some failures (a full disk, an I/O error) end the whole transaction, not just a statement. Then
the operations already run in it are lost, not committed: they are run again in a new
transaction (they are plain functions of the database, and nothing of theirs was committed), and
only the operation that failed reports the error. Each retry drops at least that operation, so
it ends. Operations therefore never run BEGIN, COMMIT or ROLLBACK themselves: the store's own
functions are the only operations, and none does.

A small operation may instead run at once on the caller's thread (``call(..., inline=True)``),
in a transaction of its own, when the connection's thread is idle: nothing queued, nothing
running, no caller waiting for a result. A hand-off costs two thread switches and the GIL
passed back and forth, more than the few statements of a run's start or end (the CPU of a
durable run went 47% to the event loop, 28% to the writer thread and 20% to the reader). The
connection is then used by two threads, one at a time: a lock that the thread holds while it
runs a batch, and that the inline path only ever tries (it never waits for it), keeps them
apart. The inline path commits before it returns, like the thread, and never waits for a lock
another process holds: while the writer's thread is idle its connection has ``busy_timeout``
0, so a busy database sends the operation to the thread's queue. The thread sets the store's
``busy_timeout`` back for each batch it runs, and there a write waits for the lock as before.
Likewise SQLite's WAL auto-checkpoint (copying the log back into the database file, with an
fsync, every ~1,000 pages) is on only while the thread runs a batch, so an inline commit never
pays it on the event loop; after ``CHECKPOINT_EVERY`` inline commits the thread is handed a
checkpoint of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from queue import Empty, SimpleQueue
from typing import Any, Generic, TypeVar, cast

__all__ = [
    "CHECKPOINT_EVERY",
    "MAX_BATCH_OPS",
    "MAX_BATCH_SECONDS",
    "RAW",
    "READ",
    "READ_ONE",
    "WRITE",
    "ConnectionThread",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: At most this many operations share one write transaction...
MAX_BATCH_OPS = 256
#: ...or this much work: once a batch has run this long, it commits and settles its callers.
MAX_BATCH_SECONDS = 0.005
#: After this many inline commits (a few pages each) the writer thread checkpoints the WAL.
CHECKPOINT_EVERY = 128
#: SQLite's default auto-checkpoint, in pages, kept for the thread's own commits.
_AUTOCHECKPOINT_PAGES = 1000

# How an operation is run: in a transaction that commits, one that is rolled back (reads), or
# bare (migrations and lifecycle, which manage their own transactions). A read of ONE statement
# is a read that, run inline, needs no transaction: a statement reads one committed state.
WRITE, READ, RAW, READ_ONE = 0, 1, 2, 3
_READS = (READ, READ_ONE)


class _Op(Generic[T]):
    """One queued operation, its caller's future, and what it came to."""

    __slots__ = ("error", "fn", "future", "kind", "last", "loop", "value")

    def __init__(
        self,
        fn: Callable[[sqlite3.Connection], T],
        kind: int,
        loop: asyncio.AbstractEventLoop | None,
        *,
        last: bool = False,
    ) -> None:
        self.fn = fn
        self.kind = kind
        self.loop = cast(asyncio.AbstractEventLoop, loop)  # None: run inline, never settled
        self.future: asyncio.Future[T] = cast(
            "asyncio.Future[T]", None if loop is None else loop.create_future()
        )
        self.last = last  # the thread ends after this one (closing)
        self.value: T | None = None
        self.error: BaseException | None = None

    def run(self, conn: sqlite3.Connection) -> bool:
        """Call the function; ``True`` if it returned."""
        try:
            self.value = self.fn(conn)
        except BaseException as exc:  # the caller's to handle, whatever it is
            self.fail(exc)
            return False
        return True

    def fail(self, exc: BaseException) -> None:
        """End with ``exc`` (a later commit failure cannot override it)."""
        self.value, self.error = None, exc

    def reset(self) -> None:
        """Forget a result whose transaction was lost, to run again."""
        self.value, self.error = None, None

    def settle(self) -> None:
        """Hand the outcome to the caller (on its loop), unless it stopped waiting."""
        if self.future.done():  # cancelled meanwhile
            return
        if self.error is not None:
            self.future.set_exception(self.error)
        else:
            self.future.set_result(cast(T, self.value))


class ConnectionThread:
    """One sqlite3 connection and the single thread that uses it.

    ``group_commit`` (the writer): queued operations share one transaction, a savepoint each.
    Otherwise (the reader) each operation has a transaction of its own, and only the settling
    of the callers is batched.
    """

    def __init__(self, path: str, pragmas: Sequence[str], name: str, *, group_commit: bool) -> None:
        self._path = path
        self._pragmas = pragmas
        self._group = group_commit
        self._queue: SimpleQueue[_Op[Any]] = SimpleQueue()
        self._backlog: deque[_Op[Any]] = deque()  # run before the queue (retries, a held RAW)
        self._conn: sqlite3.Connection | None = None
        self._thread = threading.Thread(target=self._serve, name=f"emitflow-{name}", daemon=True)
        self._started = False
        self._closed = False
        self._broken: BaseException | None = None
        self._inflight: list[_Op[Any]] = []  # the batch being run, failed if the thread fails
        # Held by the thread while it uses the connection; the inline path only tries it.
        self._lock = threading.Lock()
        # Operations handed to the thread whose callers have not been settled yet.
        self._waiting: set[_Op[Any]] = set()
        self._busy_ms = _busy_timeout_ms(pragmas)
        #: Transactions committed (a test and a benchmark read it: writes per commit).
        self.commits = 0
        #: WAL checkpoints the thread ran for inline commits (a test reads it).
        self.checkpoints = 0
        self._inline_commits = 0  # since the last checkpoint handed to the thread

    async def call(
        self, fn: Callable[[sqlite3.Connection], T], kind: int = RAW, *, inline: bool = False
    ) -> T:
        """Run ``fn`` with the connection on its thread (``WRITE``, ``READ`` or ``RAW``); with
        ``inline``, at once on this thread instead if the connection's thread is idle."""
        if inline and kind != RAW:
            done, value = self.try_now(fn, kind)
            if done:
                return cast(T, value)
        return await self._submit(_Op(fn, kind, asyncio.get_running_loop()))

    def try_now(self, fn: Callable[[sqlite3.Connection], T], kind: int) -> tuple[bool, T | None]:
        """``(True, result)`` of ``fn`` run here and now, in a transaction of its own, if the
        connection's thread is idle; ``(False, None)`` if not (nothing was run)."""
        op = _Op(fn, kind, None)
        if not self._run_now(op):
            return False, None
        if op.error is not None:
            raise op.error
        return True, op.value

    def _run_now(self, op: _Op[Any]) -> bool:
        """Run ``op`` in a transaction of its own here and now; ``False`` if the connection's
        thread is not idle (or the database is busy), and ``op`` is still to be queued."""
        conn = self._conn
        if conn is None or self._waiting or self._closed or self._broken is not None:
            return False
        if not self._lock.acquire(blocking=False):
            return False
        try:
            if self._waiting or conn.in_transaction:
                return False
            write = op.kind == WRITE
            if op.kind == READ_ONE:
                op.run(conn)
                return True
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode == sqlite3.SQLITE_BUSY:
                    return False  # another process holds the database: wait in the queue
                raise
            ok = op.run(conn)
            if conn.in_transaction:
                _end(conn, "COMMIT" if ok and write else "ROLLBACK", (op,))
            if write and op.error is None:
                self.commits += 1
                self._inline_commits += 1
            return True
        finally:
            self._lock.release()
            if self._inline_commits >= CHECKPOINT_EVERY:
                self._checkpoint_soon()

    def _checkpoint_soon(self) -> None:
        """Hand the thread a WAL checkpoint (nobody waits for it; a failure is logged)."""
        self._inline_commits = 0
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not called from a loop: the thread's next batch does it
            return
        op: _Op[Any] = _Op(self._checkpoint, RAW, loop)
        op.future.add_done_callback(_log_failure)
        self._waiting.add(op)
        self._queue.put(op)

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self.checkpoints += 1

    async def close(self) -> None:
        """Close the connection on its thread, after what is queued; the thread ends."""
        if self._closed:
            return
        last = _Op(self._close, RAW, asyncio.get_running_loop(), last=True)
        started, self._closed = self._started, True
        if started and self._broken is None:
            self._queue.put(last)
            await last.future
            # The thread has settled its last operation and returns at once.
            await asyncio.to_thread(self._thread.join)

    async def _submit(self, op: _Op[T]) -> T:
        # sqlite3's own error for a closed connection, so callers translate it like the others.
        if self._closed:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        if self._broken is not None:
            raise sqlite3.ProgrammingError("the connection's thread failed") from self._broken
        if not self._started:
            self._thread.start()
            self._started = True
        self._waiting.add(op)
        self._queue.put(op)
        return await op.future

    # --- on the thread -------------------------------------------------------------------

    def _serve(self) -> None:
        try:
            while True:
                op = self._backlog.popleft() if self._backlog else self._queue.get()
                with self._lock:
                    self._patient(True)
                    if op.kind == RAW:
                        batch = self._inflight = [op]
                        op.run(self._connection())
                    elif self._group:
                        batch = self._group_batch(op)
                    else:
                        batch = self._alone_batch(op)
                    self._patient(False)
                self._deliver(batch)
                self._inflight = []
                if op.last:
                    return
        except BaseException as exc:  # a bug here must not leave callers waiting forever
            log.exception("sqlite connection thread failed")
            self._broken = exc
            self._fail_pending(exc)

    def _patient(self, patient: bool) -> None:
        """The writer waits for another process's lock, and checkpoints, in a batch; never
        inline (while the thread is idle)."""
        if self._group and self._conn is not None:
            self._conn.execute(f"PRAGMA busy_timeout = {self._busy_ms if patient else 0}")
            pages = _AUTOCHECKPOINT_PAGES if patient else 0
            self._conn.execute(f"PRAGMA wal_autocheckpoint = {pages}")

    def _next(self, started: float, count: int) -> _Op[Any] | None:
        """The next queued operation for this batch, or None when the batch should end."""
        if count >= MAX_BATCH_OPS or time.perf_counter() - started >= MAX_BATCH_SECONDS:
            return None
        if self._backlog:
            op = self._backlog[0]
        else:
            try:
                op = self._queue.get_nowait()
            except Empty:
                return None
            self._backlog.appendleft(op)
        if op.kind == RAW:  # lifecycle operations run alone, after this batch
            return None
        return self._backlog.popleft()

    def _alone_batch(self, first: _Op[Any]) -> list[_Op[Any]]:
        conn, started = self._connection(), time.perf_counter()
        ops: list[_Op[Any]] = []
        self._inflight = ops
        op: _Op[Any] | None = first
        while op is not None:
            ops.append(op)
            if not op.future.cancelled() and _alone(conn, op):
                self.commits += 1
            op = self._next(started, len(ops))
        return ops

    def _group_batch(self, first: _Op[Any]) -> list[_Op[Any]]:
        conn, started = self._connection(), time.perf_counter()
        ops: list[_Op[Any]] = []
        held: list[_Op[Any]] = []  # the operations whose work the open transaction holds
        self._inflight = ops
        op: _Op[Any] | None = first
        while op is not None:
            ops.append(op)
            if not op.future.cancelled():  # a caller gone before its turn: skip the work
                if not conn.in_transaction and not _begin(conn, op):
                    break  # the database is locked (busy_timeout passed): the rest wait
                if held:
                    _in_savepoint(conn, op)
                else:
                    _first_in_transaction(conn, op)
                if held and not conn.in_transaction:
                    return self._transaction_lost(ops, held)
                if op.error is None and conn.in_transaction:
                    held.append(op)
            op = self._next(started, len(ops))
        if held:
            _end(conn, "COMMIT", held)
            self.commits += 1
        return ops

    def _transaction_lost(self, ops: list[_Op[Any]], held: list[_Op[Any]]) -> list[_Op[Any]]:
        """The last operation's failure ended the transaction: run the ones it held again."""
        for op in reversed(held):
            op.reset()
            self._backlog.appendleft(op)
        again = {id(op) for op in held}
        return [op for op in ops if id(op) not in again]

    def _deliver(self, ops: list[_Op[Any]]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[_Op[Any]]] = {}
        for op in ops:
            by_loop.setdefault(op.loop, []).append(op)
        for loop, mine in by_loop.items():
            # A closed loop raises RuntimeError: nobody there is waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._settle, mine)

    def _settle(self, ops: Sequence[_Op[Any]]) -> None:
        """Settle the callers (on their loop): the thread is done with these operations."""
        waiting = self._waiting
        for op in ops:
            waiting.discard(op)
            op.settle()

    def _fail_pending(self, exc: BaseException) -> None:
        # Settling skips futures already done, so an operation settled twice is harmless.
        pending = [*self._inflight, *self._backlog]
        while not self._queue.empty():
            pending.append(self._queue.get_nowait())
        for op in pending:
            op.fail(exc)
        self._deliver(pending)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            # isolation_level=None: BEGIN/COMMIT are ours, not sqlite3's implicit ones. Used
            # from the caller's thread too (inline), always under the lock.
            self._conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            self._conn.row_factory = sqlite3.Row
            for pragma in self._pragmas:
                self._conn.execute(pragma)
        return self._conn

    def _close(self, conn: sqlite3.Connection) -> None:
        conn.close()
        self._conn = None


def _log_failure(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("sqlite WAL checkpoint failed: %s", future.exception())


def _busy_timeout_ms(pragmas: Sequence[str]) -> int:
    """The ``busy_timeout`` the pragmas set (SQLite's default, 0, if none)."""
    for pragma in pragmas:
        name, _, value = pragma.partition("=")
        if name.split()[-1].lower() == "busy_timeout":
            return int(value)
    return 0


def _begin(conn: sqlite3.Connection, op: _Op[Any]) -> bool:
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:  # e.g. another process held the lock past busy_timeout
        op.fail(exc)
        return False
    return True


def _first_in_transaction(conn: sqlite3.Connection, op: _Op[Any]) -> None:
    """Run the first operation of a transaction, without a savepoint.

    A savepoint would cost here, not save: SQLite copies each page the savepoint changes that
    the transaction had already changed, and a big first write (a thousand events) measured a
    third slower inside one. Nothing else is in the transaction yet, so if this operation fails
    (or is a read, whose writes are undone) the whole transaction is rolled back instead, and
    the batch goes on in a new one.
    """
    ok = op.run(conn)
    if not conn.in_transaction:
        if ok:  # it ended the transaction itself: what it did is not committed
            op.fail(sqlite3.OperationalError("the operation ended its transaction"))
        return
    if not ok or op.kind in _READS:
        _end(conn, "ROLLBACK", ())


def _in_savepoint(conn: sqlite3.Connection, op: _Op[Any]) -> None:
    """Run ``op`` after others in the group's transaction, undoing exactly its work if it fails.

    A read (``:memory:`` has one connection for both) is always rolled back to its savepoint,
    as a read transaction of its own would be.
    """
    try:
        conn.execute("SAVEPOINT op")
    except sqlite3.Error as exc:
        op.fail(exc)
        return
    ok = op.run(conn)
    if not conn.in_transaction:
        # The transaction is gone (a full disk, or the operation ended it itself): the batch
        # runs the others again; this one fails, even if it returned.
        if ok:
            op.fail(sqlite3.OperationalError("the operation ended its transaction"))
        return
    try:
        if not ok or op.kind in _READS:
            conn.execute("ROLLBACK TO op")
        conn.execute("RELEASE op")
    except sqlite3.Error as exc:
        # The operation ended the savepoint itself: the group's transaction is no longer what
        # the others ran in, so it goes, and they run again.
        op.fail(exc)
        if conn.in_transaction:
            _end(conn, "ROLLBACK", ())


def _alone(conn: sqlite3.Connection, op: _Op[Any]) -> bool:
    """Run ``op`` in a transaction of its own; ``True`` if it committed a write."""
    write = op.kind == WRITE
    try:
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    except sqlite3.Error as exc:  # e.g. another process held the lock past busy_timeout
        op.fail(exc)
        return False
    ok = op.run(conn)
    if conn.in_transaction:
        _end(conn, "COMMIT" if ok and write else "ROLLBACK", (op,))
    return write and op.error is None


def _end(conn: sqlite3.Connection, verb: str, ops: Sequence[_Op[Any]]) -> None:
    """COMMIT or ROLLBACK; a failed COMMIT fails every operation that had succeeded."""
    try:
        conn.execute(verb)
    except sqlite3.Error as exc:
        for op in ops:
            if op.error is None:
                op.fail(exc)
        # Some errors (a full disk) already rolled the transaction back.
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                # Nothing more can be done here; the next BEGIN reports the broken connection
                # to its caller.
                log.exception("rollback after a failed %s failed too", verb)
