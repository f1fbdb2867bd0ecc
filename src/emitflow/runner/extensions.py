"""``use.extensions``: task lists run before and after the tasks of a kind.

Which tasks are extended. Every task of the workflow's ``do`` tree (nested ``do``, ``for``,
``fork``, ``try`` and ``catch.do`` lists included) whose kind is the extension's ``extend``:
a kind name (``call``, ``emit``, ``for``, ``listen``, ``raise``, ``run``, ``set``, ``switch``,
``try``, ``wait``), ``composite`` (``do``, ``for``, ``fork``, ``try``) or ``all``. Tasks defined
under ``use`` (the extensions' own ``before``/``after`` tasks, and the bodies of
``use.functions``, whose calling ``call`` task is the one extended) are never extended, so an
extension cannot trigger itself. A task skipped by its ``if`` is not extended either. The plan
is made once per workflow; which extensions apply then depends only on ``when``.

Sequencing (the DSL leaves it open; this is emitflow's choice). An extension wraps the task's
*body*, inside its data flow: after ``input.from`` and before ``output.as``, within its
``timeout``, and inside each attempt of a ``catch`` on that task. For each extension, in
declaration order:

1. ``when`` (optional) is evaluated on the task's transformed input, with the task's
   variables; when it does not hold the extension is passed over.
2. ``before`` runs on the task's transformed input. Its output is dropped, unless the list
   ends with ``then: exit`` (or ``end``): then the task's body — with the extensions declared
   after this one — is *skipped*, and the before-list's output stands in for the task's raw
   output (the mocking pattern; ``output.as``, ``output.schema`` and ``export`` still apply
   to it). ``end`` also ends the workflow once the task is done.
3. The next extension, or the task's body itself.
4. ``after`` runs on the raw output so far, and its output becomes the task's raw output.

So extensions nest like middleware: befores run in declaration order, afters in reverse
order, and an extension that skips the task still runs its own ``after`` and those of the
extensions declared before it. Inside ``before``/``after`` tasks, ``$task`` is the *extended*
task (``{name, reference, definition, input, output, startedAt}``; ``output`` is set for
``after``), so a logging extension can say which task it wraps, and the extended task's loop
and catch variables are visible. Extension tasks are recorded and traced under their own
pointers (``/use/extensions/0/mock/before/0/fake``); a fault in one faults the extended task.
Their events leave as each of them commits, so before the extended ``emit`` task's own event,
which leaves when that task commits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from emitflow.dsl.model import (
    CallTask,
    DoTask,
    EmitTask,
    Extension,
    ForkTask,
    ForTask,
    ListenTask,
    RaiseTask,
    RunTask,
    SetTask,
    SwitchTask,
    Task,
    TaskItem,
    TryTask,
    WaitTask,
    Workflow,
)
from emitflow.runner import flow
from emitflow.runner.context import Frame
from emitflow.runner.evaluation import evaluate, truthy
from emitflow.runner.kinds import Handler

__all__ = ["Plan", "extend", "plan"]

#: The handler of each extended task of a workflow (its kind's, wrapped), by ``id`` of the task.
Plan = Mapping[int, Handler]

#: The ``extend`` values that select each kind of task.
_TARGETS: Mapping[type[Task], frozenset[str]] = {
    CallTask: frozenset({"call", "all"}),
    DoTask: frozenset({"composite", "all"}),
    EmitTask: frozenset({"emit", "all"}),
    ForTask: frozenset({"for", "composite", "all"}),
    ForkTask: frozenset({"composite", "all"}),
    ListenTask: frozenset({"listen", "all"}),
    RaiseTask: frozenset({"raise", "all"}),
    RunTask: frozenset({"run", "all"}),
    SetTask: frozenset({"set", "all"}),
    SwitchTask: frozenset({"switch", "all"}),
    TryTask: frozenset({"try", "composite", "all"}),
    WaitTask: frozenset({"wait", "all"}),
}

_PLANS: dict[tuple[int, int], tuple[Workflow, Mapping[type[Task], Handler], Plan]] = {}
_MAX_PLANS = 256


def plan(workflow: Workflow, handlers: Mapping[type[Task], Handler]) -> Plan:
    """The wrapped handler of each extended task of the ``do`` tree (cached per workflow)."""
    key = (id(workflow), id(handlers))
    cached = _PLANS.get(key)
    if cached is not None and cached[0] is workflow and cached[1] is handlers:
        return cached[2]
    made: dict[int, Handler] = {}
    for item in _tree(workflow.do):
        task = item.task
        targets = _TARGETS.get(type(task), frozenset())
        chain = tuple(e for e in workflow.use.extensions if e.extend in targets)
        if chain:
            # Keyed by identity: the model's tasks are not hashable, and they live as long
            # as the workflow, which the cache keeps alive with its plan.
            made[id(task)] = extend(handlers[type(task)], chain)
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    _PLANS[key] = (workflow, handlers, made)
    return made


def _tree(items: tuple[TaskItem, ...]) -> Iterator[TaskItem]:
    for item in items:
        yield item
        for nested in _children(item.task):
            yield from _tree(nested)


def _children(task: Task) -> Iterator[tuple[TaskItem, ...]]:
    if isinstance(task, DoTask | ForTask):
        yield task.do
    elif isinstance(task, ForkTask):
        yield task.branches
    elif isinstance(task, TryTask):
        yield task.try_
    elif isinstance(task, ListenTask) and task.foreach is not None:
        yield task.foreach.do
    if task.catch is not None and task.catch.do is not None:
        yield task.catch.do


def extend(handler: Handler, chain: tuple[Extension, ...]) -> Handler:
    """``handler`` wrapped in the extensions of ``chain`` (outermost first)."""

    async def extended(task: Task, data: Any, frame: Frame) -> Any:
        return await _wrap(chain, 0, handler, task, data, frame)

    return extended


async def _wrap(
    chain: tuple[Extension, ...], index: int, handler: Handler, task: Task, data: Any, frame: Frame
) -> Any:
    if index == len(chain):
        return await handler(task, data, frame)
    extension = chain[index]
    if extension.when is not None and not truthy(evaluate(extension.when, data, frame)):
        return await _wrap(chain, index + 1, handler, task, data, frame)
    skipped = False
    if extension.before:
        output, then = await _run(extension.before, data, frame)
        skipped = then is not None
    if not skipped:
        output = await _wrap(chain, index + 1, handler, task, data, frame)
    if extension.after:
        frame.raw_output = output  # ``$task.output`` in the after tasks
        output, _ = await _run(extension.after, output, frame)
    return output


async def _run(items: tuple[TaskItem, ...], data: Any, frame: Frame) -> tuple[Any, str | None]:
    """Run an extension's list with ``$task`` bound to the extended task."""
    scope = frame.with_scope({"task": frame.task_var()})
    output, then = await flow.run_list(frame.run, items, data, scope)
    if then == flow.END:
        frame.then = flow.END
    return output, then
