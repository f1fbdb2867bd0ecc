"""What the engine needs from outside: somewhere to publish events, something to run code steps.

``CodeStepRunner`` is deliberately narrow: one request in, one outcome out. The sandboxed pool
(``emitflow.codesteps``) is adapted to it by whoever wires the engine up; with none configured a
``handler(pd)`` script faults with a ``configuration`` problem saying so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from emitflow.errors import FaultError, Problem
from emitflow.events.cloudevent import CloudEvent

if TYPE_CHECKING:
    from emitflow.runner.options import TaskRecord

__all__ = [
    "CodeStep",
    "CodeStepFaultError",
    "CodeStepOutcome",
    "CodeStepRunner",
    "EventInbox",
    "EventSink",
    "Journal",
    "ListenPort",
    "MemorySink",
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
    secrets: Mapping[str, str] = field(default_factory=dict)


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
