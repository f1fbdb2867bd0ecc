"""Cancelling a run: ``RunOptions.cancel``, and the caller cancelling ``execute``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from emitflow.clock import VirtualClock
from emitflow.runner import MemorySink, RunOptions, execute
from tests.unit.runner.workflows import names, run, workflow

P = "io.serverlessworkflow."

WAITING = """
do:
  - first: {set: {n: 1}}
  - pause: {wait: PT1H}
  - never: {set: {n: 2}}
"""


class StuckClock(VirtualClock):
    """A virtual clock whose ``sleep`` never returns, and says when something sleeps on it."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeping = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.sleeping.set()
        await asyncio.Event().wait()


async def test_setting_cancel_stops_the_running_task_and_ends_the_run_cancelled() -> None:
    clock, cancel, trace = StuckClock(), asyncio.Event(), MemorySink()
    options = RunOptions(clock=clock, cancel=cancel, trace=trace)
    running = asyncio.create_task(execute(workflow(WAITING), options=options))
    await clock.sleeping.wait()
    cancel.set()
    result = await running
    assert (result.status, result.output, result.error) == ("cancelled", None, None)
    assert [(t.name, t.status) for t in result.tasks] == [
        ("first", "completed"),
        ("pause", "cancelled"),
    ]
    assert trace.types[-2:] == [P + "task.cancelled.v1", P + "workflow.cancelled.v1"]
    assert P + "workflow.completed.v1" not in trace.types


async def test_a_run_cancelled_before_it_starts_runs_nothing() -> None:
    cancel, trace = asyncio.Event(), MemorySink()
    cancel.set()
    result = await run(WAITING, cancel=cancel, trace=trace)
    assert result.status == "cancelled"
    assert result.tasks == ()
    assert trace.types == [P + "workflow.cancelled.v1"]


async def test_a_cancel_event_never_set_changes_nothing() -> None:
    result = await run(WAITING, cancel=asyncio.Event(), clock=VirtualClock())
    assert result.status == "completed"
    assert names(result) == ["first", "pause", "never"]


async def test_the_caller_cancelling_still_propagates() -> None:
    clock, trace = StuckClock(), MemorySink()
    options = RunOptions(clock=clock, cancel=asyncio.Event(), trace=trace)
    running = asyncio.create_task(execute(workflow(WAITING), options=options))
    await clock.sleeping.wait()
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert trace.types[-2:] == [P + "task.cancelled.v1", P + "workflow.cancelled.v1"]


async def test_a_subflow_is_cancelled_with_its_parent(tmp_path: Path) -> None:
    (tmp_path / "child.yaml").write_text(
        "document: {dsl: '1.0.3', namespace: lib, name: slow, version: '1.0.0'}\n"
        "do:\n  - nap: {wait: PT1H}\n"
    )
    clock, cancel = StuckClock(), asyncio.Event()
    options = RunOptions(clock=clock, cancel=cancel, workflows_dir=tmp_path)
    parent = workflow(
        "do:\n  - c: {run: {workflow: {namespace: lib, name: slow, version: latest}}}\n"
    )
    running = asyncio.create_task(execute(parent, options=options))
    await clock.sleeping.wait()
    cancel.set()
    result = await running
    assert result.status == "cancelled"
    assert [(t.name, t.status) for t in result.tasks] == [("c", "cancelled")]
