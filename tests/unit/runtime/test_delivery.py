"""Delivery guarantees: the loop guard, concurrency 1 in order, overflow, redelivery, recovery."""

from __future__ import annotations

import asyncio

from emitflow.clock import VirtualClock
from emitflow.errors import StoreError
from emitflow.runtime import engine_executor
from emitflow.store import MemoryStore, NewRun
from emitflow.store.records import ERRORS_CHANNEL, StoredTask, Transition
from tests.unit.runtime.conftest import OpenEngine
from tests.unit.runtime.fakes import EMITTER, LISTENER, FakeRunner, eventually, many_emits


async def test_self_subscription_stops_at_the_hop_limit(open_engine: OpenEngine) -> None:
    async with open_engine(max_hops=3) as engine:
        looper = await engine.deploy(EMITTER)
        await engine.subscribe(emitter_id=looper.id, listener_id=looper.id)
        await engine.start(looper.id, input={"round": 0})
        await engine.drain()
        runs = (await engine.store.list_runs(workflow_id=looper.id, limit=100)).items
        assert sorted(run.hops for run in runs) == [0, 1, 2, 3]
        assert (await engine.events(looper.id)).total_count == 4
        (report,) = (await engine.events(looper.id, event_name=ERRORS_CHANNEL)).items
        assert report.event["type"] == "io.emitflow.event.undelivered.v1"
        assert report.event["data"]["reason"] == "loop"
        assert report.event["data"]["original_event"]["emitflowhops"] == 3


async def test_default_hop_limit_is_sixteen(open_engine: OpenEngine) -> None:
    async with open_engine() as engine:
        looper = await engine.deploy(EMITTER)
        await engine.subscribe(emitter_id=looper.id, listener_id=looper.id)
        await engine.start(looper.id, input={})
        await engine.drain()
        runs = (await engine.store.list_runs(workflow_id=looper.id, limit=100)).items
        assert len(runs) == 17  # the run started by hand, then 16 event-started ones


async def test_concurrency_one_runs_in_event_order(
    open_engine: OpenEngine, runner: FakeRunner
) -> None:
    async with open_engine(concurrency={"p_serial": 1}) as engine:
        emitter = await engine.deploy(many_emits("ticker", 8))
        listener = await engine.deploy(LISTENER, id="p_serial")
        await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
        await engine.start(emitter.id, input={})
        await engine.drain()
    seen = [data[0]["data"]["n"] for name, data in runner.calls if name == "listener"]
    assert seen == list(range(8))
    assert runner.peak == 1


async def test_document_declares_concurrency(open_engine: OpenEngine, runner: FakeRunner) -> None:
    serial = LISTENER.replace(
        "version: '1.0.0'", "version: '1.0.0', metadata: {emitflow: {concurrency: 1}}"
    )
    async with open_engine() as engine:
        emitter = await engine.deploy(many_emits("ticker", 6))
        listener = await engine.deploy(serial)
        await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
        await engine.start(emitter.id, input={})
        await engine.drain()
    assert [d[0]["data"]["n"] for n, d in runner.calls if n == "listener"] == list(range(6))
    assert runner.peak == 1


async def test_overflow_keeps_events_in_the_outbox_and_drops_nothing(
    open_engine: OpenEngine, runner: FakeRunner
) -> None:
    store = MemoryStore()
    async with open_engine(store=store) as engine:
        emitter = await engine.deploy(many_emits("burst", 6))
        listener = await engine.deploy(LISTENER)
    gate = asyncio.Event()
    runner.block, runner.block_only = gate, "listener"
    async with open_engine(store=store, concurrency={listener.id: 1}, queue_size=2) as engine:
        await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
        await engine.start(emitter.id, input={})

        async def three_admitted() -> bool:
            runs = (await store.list_runs(workflow_id=listener.id)).items
            # One running, two queued (the queue is full), three left un-done in the outbox.
            return len(runs) == 3 and len(store._outbox) == 3

        await eventually(three_admitted)
        assert (await engine.events(emitter.id)).total_count == 6  # all logged
        assert len(store._outbox) == 3  # the rest wait, un-done, in the outbox
        gate.set()
        await engine.drain()
        runs = (await store.list_runs(workflow_id=listener.id, limit=100)).items
        assert len(runs) == 6
        assert not store._outbox
    seen = [d[0]["data"]["n"] for n, d in runner.calls if n == "listener"]
    assert seen == list(range(6))


async def test_a_row_claimed_again_after_a_crash_starts_no_second_run(
    open_engine: OpenEngine,
) -> None:
    clock = VirtualClock()
    store = MemoryStore(clock=clock)
    real_done = store.mark_outbox_done

    async def crash_before_done(ids: object) -> int:
        raise StoreError("disk gone")

    store.mark_outbox_done = crash_before_done  # type: ignore[method-assign]
    async with open_engine(store=store, clock=clock) as engine:
        emitter = await engine.deploy(EMITTER)
        listener = await engine.deploy(LISTENER)
        await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
        await engine.start(emitter.id, input={})

        async def listener_ran() -> bool:
            runs = (await store.list_runs(workflow_id=listener.id)).items
            return bool(runs) and runs[0].status == "completed"

        await eventually(listener_ran)
    store.mark_outbox_done = real_done  # type: ignore[method-assign]
    assert len(store._outbox) == 1  # routed, never marked done
    clock.advance(11)  # the dead dispatcher's lease runs out
    async with open_engine(store=store, clock=clock) as engine:
        await engine.drain()
        assert len((await store.list_runs(workflow_id=listener.id)).items) == 1
        assert (await engine.events(emitter.id)).total_count == 1
        assert not store._outbox


async def test_runs_left_behind_are_recovered(open_engine: OpenEngine) -> None:
    store = MemoryStore()
    async with open_engine(store=store, executor=engine_executor) as engine:
        flow = await engine.deploy(EMITTER)
    await store.open()
    pending, _ = await store.create_run(
        NewRun(workflow_id=flow.id, workflow_revision=1, input={"left": "pending"})
    )
    cut, _ = await store.create_run(
        NewRun(workflow_id=flow.id, workflow_revision=1, input={"n": 1}, status="running")
    )
    recorded = {"specversion": "1.0", "id": "e-1", "source": "/test/emitter", "data": {"n": 1}}
    await store.commit_transition(
        Transition(
            run_id=cut.id,
            task=StoredTask(
                run_id=cut.id,
                sequence=1,
                reference="/do/0/announce",
                name="announce",
                status="completed",
                output=recorded,
                emits=(recorded,),
            ),
        )
    )
    await store.close()
    async with open_engine(store=store, executor=engine_executor) as engine:
        await engine.drain()
        assert (await engine.get_run(pending.id)).status == "completed"
        resumed = await engine.get_run(cut.id)
        # Its emit had committed before the cut: replayed from the record, not emitted again.
        assert resumed.status == "completed", resumed.error
        assert resumed.output == recorded
        (task,) = await engine.tasks(cut.id)
        assert task.emits == (recorded,)
        logged = (await engine.events(flow.id)).items
        assert [stored.metadata["run_id"] for stored in logged] == [pending.id]


async def test_a_runner_crash_faults_the_run(open_engine: OpenEngine) -> None:
    async def broken(workflow: object, *, input: object, options: object) -> object:
        raise RuntimeError("runner bug")

    async with open_engine(executor=broken) as engine:
        flow = await engine.deploy(EMITTER)
        run = await engine.start(flow.id, input={})
        assert run.status == "faulted"
        assert run.error is not None and "runner bug" in run.error["detail"]
        await engine.drain()
        assert (await engine.events(flow.id, event_name=ERRORS_CHANNEL)).count == 1
