"""The values of the engine's API: what a run is given (``RunOptions``) and what it gives back."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from emitflow.clock import Clock, SystemClock
from emitflow.errors import ConfigurationError, Problem
from emitflow.events.cloudevent import CONTEXT_ATTRIBUTES, CloudEvent
from emitflow.runner.ports import CodeStepRunner, EventSink, Journal, ListenPort

__all__ = ["RunOptions", "RunResult", "RunStatus", "TaskRecord", "TaskStatus"]

RunStatus = Literal["completed", "faulted", "cancelled"]
TaskStatus = Literal["completed", "faulted", "cancelled", "skipped", "running", "pending"]

_ATTRIBUTE = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    """How to run a workflow.

    ``context`` is the initial ``$context`` (``None`` → ``{}``). ``secrets`` back ``$secrets``
    (only names listed in ``use.secrets`` are readable) and are masked in every error, trace
    and event. ``http`` carries all outgoing HTTP (its transport applies the routes); ``None``
    makes a default client for the run. ``events`` receives what ``emit`` tasks publish,
    ``trace`` the lifecycle events. ``workflows_dir`` is where ``run: workflow`` finds subflows
    (default: the folder of the workflow's file). ``code_steps`` runs ``handler(pd)`` scripts.

    ``event_extensions`` are CloudEvent extension attributes set on every event the run emits
    (``emit`` tasks, code steps, subflows, lifecycle events); they **replace** an attribute of
    the same name that the workflow gives, because the runtime relies on them (the loop guard's
    hop count ``emitflowhops``). Names are CloudEvents extension names (lower-case letters and
    digits, not a context attribute such as ``source``); values are strings, integers or
    booleans. Setting ``cancel`` cancels the run: the task running is cancelled, the run emits
    ``workflow.cancelled`` and ends with ``status="cancelled"`` (a run whose event is already set
    starts no task).

    ``trigger`` is what code steps see as ``pd.steps["trigger"]`` (default ``{"event": <the
    run's input>, "context": <its context>}``); the runtime gives a listener run the emitted
    payload and the delivery context (emitter, channel, event ids).

    ``journal`` makes the run durable: every completed task with an effect (call, emit, run —
    code steps included —, wait, listen) is handed to ``journal.task_committed`` with its events,
    which then do **not** go through ``events`` (the journal commits them). ``resume`` is what a
    journal committed before a crash: the run is replayed from the start, and each effectful
    task whose (reference, occurrence) has a completed record takes that record's output
    instead of running again (the n-th time a task is reached matches its n-th record, so loop
    iterations stay distinct); pure tasks are recomputed.

    ``listen`` gives ``listen`` tasks their events; ``None``: a run listens only to the events
    it emits itself (e.g. one ``fork`` branch emits what another waits for).
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
    event_extensions: Mapping[str, str | int | bool] = field(default_factory=dict)
    cancel: asyncio.Event | None = None
    trigger: Mapping[str, Any] | None = None
    journal: Journal | None = None
    resume: Sequence[TaskRecord] = ()
    listen: ListenPort | None = None

    def __post_init__(self) -> None:
        for name, value in self.event_extensions.items():
            if not isinstance(name, str) or not _ATTRIBUTE.fullmatch(name):
                raise ConfigurationError(
                    f"event_extensions: {name!r} is not a CloudEvents attribute name; use "
                    "lower-case letters and digits only (e.g. 'emitflowhops')"
                )
            if name in CONTEXT_ATTRIBUTES or name == "data":
                raise ConfigurationError(
                    f"event_extensions: {name!r} is a CloudEvents context attribute, which "
                    "the workflow sets; give extension attributes only"
                )
            if not isinstance(value, str | int | bool):
                raise ConfigurationError(
                    f"event_extensions: the value of {name!r} must be a string, integer or "
                    f"boolean, not {type(value).__name__}"
                )


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
    #: A code step's captured stdout/stderr (size-capped); empty for other tasks.
    logs: str = ""
    #: The task's 1-based position in the run's task list (0: not given).
    sequence: int = 0


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
