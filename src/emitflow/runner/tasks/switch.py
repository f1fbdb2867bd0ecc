"""``switch``: the first case whose ``when`` holds decides where to go; the output is the input.

Cases are tried in order on the transformed input; the case without ``when`` is the default,
taken only when no other case matches (wherever it is declared). With no match and no default,
the switch task's own ``then`` applies.
"""

from __future__ import annotations

from typing import Any

from emitflow.dsl.model import SwitchCase, SwitchTask
from emitflow.runner.context import Frame
from emitflow.runner.evaluation import evaluate, truthy

__all__ = ["run_switch"]


async def run_switch(task: SwitchTask, data: Any, frame: Frame) -> Any:
    """Pick the case; its ``then`` becomes the task's directive."""
    default: SwitchCase | None = None
    for case in task.cases:
        if case.when is None:
            default = default or case
        elif truthy(evaluate(case.when, data, frame)):
            frame.then = case.then
            return data
    if default is not None:
        frame.then = default.then
    return data
