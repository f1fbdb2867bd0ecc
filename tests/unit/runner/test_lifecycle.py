"""Lifecycle CloudEvents on the trace sink: types, order, data."""

from __future__ import annotations

import pytest

from emitflow.clock import VirtualClock
from emitflow.runner import MemorySink
from emitflow.runner.lifecycle import Lifecycle
from tests.unit.runner.workflows import run

P = "io.serverlessworkflow."


async def test_a_completed_run() -> None:
    trace = MemorySink()
    await run(
        "do:\n  - a: {set: {n: 1}}\n  - b: {if: 'false', set: {x: 1}}",
        trace=trace,
        run_id="r_1",
        clock=VirtualClock(),
    )
    assert trace.types == [
        P + "workflow.started.v1",
        P + "task.created.v1",
        P + "task.started.v1",
        P + "task.completed.v1",
        P + "workflow.completed.v1",
    ]
    started, _, _, completed, *_, done = (e.data for e in trace.events)
    assert started == {
        "name": "unit-r_1.test",
        "startedAt": "2026-01-01T00:00:00.000Z",
        "definition": {"name": "unit", "namespace": "test", "version": "1.0.0"},
    }
    assert completed == {
        "workflow": "unit-r_1.test",
        "task": "/do/0/a",
        "completedAt": "2026-01-01T00:00:00.000Z",
        "output": {"n": 1},
    }
    assert done["output"] == {"n": 1}


async def test_a_faulted_run() -> None:
    trace = MemorySink()
    await run("do:\n  - x: {raise: {error: {type: https://e.com/x, status: 400}}}", trace=trace)
    assert trace.types[-2:] == [P + "task.faulted.v1", P + "workflow.faulted.v1"]
    assert trace.events[-1].data["error"] == {
        "type": "https://e.com/x",
        "status": 400,
        "instance": "/do/0/x",
    }
    assert trace.events[-2].data["task"] == "/do/0/x"


async def test_without_a_trace_no_lifecycle_event_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a lifecycle event was built without a trace sink")

    monkeypatch.setattr(Lifecycle, "__init__", refuse)
    monkeypatch.setattr(Lifecycle, "_publish", refuse)
    result = await run("do:\n  - a: {set: {n: 1}}\n  - b: {raise: {error: {type: x:y, status: 1}}}")
    assert result.status == "faulted"


async def test_a_task_whose_if_fails_is_created_then_faulted() -> None:
    trace = MemorySink()
    await run("do:\n  - t: {if: '.a + 1', set: {x: 1}}", {"a": "text"}, trace=trace)
    assert trace.types[1:] == [
        P + "task.created.v1",
        P + "task.faulted.v1",
        P + "workflow.faulted.v1",
    ]
