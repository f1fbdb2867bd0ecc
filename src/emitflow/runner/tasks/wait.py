"""``wait``: pause on the run's clock; the output is the input."""

from __future__ import annotations

from typing import Any

from emitflow.dsl.model import WaitTask
from emitflow.runner.context import Frame
from emitflow.runner.deadlines import sleep
from emitflow.runner.durations import seconds

__all__ = ["run_wait"]


async def run_wait(task: WaitTask, data: Any, frame: Frame) -> Any:
    """Sleep for the duration (a deadline on the way aborts it)."""
    await sleep(frame.run.clock, seconds(task.duration, data, frame))
    return data
