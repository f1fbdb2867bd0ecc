"""``do``: the tasks of a nested list in sequence; the output is the last one's."""

from __future__ import annotations

from typing import Any

from emitflow.dsl.model import DoTask
from emitflow.runner import flow
from emitflow.runner.context import Frame

__all__ = ["run_do"]


async def run_do(task: DoTask, data: Any, frame: Frame) -> Any:
    """Run the list; ``exit`` inside ends only this list, ``end`` ends the workflow."""
    output, then = await flow.run_list(frame.run, task.do, data, frame.scope)
    if then == flow.END:
        frame.then = flow.END
    return output
