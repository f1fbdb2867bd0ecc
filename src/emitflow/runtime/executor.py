"""The port to the workflow runner: what the runtime hands a run, and what it reads back.

The runtime reads the runner through this narrow port: ``Executor`` is the signature of
``emitflow.runner.execute`` with a ``RunPlan`` (the same fields as ``RunOptions``) for options,
and the outcome is read through the protocols below. ``engine_executor`` adapts the real runner;
unit tests pass a small fake with the same signature.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from emitflow.clock import Clock
from emitflow.dsl.model import Workflow
from emitflow.errors import Problem
from emitflow.events.cloudevent import CloudEvent

if TYPE_CHECKING:
    import httpx

__all__ = ["EventSink", "Executor", "RunOutcome", "RunPlan", "TaskOutcome", "engine_executor"]


class EventSink(Protocol):
    """Where a run's events go (the runner's ``EventSink``)."""

    async def publish(self, event: CloudEvent) -> None:
        """Take one event; awaited before the run goes on."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class RunPlan:
    """The options of one run, field for field those of ``emitflow.runner.RunOptions``."""

    context: Any = None
    secrets: Mapping[str, str] = field(default_factory=dict)
    clock: Clock
    http: httpx.AsyncClient | None = None
    events: EventSink | None = None
    trace: EventSink | None = None
    workflows_dir: Path | None = None
    code_steps: Any = None
    run_id: str
    event_extensions: Mapping[str, str | int | bool] = field(default_factory=dict)
    cancel: asyncio.Event | None = None
    trigger: Mapping[str, Any] | None = None
    #: The runner's ``Journal`` (``task_committed``), making the run durable.
    journal: Any = None
    #: The stored task records of an interrupted run, to resume it from.
    resume: Sequence[Any] = ()
    #: Where ``listen`` tasks get their events (``emitflow.runner.ListenPort``).
    listen: Any = None


class TaskOutcome(Protocol):
    """One executed task as the runner reports it."""

    @property
    def reference(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def input(self) -> Any: ...
    @property
    def output(self) -> Any: ...
    @property
    def error(self) -> Mapping[str, Any] | None: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def ended_at(self) -> datetime | None: ...
    @property
    def emits(self) -> Sequence[Any]: ...


class RunOutcome(Protocol):
    """A finished run as the runner reports it."""

    @property
    def status(self) -> str: ...
    @property
    def output(self) -> Any: ...
    @property
    def error(self) -> Problem | None: ...
    @property
    def tasks(self) -> Sequence[TaskOutcome]: ...


class Executor(Protocol):
    """Runs one workflow to its end: ``emitflow.runner.execute``'s signature."""

    async def __call__(self, workflow: Workflow, *, input: Any, options: RunPlan) -> RunOutcome:
        """Run ``workflow`` on ``input``."""
        ...


async def engine_executor(workflow: Workflow, *, input: Any, options: RunPlan) -> RunOutcome:
    """Run with ``emitflow.runner.execute``, the plan turned into its ``RunOptions``."""
    # Imported on first use, so loading the runtime (e.g. for the CLI) does not load the runner.
    from emitflow.runner import RunOptions, execute

    run_options = RunOptions(
        context=options.context,
        secrets=options.secrets,
        clock=options.clock,
        http=options.http,
        events=options.events,
        trace=options.trace,
        workflows_dir=options.workflows_dir,
        code_steps=options.code_steps,
        run_id=options.run_id,
        event_extensions=options.event_extensions,
        cancel=options.cancel,
        trigger=options.trigger,
        journal=options.journal,
        resume=tuple(_resumed(record) for record in options.resume),
        listen=options.listen,
    )
    return await execute(workflow, input=input, options=run_options)


def _resumed(record: Any) -> Any:
    """A stored task record (``emitflow.store.records.TaskRecord``) as the runner's."""
    from emitflow.runner import TaskRecord

    return TaskRecord(
        reference=record.reference,
        name=record.name,
        status=record.status,
        input=record.input,
        output=record.output,
        error=None if record.error is None else dict(record.error),
        started_at=record.started_at or record.ended_at,
        ended_at=record.ended_at,
        emits=tuple(record.emits),
        logs=record.log or "",
        sequence=record.sequence,
    )
