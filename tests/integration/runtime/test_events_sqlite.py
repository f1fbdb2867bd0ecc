"""The event runtime end to end: real DSL documents, the real runner, a sqlite file."""

from __future__ import annotations

import itertools
from pathlib import Path

from emitflow.clock import VirtualClock
from emitflow.events.cloudevent import CloudEvent
from emitflow.runtime import source_emitter_id
from emitflow.store import NewEvent, NewRun, Transition
from emitflow.store.records import ERRORS_CHANNEL, StoredTask
from emitflow.store.sqlite import SqliteStore
from tests.integration.runtime.conftest import OpenEngine
from tests.integration.runtime.documents import (
    CRON,
    EMITTER,
    EVERY_MINUTE,
    FAULTY,
    LISTENER,
    LOOPER,
    ON_ALL,
    ON_ONE,
    SERIAL_LISTENER,
)

NAMES = ["Luke", "Han", "Leia", "Obi Wan"]


async def test_the_listener_runs_once_per_emitted_event(
    open_engine: OpenEngine, tmp_path: Path
) -> None:
    emitter_file = tmp_path / "emitter.yaml"
    emitter_file.write_text(EMITTER)
    async with open_engine() as engine:
        emitter = await engine.deploy(emitter_file)
        listener = await engine.deploy(LISTENER)
        await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
        run = await engine.start(emitter.id, input={"names": NAMES})
        assert run.status == "completed", run.error
        await engine.drain()
        runs = (await engine.store.list_runs(workflow_id=listener.id, limit=100)).items
        assert sorted(r.output["greeting"] for r in runs) == sorted(f"hello {n}" for n in NAMES)
        assert all(r.status == "completed" and r.hops == 1 for r in runs)
        # The same events enqueued again (a redelivery): logged once, no new runs.
        page = await engine.events(emitter.id, limit=100)
        again = [
            NewEvent(emitter_id=emitter.id, event=stored.cloud_event()) for stored in page.items
        ]
        await engine.store.enqueue_events(again)
        await engine.drain()
        assert (await engine.events(emitter.id)).total_count == len(NAMES)
        assert len((await engine.store.list_runs(workflow_id=listener.id, limit=100)).items) == 4
        tasks = await engine.tasks(run.id)
        emits = [t for t in tasks if t.name == "announce"]
        assert [t.emits[0]["data"]["name"] for t in emits] == NAMES
        assert all(t.output["emitflowhops"] == 0 for t in emits)  # stamped by the runner


async def test_events_are_listed_per_emitter_newest_first(open_engine: OpenEngine) -> None:
    async with open_engine() as engine:
        emitter = await engine.deploy(EMITTER)
        other = await engine.deploy(LOOPER)
        await engine.start(emitter.id, input={"names": NAMES})
        await engine.start(other.id)
        await engine.drain()
        first = await engine.events(emitter.id, limit=3)
        assert [e.event["data"]["name"] for e in first.items] == ["Obi Wan", "Leia", "Han"]
        assert first.total_count == 4 and first.has_more
        assert first.items[0].position > first.items[1].position
        rest = await engine.events(emitter.id, limit=3, before=first.end_cursor)
        assert [e.event["data"]["name"] for e in rest.items] == ["Luke"]
        assert not rest.has_more
        newer = await engine.events(emitter.id, limit=2, after=rest.start_cursor)
        assert [e.event["data"]["name"] for e in newer.items] == ["Leia", "Han"]
        assert all(e.emitter_id == emitter.id and e.channel == "" for e in first.items)
        assert (await engine.events(other.id)).total_count == 1


async def test_a_fault_goes_to_errors(open_engine: OpenEngine) -> None:
    async with open_engine() as engine:
        faulty = await engine.deploy(FAULTY)
        run = await engine.start(faulty.id, input={"sku": "x"})
        await engine.drain()
        assert run.status == "faulted"
        assert run.error is not None and run.error["status"] == 409
        (report,) = (await engine.events(faulty.id, event_name=ERRORS_CHANNEL)).items
        assert report.event["data"]["error"]["title"] == "Out of stock"
        assert report.event["data"]["original_event"] == {"sku": "x"}
        assert report.metadata["run_id"] == run.id


async def test_glob_and_filtered_subscriptions(open_engine: OpenEngine) -> None:
    async with open_engine() as engine:
        emitter = await engine.deploy(EMITTER)
        everyone = await engine.deploy(LISTENER.replace("name: listener", "name: everyone"))
        leia_only = await engine.deploy(LISTENER.replace("name: listener", "name: leia"))
        not_han = await engine.deploy(LISTENER.replace("name: listener", "name: not-han"))
        await engine.subscribe(emitter_id="p_*", listener_id=everyone.id)
        await engine.subscribe(
            emitter_id=emitter.id,
            listener_id=leia_only.id,
            filters=[{"exact": {"subject": "Leia"}}],
        )
        await engine.subscribe(
            emitter_id=emitter.id,
            listener_id=not_han.id,
            filters=[{"sql": "type LIKE 'com.example.%' AND subject <> 'Han'"}],
        )
        await engine.start(emitter.id, input={"names": NAMES})
        await engine.drain()

        async def greeted(workflow_id: str) -> list[str]:
            runs = (await engine.store.list_runs(workflow_id=workflow_id, limit=100)).items
            return sorted(r.output["greeting"][6:] for r in runs)

        assert await greeted(everyone.id) == sorted(NAMES)
        assert await greeted(leia_only.id) == ["Leia"]
        assert await greeted(not_han.id) == sorted(set(NAMES) - {"Han"})


async def test_an_emitter_subscribed_to_itself_stops_at_the_limit(
    open_engine: OpenEngine,
) -> None:
    async with open_engine() as engine:
        looper = await engine.deploy(LOOPER)
        await engine.subscribe(emitter_id=looper.id, listener_id=looper.id)
        await engine.start(looper.id)
        await engine.drain()
        runs = (await engine.store.list_runs(workflow_id=looper.id, limit=100)).items
        assert len(runs) == 17 and max(r.hops for r in runs) == 16
        assert (await engine.events(looper.id)).total_count == 17
        (report,) = (await engine.events(looper.id, event_name=ERRORS_CHANNEL)).items
        assert report.event["data"]["reason"] == "loop"


async def test_concurrency_one_keeps_event_order(open_engine: OpenEngine) -> None:
    names = [f"n{k:02d}" for k in range(12)]
    async with open_engine() as engine:
        emitter = await engine.deploy(EMITTER)
        serial = await engine.deploy(SERIAL_LISTENER)
        await engine.subscribe(emitter_id=emitter.id, listener_id=serial.id)
        await engine.start(emitter.id, input={"names": names})
        await engine.drain()
        runs = (await engine.store.list_runs(workflow_id=serial.id, limit=100)).items
        by_start = sorted(runs, key=lambda r: r.started_at or r.created_at)
        assert [r.output["name"] for r in by_start] == names
        for earlier, later in itertools.pairwise(by_start):
            assert earlier.ended_at is not None and later.started_at is not None
            assert earlier.ended_at <= later.started_at  # one at a time


async def test_timed_schedules_on_a_virtual_clock(store_url: str) -> None:
    from emitflow.runtime import Engine, EngineSettings

    clock = VirtualClock()  # 2026-01-01T00:00:00Z
    async with Engine.open(store_url, settings=EngineSettings(clock=clock)) as engine:
        every = await engine.deploy(EVERY_MINUTE)
        hourly = await engine.deploy(CRON)
        clock.advance(60)
        await engine.drain()
        clock.advance(60)
        await engine.drain()
        assert len((await engine.store.list_runs(workflow_id=every.id)).items) == 2
        assert (await engine.store.list_runs(workflow_id=hourly.id)).items == ()
        clock.advance(3600)
        await engine.drain()
        (hour,) = (await engine.store.list_runs(workflow_id=hourly.id)).items
        assert hour.output == {"ticked": True}
        assert hour.trigger["schedule"]["due_at"] == "2026-01-01T01:00:00.000Z"
    # Due times are in the store: a new engine carries on from them.
    async with Engine.open(store_url, settings=EngineSettings(clock=clock)) as engine:
        clock.advance(60)
        await engine.drain()
        assert len((await engine.store.list_runs(workflow_id=every.id)).items) == 4


async def test_schedule_on_one_and_all_with_correlation(open_engine: OpenEngine) -> None:
    async with open_engine() as engine:
        emitter = await engine.deploy(EMITTER)
        on_leia = await engine.deploy(ON_ONE)
        on_all = await engine.deploy(ON_ALL)
        await engine.start(emitter.id, input={"names": NAMES})
        shop = "https://shop.example.com"
        for event_id, type_, data in [
            ("1", "order.placed", {"orderId": "A"}),
            ("2", "order.placed", {"orderId": "B"}),
            ("3", "order.paid", {"orderId": "B", "amount": 20}),
            ("4", "order.paid", {"orderId": "A", "amount": 10}),
        ]:
            await engine.ingest(CloudEvent.create(type=type_, source=shop, id=event_id, data=data))
        await engine.drain()
        (leia,) = (await engine.store.list_runs(workflow_id=on_leia.id)).items
        assert leia.output == {"who": "Leia"}
        runs = (await engine.store.list_runs(workflow_id=on_all.id)).items
        assert sorted((r.output["order"], r.output["amount"]) for r in runs) == [
            ("A", 10),
            ("B", 20),
        ]
        assert await engine.store.list_waits(workflow_id=on_all.id) == []


async def test_an_ingested_event_reaches_its_source_subscriber(open_engine: OpenEngine) -> None:
    event = CloudEvent.create(
        type="com.example.greeting", source="https://crm.example.com", data={"name": "Rey"}
    )
    async with open_engine() as engine:
        listener = await engine.deploy(LISTENER)
        source_id = source_emitter_id("https://crm.example.com")
        await engine.subscribe(emitter_id=source_id, listener_id=listener.id)
        item = await engine.ingest(event)
        await engine.drain()
        assert item.emitter_id == source_id
        (run,) = (await engine.store.list_runs(workflow_id=listener.id)).items
        assert run.output == {"greeting": "hello Rey"}
        assert run.trigger["context"]["emitter_id"] == source_id
        (stored,) = (await engine.events(source_id)).items
        assert stored.event["id"] == event.id


async def test_committed_events_are_delivered_after_a_restart(
    open_engine: OpenEngine, store_url: str
) -> None:
    async with open_engine() as engine:
        emitter = await engine.deploy(EMITTER)
        listener = await engine.deploy(LISTENER)
        await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
    # A run that emitted and then died, with no engine running: its event is in the outbox,
    # committed with its task's record (as the run's journal does).
    async with SqliteStore.from_url(store_url) as store:
        run, _ = await store.create_run(
            NewRun(
                workflow_id=emitter.id,
                workflow_revision=1,
                input={"name": "Ben"},
                status="running",
            )
        )
        event = CloudEvent.create(type="com.example.greeting", source="/x", data={"name": "Ben"})
        record = StoredTask(
            run_id=run.id,
            sequence=2,
            reference="/do/0/each/do/0/announce",
            name="announce",
            status="completed",
            output=event.to_dict(),
            emits=(event.to_dict(),),
        )
        await store.commit_transition(
            Transition(run_id=run.id, task=record), [NewEvent(emitter_id=emitter.id, event=event)]
        )
    async with open_engine() as engine:
        await engine.drain()
        (listened,) = (await engine.store.list_runs(workflow_id=listener.id)).items
        assert listened.output == {"greeting": "hello Ben"}
        resumed = await engine.get_run(run.id)  # cut off mid-way: resumed, its emit replayed
        assert resumed.status == "completed"
        assert resumed.output == event.to_dict()


async def test_lifecycle_subscribers_get_lifecycle_events(open_engine: OpenEngine) -> None:
    async with open_engine() as engine:
        emitter = await engine.deploy(EMITTER)
        listener = await engine.deploy(
            LISTENER.replace('greeting: ${ "hello " + .[0].data.name }', "seen: ${ .[0].type }")
        )
        await engine.subscribe(
            emitter_id=emitter.id, listener_id=listener.id, event_name="$lifecycle"
        )
        run = await engine.start(emitter.id, input={"name": "Kylo"})
        await engine.drain()
        page = await engine.events(emitter.id, event_name="$lifecycle", limit=100)
        types = [e.event["type"] for e in reversed(page.items)]
        assert types[0] == "io.serverlessworkflow.workflow.started.v1"
        assert types[-1] == "io.serverlessworkflow.workflow.completed.v1"
        assert "io.serverlessworkflow.task.completed.v1" in types
        assert all(e.metadata["run_id"] == run.id for e in page.items)
        runs = (await engine.store.list_runs(workflow_id=listener.id, limit=100)).items
        assert len(runs) == len(types)
        # With a trace the emit's task record was committed with its event, under the same
        # number the full records got at the end: no stray records.
        tasks = await engine.tasks(run.id)
        assert [t.sequence for t in tasks] == list(range(1, len(tasks) + 1))
        assert [t.reference for t in tasks] == [
            "/do/0/each",
            "/do/0/each/do/0/announce",
        ]
