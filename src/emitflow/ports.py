r"""The runtime ↔ runner seam: what a run is given, what it reports back, and its ports.

Both sides import this module, and it imports neither: the runtime (``emitflow.runtime``)
hands the runner (``emitflow.runner.execute``) a ``RunOptions`` and reads a ``RunResult`` with
its ``TaskRecord``\ s; the runner publishes through an ``EventSink``, commits through a
``Journal``, listens through a ``ListenPort`` and runs code steps through a ``CodeStepRunner``.
It is light (no httpx, jq or store import), so the runtime loads the runner only to run.

``CodeStepRunner`` is deliberately narrow: one request in, one outcome out. The sandboxed pool
(``emitflow.codesteps``) is adapted to it by whoever wires the engine up; with none configured a
``handler(pd)`` script faults with a ``configuration`` problem saying so.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from emitflow.clock import Clock, SystemClock
from emitflow.errors import ERROR_TYPE_NAMESPACES, ConfigurationError, FaultError, Problem
from emitflow.events.cloudevent import CONTEXT_ATTRIBUTES, CloudEvent

if TYPE_CHECKING:
    import httpx  # only a type here: runs that make no call never import it

__all__ = [
    "RUN_STATUSES",
    "TASK_STATUSES",
    "TERMINAL_STATUSES",
    "CodeStep",
    "CodeStepFaultError",
    "CodeStepOutcome",
    "CodeStepRunner",
    "EventInbox",
    "EventSink",
    "Journal",
    "ListenPort",
    "MemorySink",
    "RunOptions",
    "RunResult",
    "RunStatus",
    "TaskRecord",
    "TaskStatus",
]


class EventSink(Protocol):
    """Where events go (emitted events, or lifecycle events for a trace)."""

    async def publish(self, event: CloudEvent) -> None:
        """Take one event; called in order, awaited before the run goes on."""
        ...


class Journal(Protocol):
    """Where a durable run commits each completed task that has an effect."""

    async def task_committed(self, record: TaskRecord, events: Sequence[CloudEvent]) -> None:
        """Commit ``record`` (a completed call, emit, run, wait or listen task) with the events
        it emitted (an emit task's; a code step's are held, listed in ``record.emits``), in one
        transaction; awaited before the run goes on."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeStep:
    """A Python code step to run: its ``handler(pd)`` source and what ``pd`` shows it."""

    run_id: str
    task: str
    reference: str
    code: str
    input: Any
    steps: Mapping[str, Any]
    context: Any = None
    environment: Mapping[str, str] = field(default_factory=dict)
    #: The secrets the workflow's ``use.secrets`` lists and the run was given (``pd.secrets``).
    secrets: Mapping[str, Any] = field(default_factory=dict)
    #: The step's workflow (``namespace/name``): a pool shares its workers fairly between them.
    workflow: str = ""


class EventInbox(Protocol):
    """The events offered to one waiting ``listen`` task, and where its progress is kept."""

    async def next(self) -> Mapping[str, Any]:
        """The next event (structured JSON) that arrived since the listen began."""
        ...

    def saved(self) -> Mapping[str, Any] | None:
        """The progress saved before a restart, if any."""
        ...

    async def save(self, state: Mapping[str, Any]) -> None:
        """Keep the listen's progress (consumed events, correlation keys) durably."""
        ...

    async def close(self) -> None:
        """The listen is over: stop receiving events and forget its progress."""
        ...

    def detach(self) -> None:
        """Stop receiving events, keeping the progress (the run was interrupted)."""
        ...


class ListenPort(Protocol):
    """Where ``listen`` tasks get their events (``RunOptions.listen``)."""

    async def open(self, run_id: str, reference: str) -> EventInbox:
        """Start receiving every event that arrives from now on for this run's task."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeStepOutcome:
    """What a code step did: its output, held emits, exports, an early exit, its log."""

    output: Any = None
    emits: tuple[CloudEvent, ...] = ()
    exports: Mapping[str, Any] = field(default_factory=dict)
    exit_reason: str | None = None
    logs: str = ""


class CodeStepFaultError(FaultError):
    """A code step faulted; ``emits`` and ``logs`` are what it made before (still sent/kept)."""

    def __init__(
        self, problem: Problem, emits: tuple[CloudEvent, ...] = (), logs: str = ""
    ) -> None:
        super().__init__(problem)
        self.emits = emits
        self.logs = logs


class CodeStepRunner(Protocol):
    """Runs Python code steps (in a sandbox); faults come back as ``FaultError``."""

    async def run(self, step: CodeStep) -> CodeStepOutcome:
        """Run one step to its end."""
        ...


class MemorySink:
    """An ``EventSink`` that keeps events in a list (tests, embedding)."""

    def __init__(self) -> None:
        self.events: list[CloudEvent] = []

    async def publish(self, event: CloudEvent) -> None:
        """Append the event."""
        self.events.append(event)

    @property
    def types(self) -> list[str]:
        """The ``type`` of each event, in order."""
        return [event.type for event in self.events]


#: Where a run is: ``pending`` (created), ``running`` (its first commit), then one of the three
#: terminal statuses, which are the ones a ``RunResult`` has.
RunStatus = Literal[
    "pending", "running", "waiting", "suspended", "cancelled", "faulted", "completed"
]
TaskStatus = Literal[
    "pending", "running", "waiting", "suspended", "cancelled", "faulted", "completed", "skipped"
]
RUN_STATUSES: frozenset[str] = frozenset(get_args(RunStatus))
TASK_STATUSES: frozenset[str] = frozenset(get_args(TaskStatus))
TERMINAL_STATUSES: frozenset[str] = frozenset({"cancelled", "faulted", "completed"})

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

    ``error_types`` is the namespace the run raises standard errors in:
    ``serverlessworkflow.io`` (``https://serverlessworkflow.io/spec/1.0.0/errors/<kind>``) or
    ``open-workflow-specification.org``; ``None``: ``EMITFLOW_ERROR_TYPES``, else the former.
    ``catch`` matches both whatever is chosen.
    """

    context: Any = None
    secrets: Mapping[str, Any] = field(default_factory=dict)
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
    error_types: str | None = None

    def __post_init__(self) -> None:
        if self.error_types is not None and self.error_types not in ERROR_TYPE_NAMESPACES:
            known = ", ".join(ERROR_TYPE_NAMESPACES)
            raise ConfigurationError(
                f"error_types: {self.error_types!r} is not a known namespace; use one of {known}"
            )
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
    #: ``None`` only for a record read back from the store without times (replay ignores it).
    started_at: datetime | None
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
    emitted: tuple[CloudEvent, ...] = ()
    started_at: datetime | None = None
    ended_at: datetime | None = None

    def __repr__(self) -> str:
        error = f", error={self.error.message()!r}" if self.error is not None else ""
        return (
            f"RunResult(run_id={self.run_id!r}, status={self.status!r}{error}, "
            f"tasks={len(self.tasks)}, emitted={len(self.emitted)})"
        )
