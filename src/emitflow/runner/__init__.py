"""The runner: executes DSL workflows, task by task, with their data flow and flow directives."""

from emitflow.runner.execution import execute
from emitflow.runner.options import RunOptions, RunResult, TaskRecord
from emitflow.runner.ports import (
    CodeStep,
    CodeStepOutcome,
    CodeStepRunner,
    EventSink,
    Journal,
    MemorySink,
)

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
