"""The table from task kinds to the modules that run them, and the per-workflow choices.

It is built on first use rather than at import, because the composite kinds (``do``, ``for``,
``fork``, ``try``) call back into the runner, which reaches the kinds through this table. A
``Run`` also takes from it, once, the value templates of its evaluation mode and its workflow's
extension plan.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from emitflow.dsl.model import Task, Workflow

if TYPE_CHECKING:
    from emitflow.runner.evaluation import Renderer

__all__ = ["Guard", "Handler", "Kinds", "kinds"]

#: Runs one kind of task on its transformed input: ``(task, data, frame) -> raw output``.
Handler = Callable[[Any, Any, Any], Awaitable[Any]]
#: Runs a task carrying its own ``catch`` (the seed shorthand): ``(task, frame) -> output``.
Guard = Callable[[Task, Any], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Kinds:
    """Handlers by task class, the ``catch`` shorthand's guard, templates, extension plans."""

    handlers: Mapping[type[Task], Handler]
    guard: Guard
    #: The value-template compiler of each evaluation mode (``strict``, ``loose``).
    renderers: Mapping[str, Callable[[Any], Renderer]]
    #: The wrapped handlers of a workflow's extended tasks, by task ``id`` (see ``extensions``).
    plan: Callable[[Workflow, Mapping[type[Task], Handler]], Mapping[int, Handler]]


@lru_cache(maxsize=1)
def kinds() -> Kinds:
    """The engine's handlers."""
    from emitflow.dsl import model
    from emitflow.runner import evaluation, extensions
    from emitflow.runner.tasks import (
        call,
        do,
        emit,
        for_,
        fork,
        listen,
        raise_,
        run,
        set,
        switch,
        try_,
        wait,
    )

    handlers: dict[type[Task], Handler] = {
        model.CallTask: call.run_call,
        model.DoTask: do.run_do,
        model.EmitTask: emit.run_emit,
        model.ForTask: for_.run_for,
        model.ForkTask: fork.run_fork,
        model.ListenTask: listen.run_listen,
        model.RaiseTask: raise_.run_raise,
        model.RunTask: run.run_run,
        model.SetTask: set.run_set,
        model.SwitchTask: switch.run_switch,
        model.TryTask: try_.run_try,
        model.WaitTask: wait.run_wait,
    }
    return Kinds(
        handlers=handlers,
        guard=try_.guard,
        renderers=evaluation.RENDERERS,
        plan=extensions.plan,
    )
