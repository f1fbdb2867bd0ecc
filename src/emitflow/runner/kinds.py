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
from importlib import import_module
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


#: Where each kind's handler lives: task class name → (module under ``runner.tasks``, function).
_HANDLERS: dict[str, tuple[str, str]] = {
    "CallTask": ("call", "run_call"),
    "DoTask": ("do", "run_do"),
    "EmitTask": ("emit", "run_emit"),
    "ForTask": ("for_", "run_for"),
    "ForkTask": ("fork", "run_fork"),
    "ListenTask": ("listen", "run_listen"),
    "RaiseTask": ("raise_", "run_raise"),
    "RunTask": ("run", "run_run"),
    "SetTask": ("set", "run_set"),
    "SwitchTask": ("switch", "run_switch"),
    "TryTask": ("try_", "run_try"),
    "WaitTask": ("wait", "run_wait"),
}


@lru_cache(maxsize=1)
def kinds() -> Kinds:
    """The engine's handlers.

    Each kind's module is imported by the first task of that kind: a run of ``set`` tasks does
    not import the HTTP calls, the processes or the listeners. Until then its entry is a stub
    that imports the module, puts the real handler in its place, and runs the task.
    """
    from emitflow.dsl import model
    from emitflow.runner import evaluation

    handlers: dict[type[Task], Handler] = {}
    for name, (module, function) in _HANDLERS.items():
        kind: type[Task] = getattr(model, name)
        handlers[kind] = _stub(handlers, kind, module, function)
    return Kinds(handlers=handlers, guard=_guard, renderers=evaluation.RENDERERS, plan=_plan)


def _load(module: str, function: str) -> Any:
    return getattr(import_module(f"emitflow.runner.tasks.{module}"), function)


def _stub(
    handlers: dict[type[Task], Handler], kind: type[Task], module: str, function: str
) -> Handler:
    async def first(task: Any, data: Any, frame: Any) -> Any:
        handler: Handler = _load(module, function)
        handlers[kind] = handler
        return await handler(task, data, frame)

    return first


async def _guard(task: Task, frame: Any) -> Any:
    guard: Guard = _load("try_", "guard")
    return await guard(task, frame)


def _plan(workflow: Workflow, handlers: Mapping[type[Task], Handler]) -> Mapping[int, Handler]:
    from emitflow.runner.extensions import plan

    return plan(workflow, handlers)
