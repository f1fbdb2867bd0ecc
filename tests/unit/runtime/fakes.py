"""A tiny stand-in for ``emitflow.runner.execute``: enough of the DSL to test the runtime.

It runs the top-level tasks in order: ``emit`` (publishes a CloudEvent built from
``event.with``, ``${ }`` evaluated on the task input), ``set`` and ``raise``; any other task
passes its input through. ``block`` lets a test hold runs until it releases them.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from emitflow.dsl.model import EmitTask, RaiseTask, SetTask, Workflow
from emitflow.errors import Problem
from emitflow.events.cloudevent import CloudEvent
from emitflow.expressions import evaluate_value
from emitflow.ports import RunOptions, RunResult, TaskRecord, TaskStatus


@dataclass
class FakeRunner:
    """Records every call; ``block`` (when set) holds runs (of ``block_only``) until set."""

    calls: list[tuple[str, Any]] = field(default_factory=list)
    block: asyncio.Event | None = None
    block_only: str | None = None
    running: int = 0
    peak: int = 0

    async def __call__(self, workflow: Workflow, *, input: Any, options: RunOptions) -> RunResult:
        self.calls.append((workflow.document.name, input))
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            held = self.block_only is None or self.block_only == workflow.document.name
            if self.block is not None and held:
                await self.block.wait()
            return await self._run(workflow, input, options)
        finally:
            self.running -= 1

    async def _run(self, workflow: Workflow, data: Any, options: RunOptions) -> RunResult:
        tasks: list[TaskRecord] = []
        emitted: list[CloudEvent] = []
        for item in workflow.do:
            task = item.task
            started = options.clock.now()
            emits: tuple[dict[str, Any], ...] = ()
            if isinstance(task, RaiseTask):
                problem = Problem.of("runtime", title="Raised", instance=item.reference)
                tasks.append(_task(item.reference, item.name, "faulted", data, None, started))
                return RunResult(
                    run_id=options.run_id or "",
                    status="faulted",
                    output=None,
                    error=problem,
                    tasks=tuple(tasks),
                )
            if isinstance(task, SetTask):
                output = evaluate_value(task.set, data, {})
            elif isinstance(task, EmitTask):
                event = _event(workflow, evaluate_value(dict(task.event), data, {}))
                if options.events is not None:
                    await options.events.publish(event)
                emitted.append(event)
                output = event.to_dict()
                emits = (output,)
            else:
                output = data
            tasks.append(
                _task(item.reference, item.name, "completed", data, output, started, emits)
            )
            data = output
        return RunResult(
            run_id=options.run_id or "",
            status="completed",
            output=data,
            error=None,
            tasks=tuple(tasks),
            emitted=tuple(emitted),
        )


def _task(
    reference: str,
    name: str,
    status: TaskStatus,
    data: Any,
    output: Any,
    started: datetime,
    emits: tuple[dict[str, Any], ...] = (),
) -> TaskRecord:
    return TaskRecord(
        reference=reference,
        name=name,
        status=status,
        input=data,
        output=output,
        error=None if status == "completed" else {"type": "x", "status": 500},
        started_at=started,
        ended_at=started,
        emits=emits,
    )


def _event(workflow: Workflow, attrs: dict[str, Any]) -> CloudEvent:
    d = workflow.document
    data = attrs.pop("data", None)
    attrs.setdefault("id", str(uuid.uuid4()))
    attrs.setdefault("source", f"/{d.namespace}/{d.name}/{d.version}")
    attrs.setdefault("specversion", "1.0")
    return CloudEvent(attributes=attrs, data=data)


def doc(name: str, body: str, header: str = "") -> str:
    """A workflow document named ``name`` with ``body`` as its ``do`` list."""
    return (
        f"document: {{dsl: '1.0.3', namespace: test, name: {name}, version: '1.0.0'"
        f"{header}}}\n{body}"
    )


EMITTER = doc(
    "emitter",
    """do:
  - announce:
      emit:
        event:
          with:
            type: com.example.greeting
            source: /test/emitter
            data: ${ . }
""",
)

LISTENER = doc(
    "listener",
    """do:
  - greet:
      set:
        got: ${ .[0].data }
""",
)

FAULTY = doc(
    "faulty",
    """do:
  - fail:
      raise:
        error: {type: 'https://example.com/boom', status: 500}
""",
)


def many_emits(name: str, count: int) -> str:
    """A workflow emitting ``count`` events in order, ``data: {n: k}``."""
    tasks = "".join(
        f"""  - e{k}:
      emit:
        event:
          with:
            type: com.example.tick
            source: /test/{name}
            data: {{n: {k}}}
"""
        for k in range(count)
    )
    return doc(name, "do:\n" + tasks)


async def eventually(check: Any, within: float = 5.0) -> None:
    """Poll an async predicate until it holds, failing after ``within`` seconds."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - polling the store, with a deadline
            await asyncio.sleep(0.005)
