"""Retry policies: the backoff formulas, the limits, and retries on a virtual clock."""

from __future__ import annotations

import random

import pytest

from emitflow.clock import VirtualClock
from emitflow.dsl.model import Duration, RetryPolicy
from emitflow.runner import MemorySink, RunOptions
from emitflow.runner.context import NO_VARIABLES, Frame, Run
from emitflow.runner.kinds import kinds
from emitflow.runner.retry import backoff_delay
from tests.unit.runner.workflows import run, workflow


def _frame() -> Frame:
    wf = workflow("do:\n  - t: {set: {a: 1}}")
    state = Run(wf, RunOptions(), "r_test", kinds())
    return Frame(state, wf.do[0], {}, NO_VARIABLES)


@pytest.mark.parametrize(
    ("backoff", "delays"),
    [
        ("constant", [2, 2, 2, 2]),
        ("linear", [2, 4, 6, 8]),
        ("exponential", [2, 4, 8, 16]),
    ],
)
def test_backoff_formulas(backoff: str, delays: list[float]) -> None:
    policy = RetryPolicy(delay=Duration(seconds=2), backoff=backoff)  # type: ignore[arg-type]
    assert [backoff_delay(policy, n, _frame()) for n in (1, 2, 3, 4)] == delays


def test_jitter_adds_a_random_amount_in_its_range() -> None:
    policy = RetryPolicy(
        delay=Duration(seconds=1), jitter_from=Duration(seconds=0.5), jitter_to=Duration(seconds=1)
    )
    waits = [backoff_delay(policy, 1, _frame(), random.Random(seed)) for seed in range(50)]
    assert all(1.5 <= wait <= 2.0 for wait in waits)
    assert len(set(waits)) > 1


def test_no_delay_means_no_wait() -> None:
    assert backoff_delay(RetryPolicy(backoff="exponential"), 3, _frame()) == 0


RETRIED = """
use:
  retries:
    threeTimes:
      delay: PT1S
      backoff: {exponential: {}}
      limit: {attempt: {count: 3}}
do:
  - attempt:
      try:
        - count: {set: '${ . }'}
        - fail:
            raise: {error: {type: https://example.com/flaky, status: 503}}
      catch:
        errors: {with: {status: 503}}
        retry: RETRY
"""


async def test_retries_rerun_the_try_list_with_backoff_on_the_clock() -> None:
    clock = VirtualClock()
    trace = MemorySink()
    result = await run(RETRIED.replace("RETRY", "threeTimes"), {"n": 1}, clock=clock, trace=trace)
    assert result.status == "completed"  # caught after the retries ran out
    assert result.output == {"n": 1}
    assert [t.name for t in result.tasks].count("count") == 4  # 1 run + 3 retries
    assert all(t.input == {"n": 1} for t in result.tasks if t.name == "count")
    assert clock.monotonic() == 1 + 2 + 4
    assert trace.types.count("io.serverlessworkflow.task.retried.v1") == 3


async def test_inline_retry_with_a_total_duration_limit() -> None:
    clock = VirtualClock()
    inline = "{delay: PT10S, backoff: {linear: {}}, limit: {duration: PT35S}}"
    result = await run(RETRIED.replace("RETRY", inline), {}, clock=clock)
    # waits 10, 20 (elapsed 30); a third wait of 30 would end past 35 s
    assert [t.name for t in result.tasks].count("count") == 3
    assert clock.monotonic() == 30


async def test_retry_when_decides() -> None:
    never = "{delay: PT1S, when: '$error.status == 500', limit: {attempt: {count: 5}}}"
    result = await run(RETRIED.replace("RETRY", never), {}, clock=VirtualClock())
    assert [t.name for t in result.tasks].count("count") == 1


async def test_a_retry_that_succeeds() -> None:
    result = await run(
        """
        do:
          - attempt:
              try:
                - bump: {set: {n: '${ $context.n + 1 }'}, export: {as: '{n: .n}'}}
                - maybe:
                    if: '.n < 3'
                    raise: {error: {type: https://example.com/flaky, status: 503}}
              catch:
                retry: {delay: PT1M, limit: {attempt: {count: 5}}}
        """,
        context={"n": 0},
        clock=VirtualClock(),
    )
    assert result.output == {"n": 3}


async def test_attempt_duration_bounds_each_run() -> None:
    clock = VirtualClock()
    result = await run(
        """
        do:
          - attempt:
              try:
                - slow: {wait: PT1H}
              catch:
                retry: {limit: {attempt: {count: 2, duration: PT1M}}}
        """,
        clock=clock,
    )
    assert result.status == "completed"
    assert clock.monotonic() == 3 * 60
    assert [t.status for t in result.tasks if t.name == "slow"] == ["cancelled"] * 3
