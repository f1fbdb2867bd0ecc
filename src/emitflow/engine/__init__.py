"""The runner: executes DSL workflows, task by task, with their data flow and flow directives."""

from emitflow.engine.execution import execute
from emitflow.engine.options import RunOptions, RunResult, TaskRecord
from emitflow.engine.ports import (
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
