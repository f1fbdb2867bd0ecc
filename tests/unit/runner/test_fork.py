"""fork: outputs in declaration order, competing branches, cancellation."""

from __future__ import annotations

import time

from tests.unit.runner.workflows import run


async def test_branches_output_in_declaration_order() -> None:
    result = await run(
        """
        do:
          - both:
              fork:
                branches:
                  - first: {set: {first: true}}
                  - a: {set: {a: '${ .n }'}}
                  - b: {set: {b: '${ .n + 1 }'}}
        """,
        {"n": 1},
    )
    assert result.output == [{"first": True}, {"a": 1}, {"b": 2}]


async def test_compete_keeps_the_winner_and_cancels_the_others() -> None:
    started = time.monotonic()
    result = await run(
        """
        do:
          - race:
              fork:
                compete: true
                branches:
                  - slow:
                      do:
                        - sleep: {wait: PT1H}
                        - late: {set: {late: true}}
                  - fast: {set: {fast: true}}
          - after: {set: '${ . + {after: true} }'}
        """
    )
    assert time.monotonic() - started < 30  # the hour-long branch was cancelled, not awaited
    assert result.output == {"fast": True, "after": True}
    status = {t.name: t.status for t in result.tasks}
    assert status == {
        "race": "completed",
        "slow": "cancelled",
        "sleep": "cancelled",
        "fast": "completed",
        "after": "completed",
    }
    assert all(t.ended_at is not None for t in result.tasks)


async def test_a_branch_fault_cancels_the_others_and_faults_the_fork() -> None:
    result = await run(
        """
        do:
          - both:
              fork:
                branches:
                  - slow: {wait: PT1H}
                  - boom: {raise: {error: {type: https://example.com/b, status: 500}}}
        """
    )
    assert result.status == "faulted"
    assert result.error is not None and result.error.instance == "/do/0/both/fork/branches/1/boom"
    assert {t.name: t.status for t in result.tasks}["slow"] == "cancelled"


async def test_competing_branch_fault_faults_the_fork() -> None:
    result = await run(
        """
        do:
          - race:
              fork:
                compete: true
                branches:
                  - slow: {wait: PT1H}
                  - boom: {raise: {error: {type: https://example.com/b, status: 500}}}
        """
    )
    assert result.status == "faulted"


async def test_end_in_a_branch_ends_the_workflow_after_the_fork() -> None:
    result = await run(
        """
        do:
          - both:
              fork:
                branches:
                  - a: {set: {a: 1}, then: end}
                  - b: {set: {b: 1}}
          - never: {set: {never: true}}
        """
    )
    assert result.output == [{"a": 1}, {"b": 1}]
