"""``raise``: fault with an error given inline or named from ``use.errors``.

Its fields may be ``${ }`` expressions, evaluated on the task's input. The raised problem keeps
its own ``type`` URI; ``instance`` is the task's JSON pointer unless the error gives one.
"""

from __future__ import annotations

from typing import Any, NoReturn

from emitflow.dsl.model import ErrorDefinition, RaiseTask
from emitflow.errors import FaultError, Problem
from emitflow.runner.context import Frame
from emitflow.runner.evaluation import render

__all__ = ["run_raise"]


async def run_raise(task: RaiseTask, data: Any, frame: Frame) -> NoReturn:
    """Build the problem and raise it."""
    definition = _definition(task, frame)
    fields = {
        name: render(getattr(definition, name), data, frame)
        for name in ("type", "status", "title", "detail", "instance")
    }
    raise FaultError(
        Problem(
            type=_text(fields, "type", frame, required=True) or "",
            status=_status(fields["status"], frame),
            title=_text(fields, "title", frame),
            detail=_text(fields, "detail", frame),
            instance=_text(fields, "instance", frame) or frame.where,
        )
    )


def _definition(task: RaiseTask, frame: Frame) -> ErrorDefinition:
    if isinstance(task.error, ErrorDefinition):
        return task.error
    found = frame.run.workflow.use.errors.get(task.error)
    if found is None:
        raise _invalid(frame, f"the error {task.error!r} is not defined under use.errors")
    return found


def _text(fields: dict[str, Any], name: str, frame: Frame, *, required: bool = False) -> str | None:
    value = fields[name]
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise _invalid(frame, f"the error's {name!r} must be a string, not {value!r:.80}")
    return value


def _status(value: Any, frame: Frame) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(frame, f"the error's 'status' must be an integer, not {value!r:.80}")
    return value


def _invalid(frame: Frame, detail: str) -> FaultError:
    return FaultError(
        Problem.of("configuration", title="Invalid Error", detail=detail, instance=frame.where)
    )
