"""Retry policies (``catch.retry`` or a ``use.retries`` name): whether to retry, how long to wait.

The DSL leaves the formulas open; emitflow's, with ``n`` the retry about to happen (1 for the
first retry) and ``delay`` the policy's delay (0 when absent):

- ``constant``:    wait = delay
- ``linear``:      wait = delay × n
- ``exponential``: wait = delay × 2^(n-1)        (delay, 2·delay, 4·delay, …)
- ``jitter {from, to}`` adds a uniformly random extra in [from, to] (``to`` defaults to ``from``).

Limits: ``limit.attempt.count`` is the maximum number of retries (so at most count + 1 runs);
``limit.duration`` stops retrying when the next run would start later than that long after the
first one began; ``limit.attempt.duration`` bounds each run like a task timeout (its expiry is a
``timeout`` error, which the same catch may retry). ``when``/``exceptWhen`` are evaluated like
``catch.when``: on the task's input, with the catch's ``$<as>`` error variable bound.
"""

from __future__ import annotations

import random

from emitflow.dsl.model import RetryPolicy
from emitflow.errors import FaultError, Problem
from emitflow.runner.context import Frame
from emitflow.runner.durations import seconds
from emitflow.runner.evaluation import evaluate, truthy

__all__ = ["backoff_delay", "resolve_policy", "should_retry"]

_RANDOM = random.Random()


def resolve_policy(retry: RetryPolicy | str | None, frame: Frame) -> RetryPolicy | None:
    """The policy itself, looking a name up in ``use.retries``."""
    if retry is None or isinstance(retry, RetryPolicy):
        return retry
    policy = frame.run.workflow.use.retries.get(retry)
    if policy is None:
        raise FaultError(
            Problem.of(
                "configuration",
                title="Unknown Retry Policy",
                detail=f"the retry policy {retry!r} is not defined under use.retries",
                instance=frame.where,
            )
        )
    return policy


def backoff_delay(
    policy: RetryPolicy, attempt: int, frame: Frame, rng: random.Random | None = None
) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based)."""
    data = frame.input
    delay = seconds(policy.delay, data, frame) if policy.delay is not None else 0.0
    if policy.backoff == "linear":
        wait = delay * attempt
    elif policy.backoff == "exponential":
        wait = delay * 2 ** (attempt - 1)
    else:
        wait = delay
    if policy.jitter_from is not None or policy.jitter_to is not None:
        low = seconds(policy.jitter_from, data, frame) if policy.jitter_from else 0.0
        high = seconds(policy.jitter_to, data, frame) if policy.jitter_to else low
        wait += (rng or _RANDOM).uniform(min(low, high), max(low, high))
    return wait


def should_retry(
    policy: RetryPolicy, attempt: int, elapsed_after_wait: float, frame: Frame
) -> bool:
    """Whether retry number ``attempt`` may happen, ``elapsed_after_wait`` s after the start.

    ``frame`` has the catch's error variable in scope; conditions read the task's input.
    """
    if policy.attempt_count is not None and attempt > policy.attempt_count:
        return False
    if policy.total_duration is not None:
        limit = seconds(policy.total_duration, frame.input, frame)
        if elapsed_after_wait > limit:
            return False
    data = frame.input
    if policy.when is not None and not truthy(evaluate(policy.when, data, frame)):
        return False
    return not (
        policy.except_when is not None and truthy(evaluate(policy.except_when, data, frame))
    )
