"""``for``: run the body once per item; each iteration's input is the previous one's output.

``in`` is an expression evaluated on the task's input (or an inline array); an object is
iterated over its values, with its keys as the ``at`` variable. ``$<each>`` and ``$<at>``
(default ``$item``, ``$index``) are bound in the body. ``while`` is checked before each
iteration, on the current data with the upcoming item bound. The output is the last iteration's
output, or the input when nothing ran. ``exit`` in the body ends that iteration only (the loop
goes on, as in the Java reference runtime; use ``while`` to stop early); ``end`` ends the
workflow.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from emitflow.dsl.model import ForTask
from emitflow.errors import FaultError, Problem
from emitflow.runner import flow
from emitflow.runner.context import Frame
from emitflow.runner.evaluation import evaluate, truthy

__all__ = ["run_for"]


async def run_for(task: ForTask, data: Any, frame: Frame) -> Any:
    """Iterate; the body's output feeds the next iteration."""
    run = frame.run
    body = task.do
    each, at, condition = task.each, task.at, task.while_
    base = frame.scope
    output = data
    for index, item in _pairs(task, data, frame):
        scope = {**base, each: item, at: index} if base else {each: item, at: index}
        if condition is not None and not truthy(evaluate(condition, output, frame.derive(scope))):
            break
        output, then = await flow.run_list(run, body, output, scope)
        if then == flow.END:
            frame.then = flow.END
            break
    return output


def _pairs(task: ForTask, data: Any, frame: Frame) -> Iterable[tuple[Any, Any]]:
    collection = task.in_
    if isinstance(collection, str):
        collection = evaluate(collection, data, frame)
    if collection is None:
        return ()
    if isinstance(collection, list):
        return enumerate(collection)
    if isinstance(collection, dict):
        return ((key, value) for key, value in collection.items())
    raise FaultError(
        Problem.of(
            "expression",
            title="Not A Collection",
            detail=f"for.in must give an array (or an object), not {type(collection).__name__}: "
            f"{collection!r:.80}",
            instance=frame.where,
        )
    )
