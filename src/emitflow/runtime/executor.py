"""The runtime's port to the workflow runner: ``Executor``, the signature of ``execute``.

The runtime hands a run a ``RunOptions`` and reads back a ``RunResult`` (``emitflow.ports``,
the seam both sides import). ``engine_executor`` is the real runner, imported on first use so
that loading the runtime (e.g. for the CLI) does not load the runner; unit tests pass a small
fake with the same signature.
"""

from __future__ import annotations

from typing import Any, Protocol

from emitflow.dsl.model import Workflow
from emitflow.ports import RunOptions, RunResult

__all__ = ["Executor", "engine_executor"]


class Executor(Protocol):
    """Runs one workflow to its end: ``emitflow.runner.execute``'s signature."""

    async def __call__(self, workflow: Workflow, *, input: Any, options: RunOptions) -> RunResult:
        """Run ``workflow`` on ``input``."""
        ...


async def engine_executor(workflow: Workflow, *, input: Any, options: RunOptions) -> RunResult:
    """Run with ``emitflow.runner.execute``."""
    from emitflow.runner import execute

    return await execute(workflow, input=input, options=options)
