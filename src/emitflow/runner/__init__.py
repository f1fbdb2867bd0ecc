"""The runner: executes DSL workflows, task by task, with their data flow and flow directives."""

from emitflow.ports import (
    CodeStep,
    CodeStepOutcome,
    CodeStepRunner,
    EventSink,
    Journal,
    MemorySink,
    RunOptions,
    RunResult,
    TaskRecord,
)
from emitflow.runner.execution import execute

__all__ = [
    "CodeStep",
    "CodeStepOutcome",
    "CodeStepRunner",
    "EventSink",
    "Journal",
    "MemorySink",
    "RunOptions",
    "RunResult",
    "TaskRecord",
    "execute",
]
