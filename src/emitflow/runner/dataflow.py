"""The data flow around one task: input → run → output → export.

Order (DSL §6): validate the raw input against ``input.schema`` → ``input.from`` (the result is
``$input``) → run the task on it (within its ``timeout``) → ``output.as`` on the raw output (the
result is ``$output``) → ``output.schema`` → ``export.as`` on the transformed output, whose
result **replaces** ``$context`` → ``export.schema``. The ``if`` check comes before all of this
(in the runner), on the raw input. ``use.extensions`` wrap the run step (see ``extensions``).

``output.as: <bare name>`` (the seed shorthand, ``OutputSpec.store_as``) makes the output the
transformed input with the raw result stored under that name (a non-object input gives an
object holding only that name).
"""

from __future__ import annotations

from typing import Any

from emitflow.dsl.model import ExportSpec, InputSpec, OutputSpec, Task, TimeoutSpec
from emitflow.errors import FaultError, Problem
from emitflow.runner.context import Frame
from emitflow.runner.deadlines import limited
from emitflow.runner.durations import seconds
from emitflow.runner.evaluation import transform
from emitflow.runner.schemas import validate

__all__ = ["export", "process", "shape_input", "shape_output", "timeout_seconds"]


async def process(task: Task, frame: Frame) -> Any:
    """Run ``task`` on ``frame.raw`` with its whole data flow; returns the transformed output."""
    run = frame.run
    data = frame.raw
    if task.input is not None:
        data = await shape_input(task.input, data, frame)
    frame.input = data
    handler = run.kinds.handlers[type(task)]
    if run.extended:
        handler = run.extended.get(id(task), handler)
    if task.timeout is None:
        output = await handler(task, data, frame)
    else:
        after = timeout_seconds(task.timeout, frame)
        output = await limited(run.clock, after, frame.where, lambda: handler(task, data, frame))
    frame.raw_output = output
    if task.output is not None:
        output = await shape_output(task.output, output, frame)
    frame.output = output
    if task.export is not None:
        await export(task.export, output, frame)
    return output


async def shape_input(spec: InputSpec, raw: Any, frame: Frame) -> Any:
    """Validate the raw input, then apply ``from``."""
    if spec.schema is not None:
        await validate(spec.schema, raw, "input", frame)
    return raw if spec.from_ is None else transform(spec.from_, raw, frame)


async def shape_output(spec: OutputSpec, raw: Any, frame: Frame) -> Any:
    """Apply ``as`` (or the ``store_as`` shorthand) to the raw output, then validate it."""
    output = raw
    if spec.store_as is not None:
        base = frame.input
        output = {**base, spec.store_as: raw} if isinstance(base, dict) else {spec.store_as: raw}
    elif spec.as_ is not None:
        output = transform(spec.as_, raw, frame)
    if spec.schema is not None:
        await validate(spec.schema, output, "output", frame)
    return output


async def export(spec: ExportSpec, output: Any, frame: Frame) -> None:
    """``export.as`` on the transformed output replaces ``$context``; then ``export.schema``."""
    run = frame.run
    if spec.as_ is not None:
        run.context = transform(spec.as_, output, frame)
    if spec.schema is not None:
        await validate(spec.schema, run.context, "exported context", frame)


def timeout_seconds(timeout: TimeoutSpec | str, frame: Frame) -> float:
    """A ``timeout`` (inline, or a ``use.timeouts`` name) in seconds."""
    spec = timeout
    if isinstance(spec, str):
        found = frame.run.workflow.use.timeouts.get(spec)
        if found is None:
            raise FaultError(
                Problem.of(
                    "configuration",
                    title="Unknown Timeout",
                    detail=f"the timeout {spec!r} is not defined under use.timeouts",
                    instance=frame.where,
                )
            )
        spec = found
    return seconds(spec.after, frame.input, frame)
