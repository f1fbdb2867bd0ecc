"""Timed schedules on a ``VirtualClock``: every, cron, after; due times kept across deploys."""

from __future__ import annotations

from datetime import timedelta

import pytest

from emitflow.clock import VirtualClock
from emitflow.dsl import parse_workflow
from emitflow.errors import DocumentError
from emitflow.runtime.timers import schedule_specs
from emitflow.store import MemoryStore
from tests.unit.runtime.conftest import OpenEngine
from tests.unit.runtime.fakes import doc

BODY = "do:\n  - tick:\n      set: {ticked: true}\n"


def timed(name: str, schedule: str) -> str:
    return doc(name, f"schedule:\n  {schedule}\n{BODY}")


async def count_runs(engine: object, workflow_id: str) -> int:
    store = engine.store  # type: ignore[attr-defined]
    return len((await store.list_runs(workflow_id=workflow_id, limit=100)).items)


async def test_every_runs_each_interval_and_coalesces_missed_ticks(
    open_engine: OpenEngine,
) -> None:
    clock = VirtualClock()
    async with open_engine(store=MemoryStore(clock=clock), clock=clock) as engine:
        flow = await engine.deploy(timed("every", "every: PT1M"))
        await engine.drain()
        assert await count_runs(engine, flow.id) == 0
        clock.advance(59)
        await engine.drain()
        assert await count_runs(engine, flow.id) == 0
        clock.advance(1)
        await engine.drain()
        assert await count_runs(engine, flow.id) == 1
        clock.advance(180)  # three intervals pass while nobody looks: one run
        await engine.drain()
        assert await count_runs(engine, flow.id) == 2
        (schedule,) = await engine.store.list_schedules(workflow_id=flow.id)
        assert schedule.next_due_at == clock.now() + timedelta(seconds=60)
        runs = (await engine.store.list_runs(workflow_id=flow.id)).items
        assert all(run.status == "completed" and run.input == {} for run in runs)
        assert runs[0].trigger["schedule"]["kind"] == "every"


async def test_cron_runs_on_its_ticks(open_engine: OpenEngine) -> None:
    clock = VirtualClock()  # 2026-01-01T00:00:00Z
    async with open_engine(store=MemoryStore(clock=clock), clock=clock) as engine:
        flow = await engine.deploy(timed("cron", "cron: '*/5 * * * *'"))
        (schedule,) = await engine.store.list_schedules(workflow_id=flow.id)
        assert schedule.next_due_at is not None
        assert schedule.next_due_at.isoformat() == "2026-01-01T00:05:00+00:00"
        clock.advance(299)
        await engine.drain()
        assert await count_runs(engine, flow.id) == 0
        clock.advance(1)
        await engine.drain()
        assert await count_runs(engine, flow.id) == 1
        clock.advance(300)
        await engine.drain()
        assert await count_runs(engine, flow.id) == 2


async def test_after_waits_for_the_previous_run_to_end(open_engine: OpenEngine) -> None:
    clock = VirtualClock()
    async with open_engine(store=MemoryStore(clock=clock), clock=clock) as engine:
        flow = await engine.deploy(timed("after", "after: PT30S"))
        clock.advance(30)
        await engine.drain()
        assert await count_runs(engine, flow.id) == 1
        (schedule,) = await engine.store.list_schedules(workflow_id=flow.id)
        assert schedule.next_due_at == clock.now() + timedelta(seconds=30)
        clock.advance(30)
        await engine.drain()
        assert await count_runs(engine, flow.id) == 2


async def test_redeploying_keeps_or_resets_due_times(open_engine: OpenEngine) -> None:
    clock = VirtualClock()
    async with open_engine(store=MemoryStore(clock=clock), clock=clock) as engine:
        flow = await engine.deploy(timed("every", "every: PT1M"))
        clock.advance(30)
        await engine.deploy(timed("every", "every: PT1M").replace("ticked: true", "t: 1"))
        (kept,) = await engine.store.list_schedules(workflow_id=flow.id)
        assert kept.next_due_at == clock.now() + timedelta(seconds=30)
        await engine.deploy(timed("every", "every: PT2M"))
        (reset,) = await engine.store.list_schedules(workflow_id=flow.id)
        assert reset.next_due_at == clock.now() + timedelta(seconds=120)
        await engine.deploy(doc("every", BODY))
        assert await engine.store.list_schedules(workflow_id=flow.id) == []


async def test_an_invalid_cron_is_refused_before_anything_is_stored(
    open_engine: OpenEngine,
) -> None:
    async with open_engine() as engine:
        with pytest.raises(DocumentError, match="CRON"):
            await engine.deploy(timed("bad", "cron: 'every tuesday'"))
        assert await engine.store.list_workflows() == []


def test_schedule_specs() -> None:
    workflow = parse_workflow(timed("x", "every: {minutes: 2}"))
    assert schedule_specs(workflow) == {"every": {"seconds": 120.0}}
    assert schedule_specs(parse_workflow(doc("y", BODY))) == {}
