"""``RunJournal``: emits commit with their run; the end commits every task and the fault."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from emitflow.errors import Problem
from emitflow.events.cloudevent import CloudEvent
from emitflow.ports import RunResult, TaskRecord, TaskStatus
from emitflow.runtime.journal import RunJournal, run_moved, stored_task
from emitflow.store import MemoryStore, NewRun, RunRecord

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def lifecycle(type_: str, task: str = "") -> CloudEvent:
    return CloudEvent.create(
        type=f"io.serverlessworkflow.{type_}.v1", source="/t", data={"task": task}
    )


def task(reference: str, status: TaskStatus = "completed") -> TaskRecord:
    return TaskRecord(
        reference=reference,
        name=reference.rsplit("/", 1)[-1],
        status=status,
        input={},
        output={"at": reference},
        error=None,
        started_at=NOW,
        ended_at=NOW,
    )


async def test_emit_with_a_trace_commits_its_task_record() -> None:
    store = MemoryStore()
    await store.open()
    run, _ = await store.create_run(NewRun(workflow_id="p_1", workflow_revision=1, hops=2))
    commits: list[int] = []
    journal = RunJournal(
        store, run, clock=store._clock, committed=lambda: commits.append(1), lifecycle=True
    )
    assert journal.trace is not None
    await journal.trace.publish(lifecycle("task.created", "/do/0/first"))
    await journal.trace.publish(lifecycle("task.created", "/do/1/shout"))
    await journal.publish(CloudEvent.create(type="said", source="/t", data=1))
    (record,) = await store.list_tasks(run.id)
    assert (record.sequence, record.reference, record.name) == (2, "/do/1/shout", "shout")
    assert record.status == "completed" and record.output["type"] == "said"
    items = await store.claim_outbox()
    assert [item.channel for item in items] == ["", "$lifecycle", "$lifecycle"]
    assert all(item.event.attributes["emitflowhops"] == 2 for item in items)
    assert commits == [1]
    outcome = RunResult(
        run_id=run.id,
        status="faulted",
        output=None,
        error=Problem.of("runtime", title="Boom"),
        tasks=(task("/do/0/first"), task("/do/1/shout", "faulted")),
    )
    ended = await journal.finish(outcome)
    assert ended.status == "faulted" and ended.error is not None
    assert [t.reference for t in await store.list_tasks(run.id)] == ["/do/0/first", "/do/1/shout"]
    (report,) = await store.claim_outbox()
    assert report.channel == "$errors"


async def test_emit_without_a_trace_commits_the_event_alone() -> None:
    store = MemoryStore()
    await store.open()
    run, _ = await store.create_run(NewRun(workflow_id="p_1", workflow_revision=1))
    journal = RunJournal(store, run, clock=store._clock, committed=lambda: None)
    assert journal.trace is None
    await journal.publish(CloudEvent.create(type="said", source="/t"))
    assert await store.list_tasks(run.id) == []
    (item,) = await store.claim_outbox()
    assert item.metadata == {"run_id": run.id, "emit_id": item.event.id}


async def test_an_output_that_cannot_be_stored_faults_the_run() -> None:
    store = MemoryStore()
    await store.open()
    run, _ = await store.create_run(NewRun(workflow_id="p_1", workflow_revision=1))
    journal = RunJournal(store, run, clock=store._clock, committed=lambda: None)
    outcome = RunResult(
        run_id=run.id, status="completed", output={"bad": object()}, error=None, tasks=()
    )
    ended = await journal.finish(outcome)
    assert ended.status == "faulted"
    assert ended.error is not None and "cannot be stored" in ended.error["detail"]


async def test_a_code_step_channel_is_kept() -> None:
    store = MemoryStore()
    await store.open()
    run, _ = await store.create_run(NewRun(workflow_id="p_1", workflow_revision=1))
    journal = RunJournal(store, run, clock=store._clock, committed=lambda: None)
    await journal.publish(CloudEvent.create(type="t", source="/t", emitflowchannel="jedi"))
    (item,) = await store.claim_outbox()
    assert item.channel == "jedi"


def test_a_moved_run_keeps_every_field_it_is_not_given() -> None:
    run = RunRecord(
        id="r_1",
        workflow_id="p_1",
        workflow_revision=3,
        status="pending",
        input={"in": 1},
        output={"out": 1},
        error={"title": "x"},
        context={"ctx": 1},
        trigger={"chain": "c"},
        hops=4,
        created_at=NOW,
        started_at=NOW + timedelta(seconds=1),
        ended_at=NOW + timedelta(seconds=2),
    )
    later = NOW + timedelta(seconds=9)
    moved = run_moved(run, "completed", output={"o": 2}, error=None, ended_at=later)
    assert moved == dataclasses.replace(
        run, status="completed", output={"o": 2}, error=None, ended_at=later
    )
    assert run_moved(run, "running", started_at=later) == dataclasses.replace(
        run, status="running", output=None, error=None, started_at=later, ended_at=None
    )
    # A field added to RunRecord must be carried over by run_moved too.
    assert [field.name for field in dataclasses.fields(RunRecord)] == [
        "id",
        "workflow_id",
        "workflow_revision",
        "status",
        "input",
        "output",
        "error",
        "context",
        "trigger",
        "hops",
        "created_at",
        "started_at",
        "ended_at",
    ]


def test_a_stored_task_may_take_another_status() -> None:
    record = task("/do/0/a", status="running")
    assert stored_task("r_1", 5, record, status="completed") == dataclasses.replace(
        stored_task("r_1", 5, record), status="completed"
    )
