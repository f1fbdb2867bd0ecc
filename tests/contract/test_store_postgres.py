"""What only a shared store must hold: several processes (here, several ``PostgresStore``
instances, each with its own pool) on one PostgreSQL schema.

Claims never hand one row to two processes; appends from several writers keep positions
strictly increasing and never fill a gap behind a reader's cursor; one process hears of
another's writes; migrations run once and a newer schema is refused; a connection the server
ends surfaces ``StoreError`` and the pool carries on with a new one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import timedelta
from typing import Any, TypeVar

import pytest

from emitflow.errors import LeaseLostError, StoreError, StoreUnavailableError
from emitflow.events.cloudevent import CloudEvent
from emitflow.store.base import Store
from emitflow.store.records import (
    EventQuery,
    NewEvent,
    NewRun,
    RetentionPolicy,
    RunLease,
    Schedule,
    StoredTask,
    Transition,
    Wait,
    Webhook,
)
from tests.contract.stores import (
    START,
    CountingIds,
    ManualClock,
    PostgresSchema,
    postgres_schema,
)

T = TypeVar("T")
PROCESSES = 3


@pytest.fixture
async def schema() -> AsyncIterator[PostgresSchema]:
    async with postgres_schema() as made:
        yield made


@pytest.fixture
async def stores(schema: PostgresSchema, clock: ManualClock) -> AsyncIterator[list[Store]]:
    """``PROCESSES`` open stores on one schema, as separate processes would have them."""
    async with AsyncExitStack() as stack:
        opened = [
            await stack.enter_async_context(schema.store(clock=clock, ids=CountingIds()))
            for _ in range(PROCESSES)
        ]
        yield opened


def _event(n: int, emitter: str = "p_a") -> NewEvent:
    attributes = {"specversion": "1.0", "id": f"e{n}", "source": "/t", "type": "t.x"}
    return NewEvent(emitter_id=emitter, event=CloudEvent(attributes=attributes, data={"n": n}))


async def _claim_all(
    stores: Sequence[Store], claim: Callable[[Store], Awaitable[Sequence[T]]]
) -> list[T]:
    """Every store claims at once, again and again, until a round finds nothing."""
    taken: list[T] = []
    while True:
        rounds = await asyncio.gather(*(claim(store) for store in stores for _ in range(2)))
        found = [item for batch in rounds for item in batch]
        if not found:
            return taken
        taken += found


def _once(keys: Sequence[Any], expected: Sequence[Any]) -> None:
    assert len(keys) == len(set(keys)), "a row was claimed twice"
    assert sorted(keys) == sorted(expected)


# --- work distribution ---------------------------------------------------------------------


async def test_concurrent_run_claims_never_share_a_run(stores: list[Store]) -> None:
    made = await stores[0].create_runs(
        [NewRun(workflow_id="p_w", workflow_revision=1) for _ in range(60)]
    )
    owners = {id(store): f"w{n}" for n, store in enumerate(stores)}
    claimed = await _claim_all(
        stores, lambda s: s.claim_runs(owner=owners[id(s)], limit=4, lease_seconds=60)
    )
    _once([run.id for run in claimed], [run.id for run, _ in made])


async def test_a_run_taken_back_ends_with_only_the_records_of_its_end(
    stores: list[Store], clock: ManualClock
) -> None:
    # A run its creator leased to itself ends without DELETEs while no rows were written for
    # it; once another process has held it (and written a task row), its end must replace them.
    first, second = stores[0], stores[1]
    ((run, _),) = await first.create_runs(
        [NewRun(workflow_id="p_w", workflow_revision=1, lease=RunLease("w0", 5))]
    )
    clock.advance(5.5)  # w0 stalls past its lease: w1 takes the run over and records a task
    (held,) = await second.claim_runs(owner="w1", limit=1, lease_seconds=5)
    running = replace(held, status="running", started_at=START)
    stray = StoredTask(
        run_id=run.id, sequence=1, reference="/do/1/w1", name="w1", status="completed"
    )
    await second.commit_transition(Transition(run_id=run.id, run=running, task=stray, owner="w1"))
    clock.advance(5.5)  # w1 stalls too: w0 claims the run back and ends it
    (again,) = await first.claim_runs(owner="w0", limit=1, lease_seconds=5)
    ended = replace(again, status="completed", output={}, ended_at=START)
    mine = StoredTask(
        run_id=run.id, sequence=0, reference="/do/0/w0", name="w0", status="completed"
    )
    await first.commit_transition(Transition(run_id=run.id, run=ended, tasks=(mine,), owner="w0"))
    assert [task.reference for task in await first.list_tasks(run.id)] == ["/do/0/w0"]


async def test_a_fresh_run_ends_in_one_statement_fenced_on_its_lease(
    stores: list[Store], clock: ManualClock
) -> None:
    # Created leased here with no rows since: its end is one statement, still fenced.
    first, second = stores[0], stores[1]
    made = await first.create_runs(
        [NewRun(workflow_id="p_w", workflow_revision=1, lease=RunLease("w0", 5))] * 2
    )
    (done, _), (late, _) = made
    record = StoredTask(
        run_id=done.id, sequence=0, reference="/do/0/a", name="a", status="completed"
    )
    ended = replace(done, status="completed", output={"ok": True}, ended_at=START)
    await first.commit_transition(
        Transition(run_id=done.id, run=ended, tasks=(record,), owner="w0")
    )
    assert (await second.get_run(done.id)).output == {"ok": True}
    assert [task.reference for task in await second.list_tasks(done.id)] == ["/do/0/a"]
    clock.advance(5.5)  # w0 stalls past the other run's lease and w1 claims it
    assert [run.id for run in await second.claim_runs(owner="w1", lease_seconds=5)] == [late.id]
    stale = replace(late, status="completed", ended_at=START)
    record = replace(record, run_id=late.id)
    with pytest.raises(LeaseLostError):
        await first.commit_transition(
            Transition(run_id=late.id, run=stale, tasks=(record,), owner="w0")
        )
    assert (await second.get_run(late.id)).status == "pending"
    assert await second.list_tasks(late.id) == []


async def test_concurrent_outbox_claims_never_share_a_row(stores: list[Store]) -> None:
    items = await stores[0].enqueue_events([_event(n) for n in range(60)])
    claimed = await _claim_all(stores, lambda s: s.claim_outbox(limit=4, lease_seconds=60))
    _once([item.id for item in claimed], [item.id for item in items])


async def test_a_schedule_fires_once_per_tick_across_processes(
    stores: list[Store], clock: ManualClock
) -> None:
    for n in range(30):
        await stores[0].put_schedule(
            Schedule(workflow_id=f"p_{n:02d}", kind="every", next_due_at=START)
        )
    claimed = await _claim_all(stores, lambda s: s.claim_due_schedules(limit=3, lease_seconds=60))
    _once([s.workflow_id for s in claimed], [f"p_{n:02d}" for n in range(30)])


async def test_concurrent_wait_claims_never_share_a_wait(
    stores: list[Store], clock: ManualClock
) -> None:
    run, _ = await stores[0].create_run(NewRun(workflow_id="p_w", workflow_revision=1))
    for n in range(30):
        await stores[0].put_wait(
            Wait(run_id=run.id, reference=f"/w/{n}", workflow_id="p_w", expires_at=START)
        )
    clock.advance(1)
    claimed = await _claim_all(stores, lambda s: s.claim_due_waits(limit=3, lease_seconds=60))
    _once([w.reference for w in claimed], [f"/w/{n}" for n in range(30)])


async def test_concurrent_delivery_claims_never_share_a_delivery(stores: list[Store]) -> None:
    await stores[0].put_webhook(
        Webhook(id="wh_a", url="http://127.0.0.1:9/x", created_at=START, updated_at=START)
    )
    events = [{"specversion": "1.0", "id": f"e{n}", "source": "/s", "type": "t"} for n in range(40)]
    assert (
        await stores[0].add_deliveries_many([(["wh_a"], f"1-{n}", e) for n, e in enumerate(events)])
        == 40
    )
    claimed = await _claim_all(stores, lambda s: s.claim_due_deliveries(limit=3, lease_seconds=60))
    _once([d.id for d in claimed], list({d.id for d in claimed}))
    assert sorted(d.event["id"] for d in claimed) == sorted(e["id"] for e in events)


async def test_in_order_delivery_claims_take_the_head_once(stores: list[Store]) -> None:
    await stores[0].put_webhook(
        Webhook(id="wh_a", url="http://127.0.0.1:9/x", created_at=START, updated_at=START)
    )
    events = [{"specversion": "1.0", "id": f"e{n}", "source": "/s", "type": "t"} for n in range(5)]
    await stores[0].add_deliveries_many([(["wh_a"], f"1-{n}", e) for n, e in enumerate(events)])
    rounds = await asyncio.gather(
        *(s.claim_due_deliveries(webhook_id="wh_a", in_order=True, limit=10) for s in stores)
    )
    winners = [batch for batch in rounds if batch]
    assert len(winners) == 1
    assert [d.event["id"] for d in winners[0]] == [e["id"] for e in events]


async def test_a_listener_run_starts_once_when_processes_race(stores: list[Store]) -> None:
    key = ("/orders", "e-1")
    results = await asyncio.gather(
        *(
            store.create_run(NewRun(workflow_id="p_l", workflow_revision=1, dedupe_key=key))
            for store in stores
            for _ in range(3)
        )
    )
    assert sum(created for _, created in results) == 1
    assert len({run.id for run, _ in results}) == 1


# --- the event log under concurrent writers -------------------------------------------------


async def test_concurrent_appends_never_fill_a_gap_behind_a_reader(
    stores: list[Store], clock: ManualClock
) -> None:
    writers, reader = stores[:-1], stores[-1]
    done = asyncio.Event()

    async def write(store: Store, lane: int) -> None:
        for batch in range(25):
            await store.append_events(
                [_event(1000 * lane + 10 * batch + k, f"p_{lane}") for k in range(4)]
            )
            clock.advance(0.0005)

    async def tail() -> list[str]:
        seen: list[str] = []
        cursor: str | None = None
        while True:
            finished = done.is_set()  # read before the page: a last page after the end
            if cursor is None:
                page = await reader.list_events(limit=1000)
            else:
                page = await reader.list_events(limit=50, after=cursor)
            seen += [s.position for s in reversed(page.items)]
            if page.items:
                cursor = page.start_cursor
            elif finished:
                return seen
            await asyncio.sleep(0)

    async def writers_then_done() -> None:
        await asyncio.gather(*(write(store, n) for n, store in enumerate(writers)))
        done.set()

    seen, _ = await asyncio.gather(tail(), writers_then_done())
    keys = [tuple(int(part) for part in p.split("-")) for p in seen]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    everything: list[str] = []
    page = await reader.list_events(limit=1000)
    everything = [s.position for s in reversed(page.items)]
    assert len(everything) == 25 * 4 * len(writers)
    assert seen == everything  # the tail missed nothing: nothing appeared behind it


# --- change reports ------------------------------------------------------------------------


async def _heard(topics: set[str], wanted: str, arrived: asyncio.Event) -> None:
    async with asyncio.timeout(10):
        while wanted not in topics:
            arrived.clear()
            await arrived.wait()


async def test_one_process_hears_of_anothers_writes(
    schema: PostgresSchema, clock: ManualClock
) -> None:
    topics: set[str] = set()
    arrived = asyncio.Event()

    def heard(topic: str) -> None:
        topics.add(topic)
        arrived.set()

    listener = schema.store(clock=clock, ids=CountingIds())
    listener.on_change(heard)
    async with listener, schema.store(clock=clock, ids=CountingIds()) as writer:
        assert listener.shared
        await writer.create_run(
            NewRun(workflow_id="p_w", workflow_revision=1, lease=RunLease("w2", 30))
        )
        await writer.create_run(NewRun(workflow_id="p_w", workflow_revision=1))
        await _heard(topics, "runs", arrived)
        await writer.enqueue_events([_event(1)])
        await _heard(topics, "outbox", arrived)
        await writer.append_events([_event(2)])
        await _heard(topics, "events", arrived)
        await writer.put_schedule(Schedule(workflow_id="p_w", kind="every", next_due_at=START))
        await _heard(topics, "schedules", arrived)


async def test_the_change_listener_comes_back_after_its_connection_is_ended(
    schema: PostgresSchema, clock: ManualClock
) -> None:
    topics: set[str] = set()
    arrived = asyncio.Event()

    def heard(topic: str) -> None:
        topics.add(topic)
        arrived.set()

    listener = schema.store(clock=clock, ids=CountingIds())
    listener.on_change(heard)
    async with listener, schema.store(clock=clock, ids=CountingIds()) as writer:
        ended = await _terminate(schema, "query LIKE 'LISTEN %'")
        assert ended == 1
        topics.clear()
        await _keep_writing_until_heard(writer, topics, arrived)  # it reconnects meanwhile


async def test_a_callback_registered_on_an_open_store_starts_hearing_soon(
    schema: PostgresSchema, clock: ManualClock
) -> None:
    topics: set[str] = set()
    arrived = asyncio.Event()

    def heard(topic: str) -> None:
        topics.add(topic)
        arrived.set()

    async with (
        schema.store(clock=clock, ids=CountingIds()) as listener,
        schema.store(clock=clock, ids=CountingIds()) as writer,
    ):
        listener.on_change(heard)  # connects in the background: early writes may go unheard
        await _keep_writing_until_heard(writer, topics, arrived)


async def _keep_writing_until_heard(
    writer: Store, topics: set[str], arrived: asyncio.Event
) -> None:
    async with asyncio.timeout(10):
        for n in range(1000):
            await writer.enqueue_events([_event(100 + n)])
            try:
                async with asyncio.timeout(0.5):
                    await _heard(topics, "outbox", arrived)
                return
            except TimeoutError:
                continue
    pytest.fail("no change was reported")


# --- migrations ----------------------------------------------------------------------------


async def test_migrations_run_once_when_processes_start_together(
    schema: PostgresSchema, clock: ManualClock
) -> None:
    fresh = [schema.store(clock=clock, ids=CountingIds()) for _ in range(PROCESSES)]
    applied = await asyncio.gather(*(store.migrate() for store in fresh))
    assert sorted(len(names) for names in applied)[:-1] == [0] * (PROCESSES - 1)
    assert max(applied, key=len)[0] == "0001_init"
    async with AsyncExitStack() as stack:
        for store in fresh:
            await stack.enter_async_context(store)
        assert await fresh[0].migrate() == []


async def test_a_schema_newer_than_this_emitflow_is_refused(
    schema: PostgresSchema, clock: ManualClock
) -> None:
    async with schema.store(clock=clock, ids=CountingIds()):
        pass
    await _admin(
        schema,
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)",
    )
    newer = schema.store(clock=clock, ids=CountingIds())
    with pytest.raises(StoreError, match=r"schema version 9999, newer than this emitflow.*upgr"):
        await newer.open()
    with pytest.raises(StoreError, match="9999"):
        await newer.migrate()
    with pytest.raises(StoreError, match="not open"):
        await newer.list_workflows()


# --- faults --------------------------------------------------------------------------------


async def test_a_connection_ended_mid_write_fails_that_write_and_the_next_succeeds(
    schema: PostgresSchema, clock: ManualClock
) -> None:
    import asyncpg

    async with schema.store(clock=clock, ids=CountingIds()) as store:
        (first,) = await store.append_events([_event(1)])
        blocker = await asyncpg.connect(schema.url)
        try:
            # Another session holds the position lock: the store's append waits for it.
            async with blocker.transaction():
                await blocker.execute(
                    "SELECT value FROM store_meta WHERE key = 'last_position' FOR UPDATE"
                )
                append = asyncio.create_task(store.append_events([_event(2)]))
                for _ in range(1000):  # until the append waits, within 10 s
                    if await _terminate(schema, "wait_event_type = 'Lock'"):
                        break
                    await asyncio.sleep(0.01)
                else:
                    pytest.fail("the append never waited for the lock")
                with pytest.raises(StoreUnavailableError, match="cannot serve now"):
                    await append
        finally:
            await blocker.close()
        (again,) = await store.append_events([_event(2)])
        assert _key(again.position) > _key(first.position)
        page = await store.list_events(EventQuery(emitter_id="p_a"))
        assert [s.event["id"] for s in page.items] == ["e2", "e1"] and page.total_count == 2


async def test_events_older_than_the_retention_go_under_concurrent_appends(
    stores: list[Store], clock: ManualClock
) -> None:
    await stores[0].append_events([_event(n) for n in range(10)])
    clock.advance(3600)
    appends = [store.append_events([_event(100 + n, f"p_{n}")]) for n, store in enumerate(stores)]
    policy_age = timedelta(minutes=1)
    results = await asyncio.gather(
        stores[1].apply_retention(RetentionPolicy(max_age=policy_age)), *appends
    )
    assert results[0] == 10
    page = await stores[2].list_events(EventQuery(emitter_id="p_a"))
    assert page.total_count == 0


def _key(position: str) -> tuple[int, int]:
    ms, seq = position.split("-")
    return int(ms), int(seq)


async def _admin(schema: PostgresSchema, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(schema.url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _terminate(schema: PostgresSchema, where: str) -> int:
    """End the sessions of this schema's stores that match ``where``; how many."""
    import asyncpg

    conn = await asyncpg.connect(schema.base_url)
    try:
        ended = await conn.fetch(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            f" WHERE application_name = $1 AND pid <> pg_backend_pid() AND {where}",
            schema.name,
        )
        return len(ended)
    finally:
        await conn.close()
