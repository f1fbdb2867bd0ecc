"""The values of the engine's API: what a run is given (``RunOptions``) and what it gives back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from emitflow.clock import Clock, SystemClock
from emitflow.engine.ports import CodeStepRunner, EventSink
from emitflow.errors import Problem
from emitflow.events.cloudevent import CloudEvent

__all__ = ["RunOptions", "RunResult", "RunStatus", "TaskRecord", "TaskStatus"]

RunStatus = Literal["completed", "faulted", "cancelled"]
TaskStatus = Literal["completed", "faulted", "cancelled", "skipped", "running", "pending"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    """How to run a workflow.

    ``context`` is the initial ``$context`` (``None`` → ``{}``). ``secrets`` back ``$secrets``
    (only names listed in ``use.secrets`` are readable) and are masked in every error, trace
    and event. ``http`` carries all outgoing HTTP (its transport applies the routes); ``None``
    makes a default client for the run. ``events`` receives what ``emit`` tasks publish,
    ``trace`` the lifecycle events. ``workflows_dir`` is where ``run: workflow`` finds subflows
    (default: the folder of the workflow's file). ``code_steps`` runs ``handler(pd)`` scripts.
    """

    context: Any = None
    secrets: Mapping[str, str] = field(default_factory=dict)
    clock: Clock = field(default_factory=SystemClock)
    http: httpx.AsyncClient | None = None
    events: EventSink | None = None
    trace: EventSink | None = None
    workflows_dir: Path | None = None
    code_steps: CodeStepRunner | None = None
    run_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskRecord:
    """One executed task: where it is, how it ended, what went in and out, what it emitted."""

    reference: str
    name: str
    status: TaskStatus
    input: Any
    output: Any
    error: dict[str, Any] | None
    started_at: datetime
    ended_at: datetime | None
    emits: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class RunResult:
    """A finished run: its status, output or error, every task it ran, every event it emitted.

    Outputs may share structure with the input and the definition: treat them as read-only.
    Its ``repr`` is a summary: asyncio formats the result of ``asyncio.run``'s task when it
    restores the SIGINT handler, and a full repr of a large run takes seconds.
    """

    run_id: str
    status: RunStatus
    output: Any
    error: Problem | None
    tasks: tuple[TaskRecord, ...]
    emitted: tuple[CloudEvent, ...]
    started_at: datetime | None = None
    ended_at: datetime | None = None

    def __repr__(self) -> str:
        error = f", error={self.error.message()!r}" if self.error is not None else ""
        return (
            f"RunResult(run_id={self.run_id!r}, status={self.status!r}{error}, "
            f"tasks={len(self.tasks)}, emitted={len(self.emitted)})"
        )
