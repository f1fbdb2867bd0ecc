"""``set``: the output is the evaluated value, which replaces the input (no merge)."""

from __future__ import annotations

from typing import Any

from emitflow.dsl.model import SetTask
from emitflow.runner.context import Frame
from emitflow.runner.evaluation import render

__all__ = ["run_set"]


async def run_set(task: SetTask, data: Any, frame: Frame) -> Any:
    """A map whose values may hold ``${ }``, or one ``${ }`` expression."""
    return render(task.set, data, frame)
