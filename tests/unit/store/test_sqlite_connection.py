"""Group commit on the writer thread: one transaction for the writes queued together, a
savepoint each, and every caller told only after the COMMIT that holds its write.

The writer is held inside a first write (``Gate``) while the others queue behind it, so which
writes share a batch does not depend on timing; the batch's time limit is lifted for that.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from emitflow.errors import StoreError
from emitflow.store.sqlite import connection as sqlite_connection
from emitflow.store.sqlite.database import MEMORY, SqliteDatabase

Op = Callable[[sqlite3.Connection], Any]


class Gate:
    """A write that holds the writer thread until released, so others queue behind it."""

    def __init__(self, *, fails: bool = False) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fails = fails

    def __call__(self, conn: sqlite3.Connection) -> str:
        conn.execute("INSERT INTO t (k) VALUES ('gate')")
        self.entered.set()
        if not self.release.wait(timeout=30):
            raise TimeoutError("the test never released the gate")
        if self.fails:
            raise ValueError("the gate failed after writing")
        return "gate"


def insert(key: str) -> Op:
    def run(conn: sqlite3.Connection) -> str:
        conn.execute("INSERT INTO t (k) VALUES (?)", (key,))
        return key

    return run


def insert_then_fail(key: str) -> Op:
    def run(conn: sqlite3.Connection) -> str:
        conn.execute("INSERT INTO t (k) VALUES (?)", (key,))
        raise ValueError(f"{key} failed after writing")

    return run


def committed(path: Path) -> set[str]:
    """The keys a second connection reads: what is committed, whatever the writer holds."""
    with sqlite3.connect(path) as other:
        return {row[0] for row in other.execute("SELECT k FROM t")}


@pytest.fixture
def one_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """No time limit: everything queued behind the gate joins its batch."""
    monkeypatch.setattr(sqlite_connection, "MAX_BATCH_SECONDS", 60.0)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    database = SqliteDatabase(str(tmp_path / "store.db"))
    await database.open(0)
    await database.write(lambda conn: conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY)"))
    yield database
    await database.close()


async def behind_gate(db: SqliteDatabase, ops: list[Op], gate: Gate | None = None) -> list[Any]:
    """Run ``ops`` queued behind a gate; their results or errors, in order (the gate's first)."""
    gate = gate or Gate()
    held = asyncio.create_task(db.write(gate))
    await asyncio.to_thread(gate.entered.wait, 30)
    tasks = [asyncio.create_task(db.write(op)) for op in ops]
    await asyncio.sleep(0)  # every task has queued its write
    gate.release.set()
    return await asyncio.gather(held, *tasks, return_exceptions=True)


@pytest.mark.usefixtures("one_batch")
async def test_writes_queued_together_commit_together(db: SqliteDatabase, tmp_path: Path) -> None:
    before = db.commits
    _, *results = await behind_gate(db, [insert(f"k{n}") for n in range(20)])
    assert results == [f"k{n}" for n in range(20)]
    assert db.commits == before + 1  # the gate and the twenty: one transaction
    assert committed(tmp_path / "store.db") == {"gate", *results}


@pytest.mark.usefixtures("one_batch")
async def test_a_failing_write_in_a_batch_undoes_only_itself(
    db: SqliteDatabase, tmp_path: Path
) -> None:
    before = db.commits
    _, ok_1, failed, duplicate, ok_2 = await behind_gate(
        db, [insert("a"), insert_then_fail("b"), insert("a"), insert("c")]
    )
    assert (ok_1, ok_2) == ("a", "c")
    assert isinstance(failed, ValueError) and "b failed" in str(failed)
    assert isinstance(duplicate, StoreError) and "UNIQUE" in str(duplicate)
    assert db.commits == before + 1
    assert committed(tmp_path / "store.db") == {"gate", "a", "c"}


@pytest.mark.usefixtures("one_batch")
async def test_a_failing_first_write_leaves_the_batch_to_go_on(
    db: SqliteDatabase, tmp_path: Path
) -> None:
    before = db.commits
    failed, *results = await behind_gate(db, [insert("a"), insert("b")], Gate(fails=True))
    assert isinstance(failed, ValueError) and results == ["a", "b"]
    assert db.commits == before + 1
    assert committed(tmp_path / "store.db") == {"a", "b"}


@pytest.mark.usefixtures("one_batch")
async def test_a_failure_that_ends_the_transaction_reruns_the_others(
    db: SqliteDatabase, tmp_path: Path
) -> None:
    calls: list[str] = []

    def counted(key: str) -> Op:
        def run(conn: sqlite3.Connection) -> str:
            calls.append(key)
            return str(insert(key)(conn))

        return run

    def disk_full(conn: sqlite3.Connection) -> None:
        conn.execute("ROLLBACK")  # as SQLite does on some errors: the whole transaction goes
        raise sqlite3.OperationalError("database or disk is full")

    def ends_it_quietly(conn: sqlite3.Connection) -> str:
        conn.execute("INSERT INTO t (k) VALUES ('quiet')")
        conn.execute("ROLLBACK")
        return "returned anyway"

    _, *results = await behind_gate(
        db, [counted("a"), disk_full, counted("b"), ends_it_quietly, counted("c")]
    )
    assert results[0::2] == ["a", "b", "c"]
    assert isinstance(results[1], StoreError) and "disk is full" in str(results[1])
    assert isinstance(results[3], StoreError) and "ended its transaction" in str(results[3])
    assert calls.count("a") == 3 and calls.count("b") == 2 and calls.count("c") == 1
    assert committed(tmp_path / "store.db") == {"gate", "a", "b", "c"}


async def test_an_awaited_write_is_committed(db: SqliteDatabase, tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    pending = [asyncio.ensure_future(db.write(insert(f"k{n}"))) for n in range(100)]
    for next_done in asyncio.as_completed(pending):
        key = await next_done
        # Read by another connection at once, while later writes may still be in flight.
        with sqlite3.connect(path) as other:
            assert other.execute("SELECT 1 FROM t WHERE k = ?", (key,)).fetchone() == (1,)
    assert db.commits < 100 + 2  # at most one commit each (plus the table and the open)


async def test_reads_and_writes_share_the_memory_connection() -> None:
    db = SqliteDatabase(MEMORY)
    await db.open(0)
    try:
        await db.write(lambda conn: conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY)"))

        def count(conn: sqlite3.Connection) -> int:
            return int(conn.execute("SELECT count(*) FROM t").fetchone()[0])

        def sneaky_read(conn: sqlite3.Connection) -> int:
            conn.execute("INSERT INTO t (k) VALUES ('from a read')")  # a read's writes are undone
            return count(conn)

        results = await asyncio.gather(
            *(db.write(insert(f"k{n}")) for n in range(10)), db.read(sneaky_read)
        )
        assert results[-1] == 11
        assert await db.read(count) == 10
    finally:
        await db.close()


async def test_a_closed_database_refuses_work(db: SqliteDatabase) -> None:
    await db.close()
    with pytest.raises(StoreError, match="not open"):
        await db.write(insert("late"))
    await db.close()  # twice is fine


def thread_name(conn: sqlite3.Connection) -> str:
    conn.execute("INSERT INTO t (k) VALUES (?)", (threading.current_thread().name,))
    return threading.current_thread().name


async def test_an_inline_write_runs_here_when_the_writer_is_idle_and_is_committed(
    db: SqliteDatabase, tmp_path: Path
) -> None:
    here = threading.current_thread().name
    assert await db.write(thread_name, inline=True) == here
    assert here in committed(tmp_path / "store.db")  # committed before the call returned
    assert await db.read(lambda conn: threading.current_thread().name, inline=True) == here


async def test_an_inline_write_queues_behind_a_write_in_flight(
    db: SqliteDatabase, tmp_path: Path
) -> None:
    gate = Gate()
    held = asyncio.create_task(db.write(gate))
    await asyncio.to_thread(gate.entered.wait, 30)
    behind = asyncio.create_task(db.write(thread_name, inline=True))
    await asyncio.sleep(0)
    assert not behind.done()  # it did not run beside the gate's open transaction
    gate.release.set()
    await held
    assert await behind == "emitflow-sqlite-writer"
    assert committed(tmp_path / "store.db") >= {"gate", "emitflow-sqlite-writer"}


async def test_an_inline_write_never_waits_for_another_process_lock(
    db: SqliteDatabase, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    write = asyncio.create_task(db.write(thread_name, inline=True))
    await asyncio.sleep(0)
    assert not write.done()  # queued for the writer thread, the event loop not blocked
    other.execute("ROLLBACK")
    other.close()
    assert await write == "emitflow-sqlite-writer"


async def test_an_inline_failure_undoes_its_write_and_reaches_the_caller(
    db: SqliteDatabase, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="k1 failed"):
        await db.write(insert_then_fail("k1"), inline=True)
    assert "k1" not in committed(tmp_path / "store.db")
    assert await db.write(insert("k2"), inline=True) == "k2"


async def test_the_writer_thread_checkpoints_after_inline_commits(
    db: SqliteDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_connection, "CHECKPOINT_EVERY", 3)
    for n in range(3):
        await db.write(insert(f"k{n}"), inline=True)
    await db.write(insert("after"))  # queued behind the checkpoint the third one handed over
    assert db.checkpoints == 1
    assert await db.write(insert("k3"), inline=True) == "k3"  # inline again once it settled
