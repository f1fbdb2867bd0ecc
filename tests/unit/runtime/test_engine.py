"""The engine on a memory store: listener runs, dedupe, ``$errors``, globs, filters, ingest."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emitflow.api.credentials import digest, make_token
from emitflow.errors import ConfigurationError, FilterError, NotFoundError
from emitflow.events.cloudevent import CloudEvent
from emitflow.runtime import HOPS_EXTENSION, source_emitter_id
from emitflow.store import NewEvent
from emitflow.store.records import ERRORS_CHANNEL, EventQuery
from tests.unit.runtime.conftest import OpenEngine
from tests.unit.runtime.fakes import EMITTER, FAULTY, LISTENER, FakeRunner

NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def test_listener_runs_once_per_event(open_engine: OpenEngine, runner: FakeRunner) -> None:
    async with open_engine() as engine:
        emitter = await engine.deploy(EMITTER)
        listener = await engine.deploy(LISTENER)
        await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
        run = await engine.start(emitter.id, input={"name": "Yoda"})
        await engine.drain()
        assert run.status == "completed"
        runs = (await engine.store.list_runs(workflow_id=listener.id)).items
        assert len(runs) == 1
        (listened,) = runs
        assert listened.status == "completed"
        assert listened.output == {"got": {"name": "Yoda"}}
        (event,) = listened.input
        assert event["type"] == "com.example.greeting"
        assert event[HOPS_EXTENSION] == 0
        assert listened.hops == 1
        assert listened.trigger["event"] == {"name": "Yoda"}
        context = listened.trigger["context"]
        assert context["emitter_id"] == emitter.id
        assert context["event_name"] == ""
        assert context["emit_id"] == event["id"]
        assert context["source"] == "/test/emitter"


async def test_an_event_delivered_twice_starts_one_run(open_engine: OpenEngine) -> None:
    async with open_engine() as engine:
        emitter = await engine.deploy(EMITTER)
        listener = await engine.deploy(LISTENER)
        await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
        event = CloudEvent.create(type="t", source="/s", data={"n": 1})
        # The same event in the outbox twice (as after a crash between routing and mark-done).
        await engine.store.enqueue_events([NewEvent(emitter_id=emitter.id, event=event)] * 2)
        await engine.drain()
        assert (await engine.events(emitter.id)).count == 1
        assert len((await engine.store.list_runs(workflow_id=listener.id)).items) == 1


async def test_a_fault_is_reported_on_errors(open_engine: OpenEngine) -> None:
    async with open_engine() as engine:
        faulty = await engine.deploy(FAULTY)
        handler = await engine.deploy(LISTENER)
        await engine.subscribe(
            emitter_id=faulty.id, listener_id=handler.id, event_name=ERRORS_CHANNEL
        )
        run = await engine.start(faulty.id, input={"order": 7})
        await engine.drain()
        assert run.status == "faulted"
        assert run.error is not None and run.error["title"] == "Raised"
        page = await engine.events(faulty.id, event_name=ERRORS_CHANNEL)
        (report,) = page.items
        data = report.event["data"]
        assert report.event["type"] == "io.emitflow.run.faulted.v1"
        assert data["error"] == run.error
        assert data["original_event"] == {"order": 7}
        assert data["original_context"]["run_id"] == run.id
        assert (await engine.events(faulty.id)).count == 0  # the default channel is untouched
        (handled,) = (await engine.store.list_runs(workflow_id=handler.id)).items
        assert handled.status == "completed"


async def test_glob_subscription_hears_every_workflow(open_engine: OpenEngine) -> None:
    async with open_engine() as engine:
        emitter = await engine.deploy(EMITTER)
        listener = await engine.deploy(LISTENER)
        await engine.subscribe(emitter_id="p_*", listener_id=listener.id)
        await engine.start(emitter.id, input={"n": 1})
        await engine.start(emitter.id, input={"n": 2})
        await engine.drain()
        runs = (await engine.store.list_runs(workflow_id=listener.id)).items
        assert sorted(r.output["got"]["n"] for r in runs) == [1, 2]


@pytest.mark.parametrize(
    ("filters", "delivered"),
    [
        ([{"exact": {"type": "com.example.greeting"}}], True),
        ([{"prefix": {"type": "com.other."}}], False),
        ([{"sql": "type LIKE 'com.example.%' AND source = '/test/emitter'"}], True),
        ([{"cesql": "subject = 'nope'"}], False),
        ([{"not": {"suffix": {"type": ".greeting"}}}], False),
    ],
)
async def test_subscription_filters(
    open_engine: OpenEngine, filters: list[object], delivered: bool
) -> None:
    async with open_engine() as engine:
        emitter = await engine.deploy(EMITTER)
        listener = await engine.deploy(LISTENER)
        await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id, filters=filters)
        await engine.start(emitter.id, input={})
        await engine.drain()
        runs = (await engine.store.list_runs(workflow_id=listener.id)).items
        assert len(runs) == (1 if delivered else 0)


async def test_subscribe_refuses_what_cannot_work(open_engine: OpenEngine) -> None:
    async with open_engine() as engine:
        emitter = await engine.deploy(EMITTER)
        listener = await engine.deploy(LISTENER)
        with pytest.raises(NotFoundError, match="p_nope"):
            await engine.subscribe(emitter_id=emitter.id, listener_id="p_nope")
        with pytest.raises(NotFoundError, match="emitter workflow"):
            await engine.subscribe(emitter_id="p_gone", listener_id=listener.id)
        with pytest.raises(NotFoundError, match="webhook 'wh_abc' does not exist"):
            await engine.subscribe(emitter_id=emitter.id, listener_id="wh_abc")
        with pytest.raises(ConfigurationError, match="names no emitter"):
            await engine.subscribe(emitter_id="x_1", listener_id=listener.id)
        with pytest.raises(FilterError, match=r"filters\[0\]"):
            await engine.subscribe(
                emitter_id=emitter.id, listener_id=listener.id, filters=[{"sql": "type ="}]
            )
        with pytest.raises(FilterError, match="unknown filter dialect"):
            await engine.subscribe(
                emitter_id=emitter.id, listener_id=listener.id, filters=[{"regex": {}}]
            )
        assert await engine.subscriptions() == []
        first = await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
        again = await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
        assert first.id == again.id and first.id.startswith("sub_")
        assert len(await engine.subscriptions()) == 1
        assert await engine.unsubscribe(emitter_id=emitter.id, listener_id=listener.id)
        assert not await engine.unsubscribe(emitter_id=emitter.id, listener_id=listener.id)


async def test_ingested_event_reaches_its_source_subscriber(open_engine: OpenEngine) -> None:
    async with open_engine() as engine:
        listener = await engine.deploy(LISTENER)
        source = "https://shop.example.com/orders"
        dc = source_emitter_id(source)
        assert dc.startswith("dc_") and dc == source_emitter_id(source)
        assert dc != source_emitter_id(source + "/other")
        await engine.subscribe(emitter_id=dc, listener_id=listener.id)
        item = await engine.ingest(
            {
                "specversion": "1.0",
                "id": "o-1",
                "source": source,
                "type": "order.created",
                "data": {"sku": "x"},
            }
        )
        assert item.emitter_id == dc
        await engine.drain()
        (run,) = (await engine.store.list_runs(workflow_id=listener.id)).items
        assert run.output == {"got": {"sku": "x"}}
        assert run.hops == 1
        (stored,) = (await engine.events(dc)).items
        assert stored.event["id"] == "o-1"
        with pytest.raises(ConfigurationError, match="dc_"):
            await engine.ingest(CloudEvent.create(type="t", source="/s"), emitter_id="p_x")


async def test_events_are_listed_newest_first_with_cursors(open_engine: OpenEngine) -> None:
    async with open_engine() as engine:
        emitter = await engine.deploy(EMITTER)
        for n in range(5):
            await engine.start(emitter.id, input={"n": n})
        await engine.drain()
        page = await engine.events(emitter.id, limit=2)
        assert [e.event["data"]["n"] for e in page.items] == [4, 3]
        assert page.total_count == 5 and page.has_more
        older = await engine.events(emitter.id, limit=2, before=page.end_cursor)
        assert [e.event["data"]["n"] for e in older.items] == [2, 1]
        newer = await engine.events(emitter.id, limit=10, after=older.start_cursor)
        assert [e.event["data"]["n"] for e in newer.items] == [4, 3]
        every = await engine.events(None, event_name=None, limit=100)
        assert every.count == 5


async def test_start_without_waiting(open_engine: OpenEngine) -> None:
    async with open_engine() as engine:
        emitter = await engine.deploy(EMITTER)
        run = await engine.start(emitter.id, input={}, wait=False)
        assert run.status == "pending"
        ended = await engine.wait(run.id)
        assert ended.status == "completed"
        assert [t.name for t in await engine.tasks(run.id)] == ["announce"]


async def test_lifecycle_events_only_when_subscribed(open_engine: OpenEngine) -> None:
    async with open_engine() as engine:
        emitter = await engine.deploy(EMITTER)
        listener = await engine.deploy(LISTENER)
        await engine.start(emitter.id, input={})
        await engine.drain()
        assert (await engine.events(emitter.id, event_name="$lifecycle")).count == 0
        await engine.subscribe(
            emitter_id=emitter.id, listener_id=listener.id, event_name="$lifecycle"
        )
        await engine.start(emitter.id, input={})
        await engine.drain()
        # The fake runner has no trace; the engine handed it a trace sink, which is what counts.
        assert (await engine.events(None, event_name=None, limit=100)).count == 2


async def test_unknown_workflow_to_start(open_engine: OpenEngine) -> None:
    async with open_engine() as engine:
        with pytest.raises(NotFoundError):
            await engine.start("p_missing")
        stored = await engine.store.list_events(EventQuery())
        assert stored.count == 0


async def test_the_facade_reads_what_the_api_needs(open_engine: OpenEngine) -> None:
    # The API goes through these (not ``engine.store``): workflows, runs, events, tokens.
    async with open_engine() as engine:
        emitter = await engine.deploy(EMITTER)
        assert [v.id for v in await engine.workflows()] == [emitter.id]
        assert (await engine.get_workflow(emitter.id)).revision == 1
        with pytest.raises(NotFoundError):
            await engine.get_workflow("p_missing")
        run = await engine.start(emitter.id, input={"name": "Yoda"})
        await engine.drain()
        assert [r.id for r in (await engine.runs(emitter.id)).items] == [run.id]
        page = await engine.list_events(EventQuery(emitter_id=emitter.id, channel=None))
        assert page.count == 1
        assert await engine.delete_events(emitter.id) == 1
        assert (await engine.list_events(EventQuery(emitter_id=emitter.id))).count == 0
        record, secret = await make_token(engine, name="ci", scopes=["read"], now=NOW)
        assert await engine.find_token(digest(secret)) == record
        assert await engine.list_tokens() == [record]
        assert await engine.delete_token(record.id) and await engine.list_tokens() == []
