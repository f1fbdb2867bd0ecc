"""Workflow and task timeouts: a timeout problem (408) that an outer catch may catch."""

from __future__ import annotations

import asyncio
import time

import pytest

from emitflow.clock import VirtualClock
from emitflow.runner import MemorySink, RunOptions, execute
from tests.unit.runner.workflows import run, workflow


async def test_task_timeout_on_a_virtual_clock() -> None:
    clock = VirtualClock()
    result = await run(
        "do:\n  - slow: {wait: PT1H, timeout: {after: PT1M}}",
        clock=clock,
    )
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.type.endswith("/errors/timeout")
    assert (result.error.status, result.error.instance) == (408, "/do/0/slow")
    assert clock.monotonic() == 60


async def test_a_timeout_is_caught_outside_but_not_inside_the_timed_out_task() -> None:
    result = await run(
        """
        use:
          timeouts:
            short: {after: PT1M}
        do:
          - outer:
              try:
                - bounded:
                    timeout: short
                    try:
                      - slow: {wait: PT1H}
                    catch:
                      do:
                        - swallowed: {set: {inner: true}}
              catch:
                errors: {with: {type: https://serverlessworkflow.io/dsl/errors/types/timeout}}
                as: late
                do:
                  - handled: {set: {status: '${ $late.status }'}}
        """,
        clock=VirtualClock(),
    )
    assert result.output == {"status": 408}
    assert "swallowed" not in [t.name for t in result.tasks]
    assert {t.name: t.status for t in result.tasks}["slow"] == "cancelled"


async def test_workflow_timeout() -> None:
    result = await run(
        """
        timeout: {after: {minutes: 5}}
        do:
          - a: {wait: PT4M}
          - b: {wait: PT4M}
        """,
        clock=VirtualClock(),
    )
    assert result.status == "faulted"
    assert result.error is not None
    assert (result.error.status, result.error.instance) == (408, "/")


async def test_timeout_on_the_system_clock_cancels_the_work() -> None:
    started = time.monotonic()
    result = await run("do:\n  - slow: {wait: PT1H, timeout: {after: {milliseconds: 20}}}")
    assert time.monotonic() - started < 30
    assert result.error is not None and result.error.status == 408


async def test_work_within_its_timeout_completes() -> None:
    clock = VirtualClock()
    result = await run(
        "do:\n  - quick: {wait: PT1S, timeout: {after: PT1M}}", {"a": 1}, clock=clock
    )
    assert result.output == {"a": 1}


async def test_cancelling_a_run_cancels_its_task_and_propagates() -> None:
    trace = MemorySink()
    job = asyncio.create_task(
        execute(workflow("do:\n  - slow: {wait: PT1H}"), options=RunOptions(trace=trace))
    )
    for _ in range(1000):  # a bounded poll: the wait starts within a few loop turns
        if "io.serverlessworkflow.task.started.v1" in trace.types:
            break
        await asyncio.sleep(0)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert trace.types[-2:] == [
        "io.serverlessworkflow.task.cancelled.v1",
        "io.serverlessworkflow.workflow.cancelled.v1",
    ]
