"""Python code steps (``run: script`` whose code defines ``handler(pd)``) through the port.

``pd.steps`` shows the run's trigger (``RunOptions.trigger``, by default ``{"event":
<workflow input>, "context": …}``) and the outputs of the tasks completed so far, by name (a
code step's exports are merged into its entry). The step's emits are held and published when
the run ends, whatever its outcome; ``pd.flow.exit`` ends the run after the step.
"""

from __future__ import annotations

import asyncio
from typing import Any

from emitflow.dsl.model import ScriptProcess
from emitflow.errors import FaultError, Problem
from emitflow.events.cloudevent import CloudEvent
from emitflow.ports import CodeStep, CodeStepFaultError
from emitflow.runner import flow
from emitflow.runner.context import Frame
from emitflow.runner.evaluation import render
from emitflow.runner.tasks.emit import stamped

__all__ = ["HOLD_BATCH", "run_code_step"]

#: Emits stamped between two yields to the event loop.
HOLD_BATCH = 128


async def run_code_step(script: ScriptProcess, code: str, data: Any, frame: Frame) -> Any:
    """Run the step with the configured runner; its output is the handler's return value."""
    run = frame.run
    steps_runner = run.options.code_steps
    if steps_runner is None:
        raise FaultError(
            Problem.of(
                "configuration",
                title="Code Steps Not Configured",
                detail=f"the task {frame.item.name!r} is a Python code step (it defines "
                "handler(pd)), and this run has no code-step runner; configure "
                "RunOptions.code_steps, or write the script without handler(pd) to run it as a "
                "plain process",
                instance=frame.where,
            )
        )
    environment = render(script.environment, data, frame) if script.environment else {}
    step = CodeStep(
        run_id=run.run_id,
        task=frame.item.name,
        reference=frame.where,
        code=code,
        input=data,
        steps=_steps(frame),
        context=run.context,
        environment={str(k): str(v) for k, v in environment.items()},
        secrets=run.secrets,
        workflow=f"{run.workflow.document.namespace}/{run.workflow.document.name}",
    )
    try:
        outcome = await steps_runner.run(step)
    except CodeStepFaultError as exc:
        await _hold(frame, exc.emits, exc.logs)
        raise
    await _hold(frame, outcome.emits, outcome.logs)
    if outcome.exports:
        run.exports[frame.item.name] = dict(outcome.exports)
    if outcome.exit_reason is not None:
        frame.then = flow.END
    return outcome.output


async def _hold(frame: Frame, emits: tuple[CloudEvent, ...], logs: str) -> None:
    """Keep the step's emits for the run's end, and record them (and its log) under the step.

    A step may hand back thousands of emits: they are stamped a batch at a time, yielding to
    the event loop in between, so other runs and the API are served meanwhile."""
    run = frame.run
    events: list[CloudEvent] = []
    bodies: list[dict[str, Any]] = []
    for index, event in enumerate(emits):
        if index and index % HOLD_BATCH == 0:
            await asyncio.sleep(0)
        events.append(stamped(event, run.options.event_extensions))
        bodies.append(events[-1].to_dict())
    run.held.extend(events)
    if frame.entry is not None:
        frame.entry.logs = run.redactor.text(logs) if run.redacting and logs else logs
        if events:
            frame.entry.emits = [*(frame.entry.emits or ()), *bodies]


def _steps(frame: Frame) -> dict[str, Any]:
    run = frame.run
    trigger = run.options.trigger
    if trigger is None:
        trigger = {"event": run.input, "context": run.context}
    steps: dict[str, Any] = {"trigger": trigger}
    for entry in run.records:
        if entry.status == "completed":
            steps[entry.name] = entry.output
    for name, exports in run.exports.items():
        output = steps.get(name)
        base = output if isinstance(output, dict) else {"$return_value": output}
        steps[name] = {**base, **exports}
    return steps
