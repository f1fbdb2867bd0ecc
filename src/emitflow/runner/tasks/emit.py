"""``emit``: build a CloudEvent from ``event.with`` and publish it when the task commits.

Attributes and ``data`` are evaluated on the task's transformed input. Unless given, ``id`` is a
new UUID, ``time`` is now (on the run's clock), ``source`` is ``/<namespace>/<name>/<version>``
and ``specversion`` is ``1.0``; with data and no ``datacontenttype``, it is
``application/json``. Extension attributes pass through, and ``RunOptions.event_extensions``
are set over them. The task's output is the event as a structured JSON object (the CTK checks
this). The event leaves (to ``RunOptions.events``) only once the task has committed, so a task
that faults afterwards (say its output schema fails) emits nothing. Secret values are masked in
the event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emitflow.dsl.model import EmitTask
from emitflow.errors import EventError, FaultError, Problem
from emitflow.events.cloudevent import CloudEvent
from emitflow.ids import random_uuid
from emitflow.runner.context import Frame, rfc3339
from emitflow.runner.evaluation import render

__all__ = ["build_event", "run_emit", "stamped"]


async def run_emit(task: EmitTask, data: Any, frame: Frame) -> Any:
    """Build the event, hold it until the task commits, output it."""
    event = build_event(task.event, data, frame)
    if frame.emits is None:
        frame.emits = []
    frame.emits.append(event)
    return event.to_dict()


def build_event(definition: Any, data: Any, frame: Frame) -> CloudEvent:
    """The CloudEvent that ``event.with`` describes, evaluated on ``data``."""
    run = frame.run
    rendered = render(definition, data, frame)
    if not isinstance(rendered, dict):
        raise _invalid(frame, f"'emit.event.with' must give an object, not {rendered!r:.80}")
    attributes = dict(rendered)  # a copy: the template's constant parts are the model's
    has_data = "data" in attributes
    payload = attributes.pop("data", None)
    attributes.setdefault("specversion", "1.0")
    if attributes.get("id") is None:
        attributes["id"] = random_uuid()
    if attributes.get("source") is None:
        document = run.workflow.document
        attributes["source"] = f"/{document.namespace}/{document.name}/{document.version}"
    if attributes.get("time") is None:
        attributes["time"] = rfc3339(run.clock.now())
    if has_data and "datacontenttype" not in attributes:
        attributes["datacontenttype"] = "application/json"
    if run.options.event_extensions:
        attributes.update(run.options.event_extensions)  # the runtime's win (see RunOptions)
    if run.redacting:
        attributes = run.redactor.value(attributes)
        payload = run.redactor.value(payload)
    try:
        return CloudEvent(attributes=attributes, data=payload, has_data=has_data)
    except EventError as exc:
        raise _invalid(frame, str(exc)) from exc


def _invalid(frame: Frame, detail: str) -> FaultError:
    return FaultError(
        Problem.of(
            "runtime",
            status=400,
            title="Invalid CloudEvent",
            detail=f"the event to emit is invalid: {detail}",
            instance=frame.where,
        )
    )


def stamped(event: CloudEvent, extensions: Mapping[str, Any]) -> CloudEvent:
    """``event`` with the run's ``event_extensions`` set (a new event; the given one is kept)."""
    if not extensions:
        return event
    return event.with_attributes(extensions)
