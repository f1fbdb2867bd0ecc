"""What only ``SqliteStore`` has: migrations, a file that outlives the process, query plans."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from emitflow.clock import VirtualClock
from emitflow.errors import StoreError
from emitflow.events.cloudevent import CloudEvent
from emitflow.store import EventQuery, NewEvent, NewRun, StoredTask, Transition, Wait
from emitflow.store.codec import position_key
from emitflow.store.paging import Window
from emitflow.store.sqlite import SqliteStore
from emitflow.store.sqlite.database import migrations
from emitflow.store.sqlite.statements import events_page

START = datetime(2026, 1, 1, tzinfo=UTC)


def emitted(n: int, emitter: str = "p_a", channel: str = "") -> NewEvent:
    event = CloudEvent(
        attributes={"specversion": "1.0", "id": f"e{n}", "source": "/s", "type": "t"}
    )
    return NewEvent(emitter_id=emitter, channel=channel, event=event)


def applied(path: Path) -> list[tuple[int, str, int]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT version, name, applied_at FROM schema_migrations").fetchall()


def test_migrations_are_numbered_from_one_without_gaps() -> None:
    found = migrations()
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    assert found[0].name == "init"
    statements = found[0].statements()
    assert any(
        s.startswith("CREATE TRIGGER events_counted") and s.endswith("END;") for s in statements
    )


async def test_migrations_are_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    clock = VirtualClock(START)
    async with SqliteStore(path, clock=clock):
        pass
    first = applied(path)
    assert [(v, n) for v, n, _ in first] == [(m.version, m.name) for m in migrations()]
    clock.advance(60)
    async with SqliteStore(path, clock=clock):
        pass
    assert applied(path) == first


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    async with SqliteStore(path):
        pass
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_migrations VALUES (9999, 'future', 0)")
    with pytest.raises(StoreError, match="newer than this emitflow knows"):
        await SqliteStore(path).open()


async def test_the_database_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    async with SqliteStore(path):
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_an_unusable_path_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    store = SqliteStore(tmp_path / "file" / "store.db")
    with pytest.raises(StoreError, match="cannot open"):
        await store.open()
    with pytest.raises(StoreError, match="not open"):
        await store.list_workflows()


async def test_reopening_keeps_data_and_positions_keep_increasing(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    clock = VirtualClock(START)
    async with SqliteStore(path, clock=clock) as store:
        run, _ = await store.create_run(NewRun(workflow_id="p_w", workflow_revision=1))
        stored = await store.append_events([emitted(n) for n in range(3)])
        await store.enqueue_events([emitted(9)])
        await store.delete_events("p_a", start=stored[-1].position)  # the newest is gone
    # A new process whose clock is an hour behind.
    async with SqliteStore(path, clock=VirtualClock(START - timedelta(hours=1))) as store:
        assert (await store.get_run(run.id)).id == run.id
        page = await store.list_events(EventQuery(emitter_id="p_a"))
        assert [s.position for s in page.items] == [stored[1].position, stored[0].position]
        assert page.total_count == 2
        (later,) = await store.append_events([emitted(3)])
        assert position_key(later.position) > position_key(stored[-1].position)
        assert [item.event.id for item in await store.claim_outbox()] == ["e9"]


async def test_two_stores_on_one_file_share_one_order(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    clock = VirtualClock(START)
    async with SqliteStore(path, clock=clock) as one, SqliteStore(path, clock=clock) as two:
        positions = []
        for n in range(10):
            writer = one if n % 2 else two
            (stored,) = await writer.append_events([emitted(n)])
            positions.append(position_key(stored.position))
        assert positions == sorted(set(positions))
        assert (await one.list_events(EventQuery(emitter_id="p_a"))).total_count == 10


async def test_concurrent_writes_are_serialised(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "store.db", clock=VirtualClock(START)) as store:
        batches = await asyncio.gather(*(store.append_events([emitted(n)]) for n in range(40)))
        keys = [position_key(batch[0].position) for batch in batches]
        assert len(set(keys)) == 40
        page = await store.list_events(EventQuery(emitter_id="p_a"), limit=100)
        assert [position_key(s.position) for s in page.items] == sorted(keys, reverse=True)


@pytest.mark.parametrize(
    ("query", "window", "index"),
    [
        (EventQuery(emitter_id="p_a"), Window.of(10, None, None), "events_by_emitter"),
        (EventQuery(emitter_id="p_a"), Window.of(10, 5 << 20, None), "events_by_emitter"),
        (EventQuery(emitter_id="p_a"), Window.of(10, None, 5 << 20), "events_by_emitter"),
        (EventQuery(emitter_id="p_a", channel="x"), Window.of(10, 9, None), "events_by_channel"),
        (EventQuery(type="t"), Window.of(10, None, None), "events_by_type"),
        (EventQuery(source="/s"), Window.of(10, None, None), "events_by_source"),
        (EventQuery(subject="s"), Window.of(10, None, None), "events_by_subject"),
        (EventQuery(), Window.of(10, 9 << 20, 5 << 20), "INTEGER PRIMARY KEY"),
    ],
)
async def test_event_pages_are_index_range_scans(
    tmp_path: Path, query: EventQuery, window: Window, index: str
) -> None:
    path = tmp_path / "store.db"
    async with SqliteStore(path):
        pass
    sql, params = events_page(query, window)
    with sqlite3.connect(path) as db:
        plan = " | ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert plan.startswith("SEARCH events USING") and index in plan, plan
    assert "TEMP B-TREE" not in plan, plan


async def test_a_completed_write_is_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    async with SqliteStore(path, clock=VirtualClock(START)) as store:
        run, _ = await store.create_run(NewRun(workflow_id="p_w", workflow_revision=1))

        async def emit(n: int) -> tuple[str, str]:
            (item,) = await store.commit_transition(Transition(run_id=run.id), [emitted(n)])
            return "outbox", str(item.id)

        async def append(n: int) -> tuple[str, str]:
            (stored,) = await store.append_events([emitted(100 + n)])
            return "events", str(position_key(stored.position))

        writes = [emit(n) if n % 2 else append(n) for n in range(60)]
        for next_done in asyncio.as_completed(writes):
            table, key = await next_done
            # A second connection, as another process (or this one after a crash) would read.
            column = "id" if table == "outbox" else "pos"
            with sqlite3.connect(path) as other:
                sql = f"SELECT count(*) FROM {table} WHERE {column} = ?"
                assert other.execute(sql, (int(key),)).fetchone() == (1,)


async def test_returned_outbox_items_hold_a_copy_of_the_metadata(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "store.db", clock=VirtualClock(START)) as store:
        new = NewEvent(emitter_id="p_a", event=emitted(1).event, metadata={"tags": ["a"]})
        (item,) = await store.enqueue_events([new])
        assert item.event == new.event and item.metadata == {"tags": ["a"]}
        assert item.metadata is not new.metadata
        (claimed,) = await store.claim_outbox()
        assert (claimed.id, claimed.event, claimed.metadata) == (item.id, item.event, item.metadata)


async def test_a_resumed_run_end_replaces_the_task_rows_and_waits_of_an_earlier_process(
    tmp_path: Path,
) -> None:
    # The first process stored a task row and a wait, then stopped; the second ends the run
    # with its whole task list: the rows and the wait of the first are gone.
    path = tmp_path / "store.db"
    task = StoredTask(run_id="", sequence=0, reference="/do/0/a", name="a", status="completed")
    async with SqliteStore(path) as first:
        run, _ = await first.create_run(NewRun(workflow_id="wf_a", workflow_revision=1))
        await first.commit_transition(
            Transition(run_id=run.id, task=replace(task, run_id=run.id, output={"old": 1}))
        )
        await first.put_wait(Wait(run_id=run.id, reference="/do/1", workflow_id="wf_a"))
    async with SqliteStore(path) as second:
        ended = replace(run, status="completed")
        final = (replace(task, run_id=run.id, output={"new": 1}),)
        await second.commit_transition(Transition(run_id=run.id, run=ended, tasks=final))
        assert [t.output for t in await second.list_tasks(run.id)] == [{"new": 1}]
        assert await second.list_waits(run_id=run.id) == []


async def test_a_fresh_run_end_deletes_nothing(tmp_path: Path) -> None:
    statements: list[str] = []
    async with SqliteStore(tmp_path / "store.db") as store:
        run, _ = await store.create_run(NewRun(workflow_id="wf_a", workflow_revision=1))
        task = StoredTask(run_id=run.id, sequence=0, reference="/a", name="a", status="completed")
        await store._db.write(lambda conn: conn.set_trace_callback(statements.append))
        await store.commit_transition(
            Transition(run_id=run.id, run=replace(run, status="completed"), tasks=(task,))
        )
        assert [t.name for t in await store.list_tasks(run.id)] == ["a"]
    assert not [sql for sql in statements if sql.lstrip().upper().startswith("DELETE")]
    assert any("INSERT INTO task_batches" in sql for sql in statements)
