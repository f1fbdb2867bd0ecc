"""The ``Store`` contract: every backend passes this one suite (backends: ``conftest.py``).

Backends are built lazily by name (``request.getfixturevalue``), so a backend that cannot be
built skips only its own cases. Time is a ``VirtualClock``: leases expire by moving it forward.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from emitflow.errors import NotFoundError, StoreError
from emitflow.events.cloudevent import CloudEvent
from emitflow.store import (
    EventQuery,
    MemoryStore,
    NewEvent,
    NewRun,
    NewWorkflow,
    RetentionPolicy,
    Schedule,
    Store,
    StoredTask,
    TokenRecord,
    Transition,
    Wait,
)
from emitflow.store.records import Webhook
from tests.contract.stores import START, ManualClock


def event(n: int, *, source: str = "/test", type: str = "t.happened", **attrs: Any) -> CloudEvent:
    return CloudEvent(
        attributes={"specversion": "1.0", "id": f"e{n}", "source": source, "type": type, **attrs},
        data={"n": n},
    )


def emitted(n: int, emitter: str = "p_a", channel: str = "", **attrs: Any) -> NewEvent:
    return NewEvent(emitter_id=emitter, channel=channel, event=event(n, **attrs))


def workflow(doc: str = "document: 1", **changes: Any) -> NewWorkflow:
    return replace(
        NewWorkflow(namespace="demo", name="orders", version="1.0.0", document=doc), **changes
    )


async def new_run(store: Store, workflow_id: str = "p_w", **changes: Any) -> str:
    run, created = await store.create_run(
        NewRun(workflow_id=workflow_id, workflow_revision=1, **changes)
    )
    assert created
    return run.id


def task(run_id: str, sequence: int = 1, **changes: Any) -> StoredTask:
    base = StoredTask(
        run_id=run_id,
        sequence=sequence,
        reference=f"/do/{sequence}/step",
        name="step",
        status="running",
        started_at=START,
    )
    return replace(base, **changes)


# --- lifecycle -----------------------------------------------------------------------------


async def test_a_store_not_open_refuses_work(make_store: Callable[[], Store]) -> None:
    closed = make_store()
    with pytest.raises(StoreError, match="not open"):
        await closed.list_workflows()
    async with closed:
        assert await closed.list_workflows() == []
    await closed.close()  # a second close is harmless


# --- workflows -----------------------------------------------------------------------------


async def test_workflow_versions_keep_their_id(store: Store, clock: ManualClock) -> None:
    first = await store.put_workflow(workflow(definition={"do": [1]}))
    assert first.id.startswith("p_") and first.revision == 1 and first.created_at == START
    assert first.definition == {"do": [1]}
    clock.advance(1)
    second = await store.put_workflow(workflow("document: 2", id=first.id, version="1.1.0"))
    assert (second.id, second.revision, second.version) == (first.id, 2, "1.1.0")
    assert await store.get_workflow(first.id) == second
    assert await store.get_workflow(first.id, revision=1) == first
    assert await store.list_workflow_versions(first.id) == [first, second]
    assert await store.list_workflow_versions("p_unknown") == []


async def test_the_same_document_again_adds_no_version(store: Store) -> None:
    first = await store.put_workflow(workflow(definition={"a": 1}))
    assert await store.put_workflow(workflow(definition={"a": 1}, id=first.id)) == first
    changed = await store.put_workflow(workflow(definition={"a": 2}, id=first.id))
    assert changed.revision == 2


async def test_a_given_new_id_creates_that_workflow(store: Store) -> None:
    made = await store.put_workflow(workflow(id="p_chosen"))
    assert (made.id, made.revision) == ("p_chosen", 1)


async def test_list_workflows_gives_the_latest_of_each(store: Store) -> None:
    b = await store.put_workflow(workflow(name="b"))
    a = await store.put_workflow(workflow(name="a"))
    a2 = await store.put_workflow(workflow("v2", name="a", id=a.id))
    assert await store.list_workflows() == [a2, b]


async def test_workflow_named_finds_the_first_id_by_its_latest_name(store: Store) -> None:
    a = await store.put_workflow(workflow(name="a", id="p_2"))
    await store.put_workflow(workflow(name="a", id="p_1"))
    await store.put_workflow(workflow("renamed", name="b", id="p_1"))
    assert await store.workflow_named("demo", "a") == a.id  # p_1 is now named b
    assert await store.workflow_named("demo", "b") == "p_1"
    assert await store.workflow_named("other", "a") is None
    assert await store.workflow_named("demo", "c") is None


async def test_missing_workflows_are_not_found(store: Store) -> None:
    made = await store.put_workflow(workflow())
    with pytest.raises(NotFoundError):
        await store.get_workflow("p_missing")
    with pytest.raises(NotFoundError):
        await store.get_workflow(made.id, revision=2)


async def test_delete_workflow_removes_versions_schedules_and_subscriptions(store: Store) -> None:
    made = await store.put_workflow(workflow())
    other = await store.put_workflow(workflow(name="other"))
    await store.put_schedule(Schedule(workflow_id=made.id, kind="cron", spec="* * * * *"))
    await store.put_subscription(made.id, "p_listener")
    await store.put_subscription("dc_source", made.id)
    kept = await store.put_subscription(other.id, "p_listener")
    assert await store.delete_workflow(made.id) is True
    with pytest.raises(NotFoundError):
        await store.get_workflow(made.id)
    assert await store.list_schedules() == []
    assert await store.list_subscriptions() == [kept]
    assert await store.delete_workflow(made.id) is False


# --- runs and tasks ------------------------------------------------------------------------


async def test_create_and_get_a_run(store: Store) -> None:
    run, created = await store.create_run(
        NewRun(
            workflow_id="p_w",
            workflow_revision=3,
            input={"a": [1, 2]},
            context={"c": 1},
            trigger={"event": {"id": "e1"}},
            hops=2,
        )
    )
    assert created and run.id.startswith("r_")
    assert (run.status, run.input, run.hops, run.created_at) == ("pending", {"a": [1, 2]}, 2, START)
    assert run.started_at is None and run.output is None
    assert await store.get_run(run.id) == run
    assert await store.list_tasks(run.id) == []


async def test_missing_runs_are_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        await store.get_run("r_missing")
    with pytest.raises(NotFoundError):
        await store.list_tasks("r_missing")
    with pytest.raises(NotFoundError):
        await store.commit_transition(Transition(run_id="r_missing"))


async def test_a_listener_starts_once_per_event(store: Store) -> None:
    key = ("/orders", "e-1")
    first, created = await store.create_run(
        NewRun(workflow_id="p_l", workflow_revision=1, dedupe_key=key)
    )
    again, created_again = await store.create_run(
        NewRun(workflow_id="p_l", workflow_revision=1, dedupe_key=key, input={"other": 1})
    )
    assert created and not created_again and again == first
    other_workflow, created_other = await store.create_run(
        NewRun(workflow_id="p_m", workflow_revision=1, dedupe_key=key)
    )
    other_event, created_event = await store.create_run(
        NewRun(workflow_id="p_l", workflow_revision=1, dedupe_key=("/orders", "e-2"))
    )
    assert created_other and created_event
    assert len({first.id, other_workflow.id, other_event.id}) == 3


async def test_runs_created_together_keep_order_and_dedupe(store: Store) -> None:
    earlier, _ = await store.create_run(
        NewRun(workflow_id="p_l", workflow_revision=1, dedupe_key=("/o", "e-0"))
    )
    results = await store.create_runs(
        [
            NewRun(workflow_id="p_l", workflow_revision=1, dedupe_key=("/o", "e-1"), input=1),
            NewRun(workflow_id="p_l", workflow_revision=1, dedupe_key=("/o", "e-0")),
            NewRun(workflow_id="p_l", workflow_revision=1, dedupe_key=("/o", "e-1"), input=2),
            NewRun(workflow_id="p_m", workflow_revision=1, input=3),
        ]
    )
    assert [created for _, created in results] == [True, False, False, True]
    assert results[1][0] == earlier and results[2][0] == results[0][0]
    assert [run.input for run, _ in results] == [1, None, 1, 3]
    page = await store.list_runs(limit=10)
    assert [run.id for run in page.items] == [results[3][0].id, results[0][0].id, earlier.id]
    assert await store.create_runs([]) == []


async def test_runs_created_together_are_all_or_nothing(store: Store) -> None:
    good = NewRun(workflow_id="p_l", workflow_revision=1, input={"ok": True})
    bad = NewRun(workflow_id="p_l", workflow_revision=1, input={"when": object()})
    with pytest.raises(StoreError):
        await store.create_runs([good, bad])
    assert (await store.list_runs(limit=10)).items == ()


async def test_transitions_update_the_run_and_its_tasks(store: Store, clock: ManualClock) -> None:
    run = await store.get_run(await new_run(store))
    clock.advance(5)
    running = replace(run, status="running", started_at=clock.now())
    await store.commit_transition(Transition(run_id=run.id, run=running, task=task(run.id)))
    done = task(run.id, status="completed", output={"ok": True}, ended_at=clock.now())
    await store.commit_transition(Transition(run_id=run.id, task=done))
    second = task(run.id, 2, emits=[{"id": "e1"}], log="printed\n")
    await store.commit_transition(Transition(run_id=run.id, task=second))
    assert await store.get_run(run.id) == running
    assert await store.list_tasks(run.id) == [done, second]
    assert (await store.list_tasks(run.id))[1].emits == ({"id": "e1"},)


async def test_a_whole_task_list_replaces_the_runs_records(
    store: Store, clock: ManualClock
) -> None:
    run = await store.get_run(await new_run(store))
    await store.commit_transition(Transition(run_id=run.id, task=task(run.id, 7)))
    shared = {"total": 1}  # one task's output is the next one's input, as in a do list
    whole = tuple(
        task(
            run.id,
            n,
            reference="/do/0/loop/do/0/acc" if n > 1 else "/do/0/loop",
            name="acc" if n > 1 else "loop",
            status="completed",
            input=shared if n == 3 else {"n": n},
            output=shared if n == 2 else {"n": n, "deep": [None, "é", 1.5]},
            error={"title": "bad"} if n == 4 else None,
            emits=[{"id": f"e{n}"}] if n == 5 else (),
            log="printed\n" if n == 5 else None,
            ended_at=clock.now() + timedelta(microseconds=n),
        )
        for n in range(1, 2_503)  # more than one stored batch
    )
    done = replace(run, status="completed", ended_at=clock.now())
    await store.commit_transition(Transition(run_id=run.id, run=done, tasks=whole))
    assert await store.list_tasks(run.id) == list(whole)  # row 7 replaced, nothing else kept
    assert await store.get_run(run.id) == done
    # A record written afterwards replaces the one of its sequence.
    later = task(run.id, 3, status="faulted")
    await store.commit_transition(Transition(run_id=run.id, task=later))
    listed = await store.list_tasks(run.id)
    assert len(listed) == len(whole) and listed[2] == later and listed[3] == whole[3]


async def test_a_task_list_with_a_bad_value_is_refused_whole(store: Store) -> None:
    run = await store.get_run(await new_run(store))
    await store.commit_transition(Transition(run_id=run.id, task=task(run.id)))
    bad = (task(run.id, 1), task(run.id, 2, output={1, 2}))
    with pytest.raises(StoreError, match="JSON"):
        await store.commit_transition(
            Transition(run_id=run.id, run=replace(run, status="completed"), tasks=bad)
        )
    assert await store.list_tasks(run.id) == [task(run.id)]
    assert await store.get_run(run.id) == run
    with pytest.raises(StoreError, match="carries"):
        Transition(run_id=run.id, tasks=(task("r_other"),))


async def test_transitions_committed_together_are_all_or_nothing(store: Store) -> None:
    run_id = await new_run(store)
    wait = Wait(run_id=run_id, reference="/do/1/w", workflow_id="p_w")
    items = await store.commit_transitions(
        [
            (Transition(run_id=run_id, task=task(run_id), wait=wait), [emitted(1)]),
            (Transition(run_id=run_id, task=task(run_id, 2), clear_wait=wait.reference), []),
            (Transition(run_id=run_id, task=task(run_id, 3)), [emitted(2), emitted(3)]),
        ]
    )
    assert [[i.event.id for i in step] for step in items] == [["e1"], [], ["e2", "e3"]]
    assert [t.sequence for t in await store.list_tasks(run_id)] == [1, 2, 3]
    assert await store.list_waits() == []
    with pytest.raises(NotFoundError, match="no wait"):
        await store.commit_transitions(
            [
                (Transition(run_id=run_id, task=task(run_id, 4)), [emitted(4)]),
                (Transition(run_id=run_id, clear_wait=wait.reference), []),
            ]
        )
    with pytest.raises(StoreError, match="JSON"):
        await store.commit_transitions(
            [
                (Transition(run_id=run_id, task=task(run_id, 4)), [emitted(4)]),
                (Transition(run_id=run_id, task=task(run_id, 5, output={1})), []),
            ]
        )
    assert [t.sequence for t in await store.list_tasks(run_id)] == [1, 2, 3]
    assert [i.event.id for i in await store.claim_outbox()] == ["e1", "e2", "e3"]


async def test_a_run_keeps_its_identity(store: Store, clock: ManualClock) -> None:
    run = await store.get_run(await new_run(store))
    forged = replace(run, workflow_id="p_other", created_at=START + timedelta(days=1))
    await store.commit_transition(Transition(run_id=run.id, run=replace(forged, status="running")))
    assert await store.get_run(run.id) == replace(run, status="running")


async def test_a_transition_commits_its_events_to_the_outbox(store: Store) -> None:
    run_id = await new_run(store)
    items = await store.commit_transition(
        Transition(run_id=run_id, task=task(run_id)), [emitted(1), emitted(2, channel="c")]
    )
    assert [(i.event.id, i.channel, i.attempts) for i in items] == [("e1", "", 0), ("e2", "c", 0)]
    assert items[0].id < items[1].id
    claimed = await store.claim_outbox()
    assert [i.id for i in claimed] == [i.id for i in items]
    assert claimed[0].event == event(1) and claimed[0].created_at == START


async def test_a_failed_transition_leaves_nothing(store: Store) -> None:
    run = await store.get_run(await new_run(store))
    with pytest.raises(NotFoundError, match="no wait"):
        await store.commit_transition(
            Transition(
                run_id=run.id,
                run=replace(run, status="running"),
                task=task(run.id),
                wait=Wait(run_id=run.id, reference="/do/2/w", workflow_id="p_w"),
                clear_wait="/do/9/missing",
            ),
            [emitted(1)],
        )
    assert await store.get_run(run.id) == run
    assert await store.list_tasks(run.id) == []
    assert await store.list_waits() == []
    assert await store.claim_outbox() == []


async def test_values_that_are_not_json_are_refused_whole(store: Store) -> None:
    run = await store.get_run(await new_run(store))
    with pytest.raises(StoreError, match="JSON"):
        await store.commit_transition(
            Transition(run_id=run.id, run=replace(run, output={1, 2})), [emitted(1)]
        )
    with pytest.raises(StoreError, match="JSON"):
        await store.create_run(NewRun(workflow_id="p_w", workflow_revision=1, input=float("nan")))
    assert await store.get_run(run.id) == run
    assert await store.claim_outbox() == []
    assert (await store.list_runs()).count == 1


async def test_naive_times_are_refused(store: Store) -> None:
    run = await store.get_run(await new_run(store))
    naive = replace(run, started_at=datetime(2026, 1, 1))  # no timezone: refused
    with pytest.raises(StoreError, match="timezone"):
        await store.commit_transition(Transition(run_id=run.id, run=naive))


async def test_a_transition_of_another_runs_parts_is_refused() -> None:
    with pytest.raises(StoreError, match="carries"):
        Transition(run_id="r_1", task=task("r_2"))


async def test_list_runs_newest_first_with_cursors(store: Store) -> None:
    ids = [await new_run(store, "p_a" if n % 2 else "p_b") for n in range(7)]
    page = await store.list_runs(limit=3)
    assert [r.id for r in page.items] == ids[::-1][:3] and page.has_more
    assert (page.start_cursor, page.end_cursor, page.total_count) == (ids[6], ids[4], None)
    older = await store.list_runs(limit=3, before=page.end_cursor)
    assert [r.id for r in older.items] == [ids[3], ids[2], ids[1]] and older.has_more
    last = await store.list_runs(limit=3, before=older.end_cursor)
    assert [r.id for r in last.items] == [ids[0]] and not last.has_more
    newer = await store.list_runs(limit=2, after=ids[1])
    assert [r.id for r in newer.items] == [ids[3], ids[2]] and newer.has_more
    between = await store.list_runs(before=ids[5], after=ids[2])
    assert [r.id for r in between.items] == [ids[4], ids[3]] and not between.has_more
    of_a = await store.list_runs(workflow_id="p_a")
    assert [r.id for r in of_a.items] == [ids[5], ids[3], ids[1]]
    with pytest.raises(NotFoundError):
        await store.list_runs(before="r_missing")


async def test_list_runs_by_status(store: Store) -> None:
    first = await store.get_run(await new_run(store))
    await new_run(store)
    await store.commit_transition(Transition(run_id=first.id, run=replace(first, status="faulted")))
    faulted = await store.list_runs(statuses=["faulted", "cancelled"])
    assert [r.id for r in faulted.items] == [first.id]
    assert (await store.list_runs(statuses=[])).items == ()


async def test_runs_in_flight_are_found_after_a_crash(store: Store) -> None:
    pending = await new_run(store)
    running = await store.get_run(await new_run(store, status="running"))
    done = await store.get_run(await new_run(store))
    waiting = await store.get_run(await new_run(store))
    await store.commit_transition(Transition(run_id=done.id, run=replace(done, status="completed")))
    await store.commit_transition(
        Transition(run_id=waiting.id, run=replace(waiting, status="waiting"))
    )
    assert [r.id for r in await store.list_runs_in_flight()] == [pending, running.id]


# --- waits ---------------------------------------------------------------------------------


async def test_waits_are_registered_with_a_transition_and_taken_once(store: Store) -> None:
    run_id = await new_run(store)
    wait = Wait(run_id=run_id, reference="/do/0/listen", workflow_id="p_w", state={"k": [1]})
    await store.commit_transition(Transition(run_id=run_id, wait=wait))
    assert await store.list_waits() == [wait]
    assert await store.list_waits(workflow_id="p_w", run_id=run_id) == [wait]
    assert await store.list_waits(workflow_id="p_other") == []
    resume = Transition(run_id=run_id, task=task(run_id), clear_wait=wait.reference)
    await store.commit_transition(resume)
    with pytest.raises(NotFoundError):
        await store.commit_transition(resume)
    assert await store.list_waits() == []


async def test_a_run_that_ends_takes_its_waits_with_it(store: Store) -> None:
    ending, other = await new_run(store), await new_run(store)
    for run_id in (ending, other):
        for reference in ("/do/0/a", "/do/1/b"):
            await store.put_wait(Wait(run_id=run_id, reference=reference, workflow_id="p_w"))
    running = replace(await store.get_run(ending), status="running", started_at=START)
    await store.commit_transition(Transition(run_id=ending, run=running))
    assert len(await store.list_waits(run_id=ending)) == 2  # not ended yet
    ended = replace(running, status="faulted", error={"title": "x"}, ended_at=START)
    await store.commit_transition(Transition(run_id=ending, run=ended))
    assert await store.list_waits(run_id=ending) == []
    assert [w.reference for w in await store.list_waits(run_id=other)] == ["/do/0/a", "/do/1/b"]


async def test_put_wait_replaces_in_place(store: Store) -> None:
    run_id = await new_run(store)
    first = Wait(run_id=run_id, reference="/a", workflow_id="p_w")
    second = Wait(run_id=run_id, reference="/b", workflow_id="p_w")
    await store.put_wait(first)
    await store.put_wait(second)
    updated = replace(first, state={"seen": 1})
    await store.put_wait(updated)
    assert await store.list_waits(run_id=run_id) == [updated, second]
    with pytest.raises(NotFoundError):
        await store.put_wait(replace(first, run_id="r_missing"))
    assert await store.delete_wait(run_id, "/a") is True
    assert await store.delete_wait(run_id, "/a") is False


async def test_due_waits_are_claimed_with_a_lease(store: Store, clock: ManualClock) -> None:
    run_id = await new_run(store)
    base = Wait(run_id=run_id, reference="/never", workflow_id="p_w")
    ten = replace(base, reference="/ten", expires_at=START + timedelta(seconds=10))
    five = replace(base, reference="/five", expires_at=START + timedelta(seconds=5))
    for wait in (ten, five, base):
        await store.put_wait(wait)
    assert await store.claim_due_waits() == []
    clock.advance(10)
    assert await store.claim_due_waits(lease_seconds=30) == [five, ten]
    assert await store.claim_due_waits() == []
    await store.put_wait(ten)  # putting again ends the lease
    assert await store.claim_due_waits() == [ten]
    clock.advance(30)  # the leases ran out: a crashed timer's claims come back
    assert await store.claim_due_waits(limit=1) == [five]


# --- schedules -----------------------------------------------------------------------------


async def test_schedules_put_list_delete(store: Store) -> None:
    cron = Schedule(workflow_id="p_b", kind="cron", spec={"cron": "0 * * * *"}, next_due_at=START)
    on = Schedule(workflow_id="p_b", kind="on", spec={"one": {"with": {"type": "x"}}})
    every = Schedule(workflow_id="p_a", kind="every", spec={"minutes": 5})
    for schedule in (cron, on, every):
        await store.put_schedule(schedule)
    assert await store.list_schedules() == [every, cron, on]
    assert await store.list_schedules(workflow_id="p_b") == [cron, on]
    moved = replace(cron, next_due_at=START + timedelta(hours=1))
    await store.put_schedule(moved)
    assert await store.list_schedules(workflow_id="p_b") == [moved, on]
    assert await store.delete_schedules("p_b", kind="on") == 1
    assert await store.delete_schedules("p_b") == 1
    assert await store.delete_schedules("p_b") == 0
    assert await store.list_schedules() == [every]


async def test_due_schedules_are_claimed_until_put_again(store: Store, clock: ManualClock) -> None:
    a = Schedule(workflow_id="p_a", kind="cron", next_due_at=START + timedelta(seconds=2))
    b = Schedule(workflow_id="p_b", kind="every", next_due_at=START + timedelta(seconds=1))
    untimed = Schedule(workflow_id="p_c", kind="on")
    for schedule in (a, b, untimed):
        await store.put_schedule(schedule)
    assert await store.claim_due_schedules() == []
    clock.advance(2)
    assert await store.claim_due_schedules(lease_seconds=60) == [b, a]
    assert await store.claim_due_schedules() == []
    await store.put_schedule(replace(b, next_due_at=START + timedelta(seconds=3)))
    clock.advance(1)
    assert await store.claim_due_schedules() == [
        replace(b, next_due_at=START + timedelta(seconds=3))
    ]
    clock.advance(60)  # the lease on a ran out: a crashed scheduler's claim comes back
    assert await store.claim_due_schedules(limit=1) == [a]


# --- subscriptions -------------------------------------------------------------------------


async def test_subscriptions_are_idempotent(store: Store, clock: ManualClock) -> None:
    sub = await store.put_subscription("p_a", "p_l")
    assert sub.id.startswith("sub_") and (sub.event_name, sub.filters, sub.created_at) == (
        "",
        (),
        START,
    )
    clock.advance(1)
    again = await store.put_subscription("p_a", "p_l", filters=[{"exact": {"type": "x"}}])
    assert again.id == sub.id and again.created_at == START
    assert again.filters == ({"exact": {"type": "x"}},)
    channel = await store.put_subscription("p_a", "p_l", "jedi")
    assert channel.id != sub.id
    assert await store.list_subscriptions() == [again, channel]


async def test_subscriptions_are_deleted_by_triple(store: Store) -> None:
    default = await store.put_subscription("p_a", "p_l")
    named = await store.put_subscription("p_a", "p_l", "$errors")
    assert await store.delete_subscription("p_a", "p_l") is True
    assert await store.delete_subscription("p_a", "p_l") is False
    assert await store.list_subscriptions() == [named]
    again = await store.put_subscription("p_a", "p_l")
    assert again.id != default.id


async def test_list_subscriptions_by_emitter_or_listener(store: Store) -> None:
    one = await store.put_subscription("p_a", "p_l")
    two = await store.put_subscription("dc_s", "p_l")
    three = await store.put_subscription("p_a", "wh_hook")
    assert await store.list_subscriptions(emitter_id="p_a") == [one, three]
    assert await store.list_subscriptions(listener_id="p_l") == [one, two]
    assert await store.list_subscriptions(emitter_id="p_a", listener_id="p_l") == [one]


async def test_matching_subscriptions_include_globs(store: Store) -> None:
    exact = await store.put_subscription("p_a", "p_l1")
    workflows = await store.put_subscription("p_*", "p_l2")
    sources = await store.put_subscription("dc_*", "wh_h")
    errors = await store.put_subscription("p_*", "p_l3", "$errors")
    assert await store.match_subscriptions("p_a", "") == [exact, workflows]
    assert await store.match_subscriptions("p_b", "") == [workflows]
    assert await store.match_subscriptions("dc_x", "") == [sources]
    assert await store.match_subscriptions("p_b", "$errors") == [errors]
    assert await store.match_subscriptions("p_a", "other") == []


async def test_bad_subscriptions_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="listener_id"):
        await store.put_subscription("p_a", "")
    with pytest.raises(StoreError, match="glob"):
        await store.put_subscription("p_a", "p_*")
    assert await store.list_subscriptions() == []


# --- the event log -------------------------------------------------------------------------


def _pos(position: str) -> tuple[int, int]:
    ms, seq = position.split("-")
    return int(ms), int(seq)


async def test_positions_increase_strictly(store: Store, clock: ManualClock) -> None:
    ms = int(START.timestamp() * 1000)
    same_ms = await store.append_events([emitted(n) for n in range(3)])
    assert [s.position for s in same_ms] == [f"{ms}-0", f"{ms}-1", f"{ms}-2"]
    assert all(s.indexed_at_ms == ms for s in same_ms)
    clock.advance(0.005)
    (later,) = await store.append_events([emitted(3, emitter="dc_other")])
    assert later.position == f"{ms + 5}-0"
    clock.set(START - timedelta(hours=1))  # the clock steps back; positions do not
    (after_step,) = await store.append_events([emitted(4)])
    assert _pos(after_step.position) > _pos(later.position)


async def test_an_appended_event_is_stored_whole(store: Store) -> None:
    new = NewEvent(
        emitter_id="p_a",
        channel="jedi",
        event=event(1, subject="s1", hop=2),
        metadata={"run_id": "r_1", "summary": "one"},
    )
    (stored,) = await store.append_events([new])
    assert (stored.emitter_id, stored.channel) == ("p_a", "jedi")
    assert stored.event == event(1, subject="s1", hop=2).to_dict()
    assert stored.metadata == {"run_id": "r_1", "summary": "one"}
    assert stored.cloud_event() == event(1, subject="s1", hop=2)
    page = await store.list_events(EventQuery(emitter_id="p_a"))
    assert page.items == (stored,)


async def test_a_duplicate_event_is_stored_once(store: Store) -> None:
    (first,) = await store.append_events([emitted(1)])
    again = await store.append_events([emitted(2), emitted(1, channel="other")])
    assert again[1] == first
    (other_emitter,) = await store.append_events([emitted(1, emitter="p_b")])
    (other_source,) = await store.append_events([emitted(1, source="/elsewhere")])
    assert len({first.position, other_emitter.position, other_source.position}) == 3
    page = await store.list_events(EventQuery(emitter_id="p_a"))
    assert page.total_count == 3 and page.count == 3


async def test_event_pages_walk_with_cursors(store: Store, clock: ManualClock) -> None:
    stored = []
    for n in range(25):
        stored += await store.append_events([emitted(n), emitted(100 + n, emitter="p_b")])
        clock.advance(0.001 * (n % 3))
    mine = [s.position for s in stored if s.emitter_id == "p_a"][::-1]
    query = EventQuery(emitter_id="p_a")
    walked: list[str] = []
    page = await store.list_events(query, limit=10)
    while True:
        assert page.total_count == 25
        walked += [s.position for s in page.items]
        assert (page.start_cursor, page.end_cursor) == (
            page.items[0].position,
            page.items[-1].position,
        )
        if not page.has_more:
            break
        page = await store.list_events(query, limit=10, before=page.end_cursor)
    assert walked == mine
    upward: list[str] = []
    page = await store.list_events(query, limit=10, after=mine[-1])
    while True:
        upward = [s.position for s in page.items] + upward
        if not page.has_more:
            break
        page = await store.list_events(query, limit=10, after=page.start_cursor)
    assert upward == mine[:-1]


async def test_event_page_edges(store: Store) -> None:
    stored = await store.append_events([emitted(n) for n in range(5)])
    positions = [s.position for s in stored]
    query = EventQuery(emitter_id="p_a")
    one = await store.list_events(query, limit=1)
    assert [s.position for s in one.items] == [positions[4]] and one.has_more
    whole = await store.list_events(query, limit=100)
    assert whole.count == 5 and not whole.has_more
    assert (await store.list_events(query, before=positions[0])).items == ()
    assert (await store.list_events(query, after=positions[4])).items == ()
    empty = await store.list_events(EventQuery(emitter_id="p_none"))
    assert (empty.items, empty.total_count, empty.start_cursor, empty.end_cursor) == (
        (),
        0,
        None,
        None,
    )
    between = await store.list_events(query, before=positions[4], after=positions[1])
    assert [s.position for s in between.items] == [positions[3], positions[2]]
    near = await store.list_events(query, limit=2, after=positions[0])
    assert [s.position for s in near.items] == [positions[2], positions[1]] and near.has_more
    for bad in ({"limit": 0}, {"limit": 1001}, {"before": "yesterday"}, {"after": "12-x"}):
        with pytest.raises(StoreError):
            await store.list_events(query, **bad)


async def test_events_by_channel(store: Store) -> None:
    await store.append_events(
        [
            emitted(1),
            emitted(2, channel="jedi"),
            emitted(3, channel="$errors"),
            emitted(4, channel="jedi"),
        ]
    )
    jedi = await store.list_events(EventQuery(emitter_id="p_a", channel="jedi"))
    assert [s.event["id"] for s in jedi.items] == ["e4", "e2"] and jedi.total_count == 2
    default = await store.list_events(EventQuery(emitter_id="p_a", channel=""))
    assert [s.event["id"] for s in default.items] == ["e1"] and default.total_count == 1
    everything = await store.list_events(EventQuery(emitter_id="p_a"))
    assert everything.total_count == 4


async def test_events_queried_across_emitters(store: Store, clock: ManualClock) -> None:
    await store.append_events([emitted(1, type="order.placed", subject="o1")])
    clock.advance(1)
    await store.append_events([emitted(2, emitter="dc_s", source="/shop", type="order.placed")])
    clock.advance(1)
    await store.append_events([emitted(3, emitter="p_b", type="order.paid", subject="o1")])
    placed = await store.list_events(EventQuery(type="order.placed"))
    assert [s.event["id"] for s in placed.items] == ["e2", "e1"] and placed.total_count is None
    shop = await store.list_events(EventQuery(source="/shop"))
    assert [s.event["id"] for s in shop.items] == ["e2"]
    o1 = await store.list_events(EventQuery(subject="o1"))
    assert [s.event["id"] for s in o1.items] == ["e3", "e1"]
    both = await store.list_events(EventQuery(type="order.placed", emitter_id="p_a"))
    assert [s.event["id"] for s in both.items] == ["e1"] and both.total_count is None
    window = EventQuery(since=START + timedelta(seconds=1), until=START + timedelta(seconds=2))
    assert [s.event["id"] for s in (await store.list_events(window)).items] == ["e2"]
    since = await store.list_events(EventQuery(since=START + timedelta(seconds=1)), limit=1)
    assert [s.event["id"] for s in since.items] == ["e3"] and since.has_more
    everything = await store.list_events()
    assert [s.event["id"] for s in everything.items] == ["e3", "e2", "e1"]


async def test_a_time_range_keeps_the_reading_direction(store: Store, clock: ManualClock) -> None:
    stored = []
    for n in range(4):
        stored += await store.append_events([emitted(n)])
        clock.advance(1)
    query = EventQuery(until=START + timedelta(seconds=3))
    page = await store.list_events(query, limit=1, after=stored[0].position)
    assert [s.event["id"] for s in page.items] == ["e1"] and page.has_more


async def test_delete_a_range_of_a_sources_events(store: Store) -> None:
    stored = await store.append_events([emitted(n, emitter="dc_s") for n in range(6)])
    await store.append_events([emitted(9, emitter="dc_t")])
    p = [s.position for s in stored]
    assert await store.delete_events("dc_s", start=p[1], end=p[2]) == 2
    assert await store.delete_events("dc_s", start=p[1], end=p[1]) == 0
    assert await store.delete_events("dc_s", end=p[0]) == 1
    assert await store.delete_events("dc_s", start=p[5]) == 1
    page = await store.list_events(EventQuery(emitter_id="dc_s"))
    assert [s.position for s in page.items] == [p[4], p[3]] and page.total_count == 2
    assert await store.delete_events("dc_s") == 2
    assert (await store.list_events(EventQuery(emitter_id="dc_s"))).total_count == 0
    assert (await store.list_events(EventQuery(emitter_id="dc_t"))).total_count == 1


async def test_delete_events_of_one_channel(store: Store) -> None:
    await store.append_events([emitted(1), emitted(2, channel="$in"), emitted(3, channel="$in")])
    assert await store.delete_events("p_a", channel="$in") == 2
    page = await store.list_events(EventQuery(emitter_id="p_a"))
    assert [s.event["id"] for s in page.items] == ["e1"] and page.total_count == 1


async def test_positions_are_not_reused_after_deleting_the_newest(store: Store) -> None:
    (first, newest) = await store.append_events([emitted(1), emitted(2)])
    await store.delete_events("p_a", start=newest.position)
    (next_one,) = await store.append_events([emitted(3)])
    assert _pos(next_one.position) > _pos(newest.position)
    (again,) = await store.append_events([emitted(2)])  # deleted, so stored anew
    assert _pos(again.position) > _pos(next_one.position)
    assert first.position != again.position


async def test_retention_by_age(store: Store, clock: ManualClock) -> None:
    await store.append_events([emitted(1), emitted(2, emitter="p_b")])
    clock.advance(3600)
    await store.append_events([emitted(3)])
    assert await store.apply_retention(RetentionPolicy(max_age=timedelta(minutes=30))) == 2
    page = await store.list_events(EventQuery(emitter_id="p_a"))
    assert [s.event["id"] for s in page.items] == ["e3"] and page.total_count == 1
    assert (await store.list_events(EventQuery(emitter_id="p_b"))).total_count == 0
    assert await store.apply_retention(RetentionPolicy(max_age=timedelta(minutes=30))) == 0


async def test_retention_by_count_per_stream(store: Store) -> None:
    await store.append_events([emitted(n) for n in range(5)])
    await store.append_events([emitted(10 + n, channel="jedi") for n in range(2)])
    await store.append_events([emitted(20 + n, emitter="p_b") for n in range(4)])
    assert await store.apply_retention(RetentionPolicy(max_count=3)) == 3
    default = await store.list_events(EventQuery(emitter_id="p_a", channel=""))
    assert [s.event["id"] for s in default.items] == ["e4", "e3", "e2"]
    assert (await store.list_events(EventQuery(emitter_id="p_a"))).total_count == 5
    assert (await store.list_events(EventQuery(emitter_id="p_b"))).total_count == 3
    assert await store.apply_retention(RetentionPolicy(max_count=0)) == 8
    assert (await store.list_events()).items == ()
    assert await store.apply_retention(RetentionPolicy()) == 0


# --- concurrent writes ---------------------------------------------------------------------
# SqliteStore commits writes queued together in one transaction, a savepoint each: these hold
# whatever the grouping, and the same of every backend.


async def test_concurrent_writes_commit_apart_from_one_that_fails(store: Store) -> None:
    runs = [await store.get_run(await new_run(store)) for _ in range(3)]

    def step(n: int) -> Transition:
        run = runs[n]
        return Transition(run_id=run.id, run=replace(run, status="running"), task=task(run.id))

    failing = Transition(
        run_id=runs[1].id, task=task(runs[1].id, 2, status="completed"), clear_wait="/do/9/gone"
    )
    results = await asyncio.gather(
        store.commit_transition(step(0), [emitted(0)]),
        store.append_events([emitted(10)]),
        store.commit_transition(step(1), [emitted(1)]),
        store.commit_transition(failing, [emitted(9)]),  # in the middle of the others
        store.commit_transition(step(2), [emitted(2)]),
        store.enqueue_events([emitted(3)]),
        return_exceptions=True,
    )
    assert isinstance(results[3], NotFoundError)
    assert not any(isinstance(r, BaseException) for n, r in enumerate(results) if n != 3)
    claimed = await store.claim_outbox()
    assert [i.event.id for i in claimed] == ["e0", "e1", "e2", "e3"]  # e9 left nothing
    for run in runs:
        assert (await store.get_run(run.id)).status == "running"
        assert [t.sequence for t in await store.list_tasks(run.id)] == [1]
    page = await store.list_events(EventQuery(emitter_id="p_a"))
    assert [s.event["id"] for s in page.items] == ["e10"]


async def test_concurrent_writes_keep_the_order_they_were_made_in(store: Store) -> None:
    batches = await asyncio.gather(
        *(store.append_events([emitted(n), emitted(100 + n, emitter="p_b")]) for n in range(30))
    )
    keys = [_pos(stored.position) for batch in batches for stored in batch]
    assert keys == sorted(keys) and len(set(keys)) == 60
    again = await store.append_events([emitted(200), emitted(5), emitted(200)])
    assert again[1] == batches[5][0] and again[2] == again[0]
    assert _pos(again[0].position) > keys[-1]
    outboxes = await asyncio.gather(*(store.enqueue_events([emitted(n)]) for n in range(30)))
    ids = [item.id for items in outboxes for item in items]
    assert ids == sorted(ids) and len(set(ids)) == 30
    assert [i.id for i in await store.claim_outbox()] == ids


# --- the outbox ----------------------------------------------------------------------------


async def test_the_outbox_is_claimed_in_order_with_a_lease(
    store: Store, clock: ManualClock
) -> None:
    items = await store.enqueue_events([emitted(n) for n in range(5)])
    first = await store.claim_outbox(limit=2, lease_seconds=30)
    assert [i.id for i in first] == [i.id for i in items[:2]]
    assert [i.attempts for i in first] == [1, 1]
    rest = await store.claim_outbox(limit=10, lease_seconds=30)
    assert [i.id for i in rest] == [i.id for i in items[2:]]
    assert await store.claim_outbox() == []
    assert await store.mark_outbox_done([first[0].id, rest[0].id]) == 2
    clock.advance(30)  # the dispatcher died: its leases run out and the rows come back
    again = await store.claim_outbox(lease_seconds=30)
    assert [i.id for i in again] == [items[1].id, items[3].id, items[4].id]
    assert [i.attempts for i in again] == [2, 2, 2]
    assert await store.mark_outbox_done(i.id for i in again) == 3
    assert await store.mark_outbox_done([items[0].id, 12345]) == 0
    clock.advance(60)
    assert await store.claim_outbox() == []


async def test_outbox_ids_are_never_reused(store: Store) -> None:
    (first,) = await store.enqueue_events([emitted(1)])
    await store.mark_outbox_done([first.id])
    (second,) = await store.enqueue_events([emitted(2)])
    assert second.id > first.id


async def test_outbox_claim_arguments_are_checked(store: Store) -> None:
    with pytest.raises(StoreError):
        await store.claim_outbox(limit=0)
    with pytest.raises(StoreError):
        await store.claim_outbox(lease_seconds=-1)
    assert await store.mark_outbox_done([]) == 0


# --- API tokens ------------------------------------------------------------------------------


def _token(token_id: str, digest: str, *scopes: str) -> TokenRecord:
    return TokenRecord(
        id=token_id, name=f"name of {token_id}", scopes=scopes, digest=digest, created_at=START
    )


async def test_a_token_is_found_by_its_digest_and_revoked(store: Store) -> None:
    await store.put_token(_token("tok_a", "d" * 64, "read", "ingest"))
    found = await store.find_token("d" * 64)
    assert found == _token("tok_a", "d" * 64, "read", "ingest")
    assert await store.find_token("e" * 64) is None
    assert [t.id for t in await store.list_tokens()] == ["tok_a"]
    assert await store.delete_token("tok_a") is True
    assert await store.delete_token("tok_a") is False
    assert await store.find_token("d" * 64) is None


async def test_a_token_id_or_digest_cannot_be_taken_twice(store: Store) -> None:
    await store.put_token(_token("tok_a", "d" * 64, "admin"))
    with pytest.raises(StoreError):
        await store.put_token(_token("tok_b", "d" * 64, "read"))
    with pytest.raises(StoreError):
        await store.put_token(_token("tok_a", "f" * 64, "read"))
    assert [t.id for t in await store.list_tokens()] == ["tok_a"]


async def test_tokens_survive_reopening(make_store: Callable[[], Store]) -> None:
    async with make_store() as store:
        await store.put_token(_token("tok_a", "d" * 64, "hooks"))
    async with make_store() as store:
        if isinstance(store, MemoryStore):
            pytest.skip("a memory store starts empty")
        assert (await store.find_token("d" * 64)) == _token("tok_a", "d" * 64, "hooks")


async def test_a_token_keeps_its_resources_and_last_use(store: Store) -> None:
    limited = replace(_token("tok_a", "d" * 64, "read"), resources=("p_a", "p_b"))
    await store.put_token(limited)
    assert await store.find_token("d" * 64) == limited
    used = START + timedelta(minutes=5)
    await store.touch_token("tok_a", used)
    await store.touch_token("tok_gone", used)  # nothing to record: no error
    assert await store.find_token("d" * 64) == replace(limited, last_used_at=used)
    assert [t.last_used_at for t in await store.list_tokens()] == [used]


# --- webhooks ------------------------------------------------------------------------------


def _webhook(webhook_id: str = "wh_a", **changes: Any) -> Webhook:
    fields: dict[str, Any] = {
        "id": webhook_id,
        "url": "http://127.0.0.1:9/hook",
        "name": "a",
        "created_at": START,
        "updated_at": START,
    }
    return Webhook(**{**fields, **changes})


async def test_webhooks_are_stored_replaced_and_deleted(store: Store) -> None:
    await store.put_webhook(_webhook())
    await store.put_webhook(_webhook(state="backing_off", failures=2, last_error="500"))
    assert await store.get_webhook("wh_a") == _webhook(
        state="backing_off", failures=2, last_error="500"
    )
    assert [w.id for w in await store.list_webhooks()] == ["wh_a"]
    await store.add_deliveries(["wh_a"], "1-0", event(1).to_dict())
    assert await store.delete_webhook("wh_a") is True
    assert await store.delete_webhook("wh_a") is False
    assert await store.list_deliveries("wh_a") == []
    with pytest.raises(NotFoundError):
        await store.get_webhook("wh_a")


async def test_deliveries_are_queued_once_claimed_and_finished(
    store: Store, clock: ManualClock
) -> None:
    await store.put_webhook(_webhook("wh_a"))
    await store.put_webhook(_webhook("wh_b"))
    assert await store.add_deliveries(["wh_a", "wh_b"], "1-0", event(1).to_dict()) == 2
    assert await store.add_deliveries(["wh_a"], "1-0", event(1).to_dict()) == 0
    claimed = await store.claim_due_deliveries(limit=10, lease_seconds=30)
    assert sorted(d.webhook_id for d in claimed) == ["wh_a", "wh_b"]
    assert await store.claim_due_deliveries(limit=10) == []  # leased
    first = claimed[0]
    assert first.event["id"] == event(1).id and first.attempts == 0
    retry_at = clock.now() + timedelta(seconds=5)
    await store.finish_delivery(
        replace(first, attempts=1, next_attempt_at=retry_at, last_error="HTTP 500")
    )
    await store.finish_delivery(replace(claimed[1], status="delivered", attempts=1))
    clock.advance(5)
    (again,) = await store.claim_due_deliveries(limit=10)
    assert (again.id, again.attempts, again.last_error) == (first.id, 1, "HTTP 500")
    await store.finish_delivery(replace(again, status="dead", attempts=2))
    assert [d.status for d in await store.list_deliveries(first.webhook_id)] == ["dead"]
    assert await store.list_deliveries(first.webhook_id, status="pending") == []


async def test_deliveries_come_back_when_their_lease_ends(store: Store, clock: ManualClock) -> None:
    await store.put_webhook(_webhook())
    await store.add_deliveries(["wh_a"], "1-0", event(1).to_dict())
    assert len(await store.claim_due_deliveries(lease_seconds=10)) == 1
    clock.advance(11)
    assert len(await store.claim_due_deliveries(lease_seconds=10)) == 1
