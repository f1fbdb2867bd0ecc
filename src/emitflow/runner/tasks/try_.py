"""``try``/``catch``, with retries; and the seed shorthand of a ``catch`` on any other task.

A fault is caught when every field of ``errors.with`` matches (AND): ``type`` is compared by
standard kind across its known URI aliases (so ``…/dsl/errors/types/communication`` matches
``…/spec/1.0.0/errors/communication``), other URIs exactly, and ``type: "*"`` matches any;
``status``, ``instance``, ``title``, ``detail`` exactly. Then ``when`` must hold and
``exceptWhen`` must not; both are evaluated on the try's input with the error bound as
``$<as>`` (default ``$error``).

A caught fault is retried when the catch has a ``retry`` policy that allows it (see ``retry``):
the whole ``try`` list runs again on the same input after the backoff, on the run's clock.
Otherwise the handler runs: ``catch.do`` gets the try's input (and ``$<as>``) and its output is
the try's; without ``do`` the try outputs its input. ``catch.then`` replaces the try's ``then``
on this path.

The shorthand ``catch`` on a non-``try`` task acts as ``try: [that task]`` with that catch. When
that catch has ``then`` but no ``do``, the output handed on is the failing task's transformed
input plus ``error``: the problem object with a readable one-line ``message``; the task record
then shows ``completed`` with the caught problem as its ``error``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from emitflow.dsl.model import Catch, ErrorFilter, RetryPolicy, Task, TryTask
from emitflow.errors import FaultError, Problem, error_kind
from emitflow.runner import flow
from emitflow.runner.context import Frame
from emitflow.runner.dataflow import process
from emitflow.runner.deadlines import limited, sleep
from emitflow.runner.durations import seconds
from emitflow.runner.evaluation import evaluate, truthy
from emitflow.runner.retry import backoff_delay, resolve_policy, should_retry

__all__ = ["guard", "matches", "run_try"]

Attempt = Callable[[], Awaitable[tuple[Any, str | None]]]


async def run_try(task: TryTask, data: Any, frame: Frame) -> Any:
    """Run the try list, catching (and maybe retrying) what the catch accepts."""

    async def attempt() -> tuple[Any, str | None]:
        return await flow.run_list(frame.run, task.try_, data, frame.scope)

    if task.catch is None:
        output, then = await attempt()
        if then == flow.END:
            frame.then = flow.END
        return output
    return await _guarded(attempt, task.catch, frame, shorthand=False)


async def guard(task: Task, frame: Frame) -> Any:
    """Run a task that has its own ``catch`` (the shorthand) with its whole data flow."""

    async def attempt() -> tuple[Any, str | None]:
        frame.emits = None  # a retried emit must not leave its failed attempt's event behind
        return await process(task, frame), None

    catch = task.catch
    if catch is None:
        return (await attempt())[0]
    return await _guarded(attempt, catch, frame, shorthand=True)


async def _guarded(attempt: Attempt, catch: Catch, frame: Frame, *, shorthand: bool) -> Any:
    run = frame.run
    policy = resolve_policy(catch.retry, frame)
    started = run.clock.monotonic()
    retries = 0
    while True:
        try:
            output, then = await _limited_attempt(attempt, policy, frame)
        except FaultError as exc:
            problem = _located(exc.problem, frame)
            error = problem.to_dict()
            scoped = frame.derive(frame.with_scope({catch.as_: error}))
            if not _catches(catch, problem, scoped):
                raise
            if policy is not None:
                wait = backoff_delay(policy, retries + 1, scoped)
                elapsed = run.clock.monotonic() - started + wait
                if should_retry(policy, retries + 1, elapsed, scoped):
                    retries += 1
                    if run.lifecycle is not None:
                        await run.lifecycle.task("retried", frame.where, attempt=retries)
                    await sleep(run.clock, wait)
                    continue
            return await _handle(catch, problem, error, frame, shorthand=shorthand)
        if then == flow.END:
            frame.then = flow.END
        return output


async def _limited_attempt(
    attempt: Attempt, policy: RetryPolicy | None, frame: Frame
) -> tuple[Any, str | None]:
    if policy is None or policy.attempt_duration is None:
        return await attempt()
    after = seconds(policy.attempt_duration, frame.input, frame)
    return await limited(frame.run.clock, after, frame.where, attempt)


def _located(problem: Problem, frame: Frame) -> Problem:
    run = frame.run
    if problem.instance is None:
        problem = Problem(
            type=problem.type,
            status=problem.status,
            instance=frame.where,
            title=problem.title,
            detail=problem.detail,
        )
    return run.redact(problem)


def _catches(catch: Catch, problem: Problem, frame: Frame) -> bool:
    if catch.errors is not None and not matches(catch.errors, problem):
        return False
    data = frame.input if frame.input is not None else frame.raw
    if catch.when is not None and not truthy(evaluate(catch.when, data, frame)):
        return False
    return not (catch.except_when is not None and truthy(evaluate(catch.except_when, data, frame)))


def matches(errors: ErrorFilter, problem: Problem) -> bool:
    """Whether a problem passes an ``errors.with`` filter (every given field, AND)."""
    if errors.type is not None and errors.type != "*" and errors.type != problem.type:
        kind = error_kind(errors.type)
        if kind is None or kind != error_kind(problem.type):
            return False
    return all(
        wanted is None or wanted == actual
        for wanted, actual in (
            (errors.status, problem.status),
            (errors.instance, problem.instance),
            (errors.title, problem.title),
            (errors.detail, problem.detail),
        )
    )


async def _handle(
    catch: Catch, problem: Problem, error: dict[str, Any], frame: Frame, *, shorthand: bool
) -> Any:
    data = frame.input if frame.input is not None else frame.raw
    if catch.do is not None:
        scope = frame.with_scope({catch.as_: error})
        output, then = await flow.run_list(frame.run, catch.do, data, scope)
        if then == flow.END:
            frame.then = flow.END
    elif shorthand and catch.then is not None:
        described = {**error, "message": problem.message()}
        output = {**data, "error": described} if isinstance(data, dict) else {"error": described}
    else:
        output = data
    if shorthand and frame.entry is not None:
        frame.entry.error = error
    if catch.then is not None and frame.then != flow.END:
        frame.then = catch.then
    return output
