"""``listen``: waiting for events needs the event router, which ``emitflow run`` does not have."""

from __future__ import annotations

from typing import Any, NoReturn

from emitflow.dsl.model import ListenTask
from emitflow.engine.context import Frame
from emitflow.errors import FaultError, Problem

__all__ = ["run_listen"]


async def run_listen(task: ListenTask, data: Any, frame: Frame) -> NoReturn:
    """Fault with a ``configuration`` problem rather than wait forever in silence."""
    raise FaultError(
        Problem.of(
            "configuration",
            title="Not Supported",
            detail="listen is not supported by `emitflow run` yet: waiting for events needs "
            "an event router, which a one-off run does not have",
            instance=frame.where,
        )
    )
