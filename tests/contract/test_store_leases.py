"""Run leases, change reports and migrations, on every backend: what lets several processes
share one store (``RunLeases``, ``ChangeFeed``, ``Migrations`` in ``store/base.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

import pytest

from emitflow.errors import LeaseLostError, NotFoundError, StoreError
from emitflow.events.cloudevent import CloudEvent
from emitflow.store.base import CHANGE_TOPICS, Store
from emitflow.store.records import NewEvent, NewRun, RunLease, Transition
from tests.contract.stores import ManualClock


async def _runs(store: Store, count: int, lease: RunLease | None = None) -> list[str]:
    made = await store.create_runs(
        [NewRun(workflow_id="p_w", workflow_revision=1, lease=lease) for _ in range(count)]
    )
    return [run.id for run, _ in made]


async def test_an_unleased_run_is_claimed_once_oldest_first(store: Store) -> None:
    ids = await _runs(store, 3)
    first = await store.claim_runs(owner="w1", limit=2, lease_seconds=10)
    assert [run.id for run in first] == ids[:2]
    second = await store.claim_runs(owner="w2", limit=10, lease_seconds=10)
    assert [run.id for run in second] == ids[2:]
    assert await store.claim_runs(owner="w3", limit=10, lease_seconds=10) == []


async def test_a_run_created_leased_is_claimed_only_after_its_lease(
    store: Store, clock: ManualClock
) -> None:
    (run_id,) = await _runs(store, 1, RunLease("w1", 5))
    assert await store.claim_runs(owner="w2", lease_seconds=10) == []
    clock.advance(5.5)
    claimed = await store.claim_runs(owner="w2", lease_seconds=10)
    assert [run.id for run in claimed] == [run_id]
    assert claimed[0].status == "pending"


async def test_renewing_keeps_a_run_and_a_lost_lease_is_not_renewed(
    store: Store, clock: ManualClock
) -> None:
    kept, lost = await _runs(store, 2, RunLease("w1", 5))
    clock.advance(4)
    assert await store.renew_runs("w1", [kept], lease_seconds=5) == [kept]
    clock.advance(3)  # lost's lease ended at 5 s; kept's runs to 9 s
    taken = await store.claim_runs(owner="w2", lease_seconds=10)
    assert [run.id for run in taken] == [lost]
    assert sorted(await store.renew_runs("w1", [kept, lost], lease_seconds=5)) == [kept]
    assert await store.renew_runs("w2", [lost, "r_missing"], lease_seconds=5) == [lost]


async def test_ended_runs_are_neither_claimed_nor_renewed(store: Store, clock: ManualClock) -> None:
    (run_id,) = await _runs(store, 1, RunLease("w1", 5))
    run = await store.get_run(run_id)
    ended = replace(run, status="completed", started_at=clock.now(), ended_at=clock.now())
    await store.commit_transition(Transition(run_id=run_id, run=ended))
    assert await store.renew_runs("w1", [run_id], lease_seconds=5) == []
    clock.advance(60)
    assert await store.claim_runs(owner="w2", lease_seconds=5) == []


async def test_a_running_run_whose_owner_died_is_claimed_with_its_status(
    store: Store, clock: ManualClock
) -> None:
    (run_id,) = await _runs(store, 1, RunLease("w1", 5))
    run = await store.get_run(run_id)
    running = replace(run, status="running", started_at=clock.now())
    await store.commit_transition(Transition(run_id=run_id, run=running))
    clock.advance(6)
    claimed = await store.claim_runs(owner="w2", lease_seconds=5)
    assert [(r.id, r.status) for r in claimed] == [(run_id, "running")]


async def test_concurrent_claims_never_share_a_run(store: Store) -> None:
    ids = await _runs(store, 12)
    got = await asyncio.gather(
        *(store.claim_runs(owner=f"w{n}", limit=5, lease_seconds=30) for n in range(4))
    )
    claimed = [run.id for batch in got for run in batch]
    assert sorted(claimed) == sorted(ids)
    assert len(set(claimed)) == len(claimed)


async def test_a_lease_must_last_and_name_its_owner() -> None:
    with pytest.raises(StoreError, match="positive number of seconds"):
        RunLease("w1", 0)
    with pytest.raises(StoreError, match="owner"):
        RunLease("", 5)


async def test_the_store_says_whether_it_is_shared_and_takes_change_callbacks(
    store: Store,
) -> None:
    assert isinstance(store.shared, bool)
    seen: list[str] = []
    store.on_change(seen.append)
    await _runs(store, 1)
    # One process's own writes are not news to it on a store only it uses.
    if not store.shared:
        assert seen == []
    assert all(topic in CHANGE_TOPICS for topic in seen)


async def test_migrate_brings_a_new_store_up_to_date_once(
    make_store: Callable[[], Store],
) -> None:
    fresh = make_store()
    await fresh.migrate()
    assert await fresh.migrate() == []
    async with make_store() as opened:
        await _runs(opened, 1)
        assert await opened.migrate() == []


async def test_a_commit_fenced_on_a_lost_lease_is_refused_and_writes_nothing(
    store: Store, clock: ManualClock
) -> None:
    """A process that stalled past its lease cannot commit over the one that claimed the run."""
    (run_id,) = await _runs(store, 1, RunLease("w1", 5))
    run = await store.get_run(run_id)
    running = replace(run, status="running", started_at=clock.now())
    await store.commit_transition(Transition(run_id=run_id, run=running, owner="w1"))
    clock.advance(6)
    assert [r.id for r in await store.claim_runs(owner="w2", lease_seconds=5)] == [run_id]
    emitted = NewEvent(
        emitter_id="p_w",
        event=CloudEvent(
            attributes={"specversion": "1.0", "id": "e1", "source": "/s", "type": "t"}
        ),
    )
    ended = replace(running, status="completed", ended_at=clock.now())
    late = Transition(run_id=run_id, run=ended, owner="w1")
    with pytest.raises(LeaseLostError, match="no longer leased to 'w1'") as refused:
        await store.commit_transition(late, [emitted])
    assert refused.value.cause == "leased to 'w2'"
    with pytest.raises(LeaseLostError):  # a batch with a refused step commits none of it
        await store.commit_transitions(
            [(Transition(run_id=run_id, owner="w2"), [emitted]), (late, [emitted])]
        )
    assert (await store.get_run(run_id)).status == "running"
    assert await store.claim_outbox(limit=10) == []
    await store.commit_transition(Transition(run_id=run_id, run=ended, owner="w2"), [emitted])
    assert (await store.get_run(run_id)).status == "completed"


async def test_a_fenced_commit_on_an_unleased_or_missing_run_is_refused(store: Store) -> None:
    (run_id,) = await _runs(store, 1)
    with pytest.raises(LeaseLostError) as refused:
        await store.commit_transition(Transition(run_id=run_id, owner="w1"))
    assert refused.value.cause == "not leased"
    with pytest.raises(NotFoundError):
        await store.commit_transition(Transition(run_id="r_missing", owner="w1"))
