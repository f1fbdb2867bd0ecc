"""``execute``: one run of a workflow, from its input to its ``RunResult``.

The workflow's own data flow: the raw input (``None`` → ``{}``) is validated against
``input.schema`` and transformed by ``input.from`` (which sees ``$workflow``, ``$runtime`` and
``$secrets``); the ``do`` list runs on it within the workflow ``timeout``; the last output goes
through ``output.as`` and ``output.schema``. ``$context`` starts as ``RunOptions.context``
(``{}`` by default), not seeded from the input. Every fault ends the run ``faulted`` with its
problem (secret values masked). Setting ``RunOptions.cancel`` cancels the task running (it is
recorded ``cancelled``) and returns a ``cancelled`` result; the caller's own cancellation of
``execute`` also emits ``workflow.cancelled``, then propagates. Events held by code steps are
published when the run ends, whatever the outcome.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from emitflow.dsl.model import Task, TaskItem, Workflow
from emitflow.errors import FaultError, Problem, error_types
from emitflow.ids import RUN_PREFIX, random_id
from emitflow.ports import RunOptions, RunResult, RunStatus, TaskRecord
from emitflow.runner import flow
from emitflow.runner.context import NO_VARIABLES, Entry, Frame, Run
from emitflow.runner.dataflow import shape_input, shape_output, timeout_seconds
from emitflow.runner.deadlines import limited
from emitflow.runner.kinds import kinds
from emitflow.runner.lifecycle import Lifecycle

__all__ = ["execute"]

logger = logging.getLogger(__name__)

_ROOT = "/"
#: Held events published between two yields to the event loop.
_PUBLISH_BATCH = 128


async def execute(
    workflow: Workflow, *, input: Any = None, options: RunOptions | None = None
) -> RunResult:
    """Run ``workflow`` on ``input`` to its end and report how it went."""
    options = options or RunOptions()
    run = Run(workflow, options, options.run_id or random_id(RUN_PREFIX), kinds())
    if options.trace is not None:
        run.lifecycle = Lifecycle(run, options.trace)
    logger.debug("run started", extra=run.log_extra)
    output: Any = None
    problem: Problem | None = None
    status: RunStatus = "completed"
    raw = {} if input is None else input
    try:
        with error_types(options.error_types):
            if options.cancel is None:
                output = await _run(run, raw)
            else:
                output = await _cancellable(run, raw, options.cancel)
    except FaultError as exc:
        problem = run.redact(exc.problem)
        status = "faulted"
        if run.lifecycle is not None:
            await run.lifecycle.workflow_faulted(problem)
    except _Cancelled:
        status = "cancelled"
        await _cancelled(run)
    except asyncio.CancelledError:
        await _cancelled(run)
        raise
    finally:
        await _wind_down(run)
    logger.debug("run %s", status, extra=run.log_extra)
    return RunResult(
        run_id=run.run_id,
        status=status,
        output=output,
        error=problem,
        tasks=tuple(_record(entry) for entry in run.records),
        emitted=tuple(run.emitted),
        started_at=run.started_at,
        ended_at=run.clock.now(),
    )


async def _run(run: Run, raw: Any) -> Any:
    workflow = run.workflow
    run.input = raw
    if run.lifecycle is not None:
        await run.lifecycle.workflow("started")
    frame = Frame(run, _root(workflow), raw, NO_VARIABLES)
    data = raw
    if workflow.input is not None:
        data = await shape_input(workflow.input, raw, frame)
    frame.input = data

    async def body() -> Any:
        output, _ = await flow.run_list(run, workflow.do, data, NO_VARIABLES)
        return output

    if workflow.timeout is None:
        output = await body()
    else:
        output = await limited(run.clock, timeout_seconds(workflow.timeout, frame), _ROOT, body)
    frame.raw_output = output
    if workflow.output is not None:
        output = await shape_output(workflow.output, output, frame)
    if run.lifecycle is not None:
        await run.lifecycle.workflow("completed", output=output)
    return output


class _Cancelled(Exception):
    """``RunOptions.cancel`` was set: the run stopped."""


async def _cancellable(run: Run, raw: Any, cancel: asyncio.Event) -> Any:
    """``_run``, cancelled as soon as ``cancel`` is set."""
    if cancel.is_set():
        raise _Cancelled
    work = asyncio.create_task(_run(run, raw), name=run.run_id)
    stop = asyncio.create_task(cancel.wait(), name=f"{run.run_id} cancel")
    try:
        await asyncio.wait((work, stop), return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        await _stop(work)  # the caller gave up: stop the run before it reports
        raise
    finally:
        stop.cancel()
    if work.done():  # finished in the turn the event was set: the run did complete
        return work.result()
    await _stop(work)
    raise _Cancelled


async def _stop(work: asyncio.Task[Any]) -> None:
    """Cancel the run's task and wait until its tasks are recorded ``cancelled``."""
    work.cancel()
    # How the stopped run ended (cancelled, or a fault raised while stopping) is moot now.
    await asyncio.gather(work, return_exceptions=True)


async def _cancelled(run: Run) -> None:
    for job in run.background:
        job.cancel()  # the run was given up: do not wait for its detached work
    if run.lifecycle is not None:
        await run.lifecycle.workflow("cancelled")


def _root(workflow: Workflow) -> TaskItem:
    """A stand-in task for the workflow's own expressions (its pointer is ``/``)."""
    return TaskItem(name=workflow.document.name, reference=_ROOT, task=Task())


async def _wind_down(run: Run) -> None:
    """Wait for ``await: false`` work, send held code-step emits, close what the run opened."""
    try:
        if run.background:
            await asyncio.gather(*run.background, return_exceptions=True)
        sink = run.options.events
        for index, event in enumerate(run.held):  # stamped when held
            if index and index % _PUBLISH_BATCH == 0:
                # A durable sink only holds the events: nothing here would yield otherwise.
                await asyncio.sleep(0)
            run.emitted.append(event)
            if sink is not None:
                await sink.publish(event)
    finally:
        await run.close()


def _record(entry: Entry) -> TaskRecord:
    return TaskRecord(
        reference=entry.reference,
        name=entry.name,
        status=entry.status,  # type: ignore[arg-type]
        input=entry.input,
        output=entry.output,
        error=entry.error,
        started_at=entry.started_at,
        ended_at=entry.ended_at,
        emits=tuple(entry.emits or ()),
        logs=entry.logs,
    )
