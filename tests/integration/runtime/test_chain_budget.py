"""The loop guard's budget per causal chain (issue 10, item 10): a cycle that fans out stops.

A workflow subscribed to itself emits 4 events per run: the hop limit (16) alone would let it
start 4 + 16 + … + 4^16 runs. The budget stops it at ``max_chain_runs`` runs started by the
events of one root run, and the events past it are reported on ``$errors``.
"""

from __future__ import annotations

from typing import Any

from emitflow.runtime import Engine
from emitflow.runtime.settings import DEFAULT_MAX_CHAIN_RUNS
from emitflow.store.records import ERRORS_CHANNEL
from tests.integration.runtime.conftest import OpenEngine
from tests.unit.runtime.fakes import many_emits


async def _count_runs(engine: Engine, workflow_id: str) -> int:
    count, before = 0, None
    while True:
        page = await engine.store.list_runs(workflow_id=workflow_id, limit=100, before=before)
        count += page.count
        if not page.has_more:
            return count
        before = page.end_cursor


Outcome = tuple[int, list[dict[str, Any]], int | None]


async def _fan_out(open_engine: OpenEngine, **settings: int) -> Outcome:
    """Runs started by events, the ``$errors`` reports, events emitted: after a drain."""
    async with open_engine(**settings) as engine:
        looper = await engine.deploy(many_emits("fan", 4))
        await engine.subscribe(emitter_id=looper.id, listener_id=looper.id)
        root = await engine.start(looper.id, input={})
        await engine.drain()
        runs = await _count_runs(engine, looper.id)
        reports = (await engine.events(looper.id, event_name=ERRORS_CHANNEL, limit=100)).items
        emitted = (await engine.events(looper.id, limit=1)).total_count
        newest = (await engine.events(looper.id)).items
        chains = {stored.event["emitflowchain"] for stored in newest}
        assert chains == {root.id}  # every event of the cycle is in the root run's chain
    return runs - 1, [dict(stored.event) for stored in reports], emitted


async def test_a_self_subscribed_workflow_emitting_4_events_per_run_stops_at_the_budget(
    open_engine: OpenEngine,
) -> None:
    started, reports, emitted = await _fan_out(open_engine, max_chain_runs=50)
    assert started == 50
    assert emitted == 4 * 51  # the root run's 4 events and 4 from each run they started
    assert reports, "the events past the budget are reported"
    assert {report["data"]["reason"] for report in reports} == {"budget"}
    detail = reports[0]["data"]["detail"]
    assert "has started 50 runs (the limit, EngineSettings.max_chain_runs)" in detail


async def test_the_default_budget_is_1000_runs(open_engine: OpenEngine) -> None:
    assert DEFAULT_MAX_CHAIN_RUNS == 1_000
    started, reports, _ = await _fan_out(open_engine)
    assert started == 1_000
    assert reports
