"""Lifecycle CloudEvents (``io.serverlessworkflow.workflow.*.v1``, ``….task.*.v1``) for a trace.

Built only when the run has a trace sink: the runner holds ``None`` otherwise and never calls in
here. Data follows the DSL reference (§11): workflow events carry ``name`` (the qualified
instance name ``<name>-<run id>.<namespace>``) and ``<verb>At``; task events carry ``workflow``,
``task`` (the JSON pointer) and ``<verb>At``; ``started`` adds ``definition``, ``faulted`` adds
``error``, ``completed`` adds ``output``. A task skipped by its ``if`` emits nothing. Secret
values are masked in every event; ``RunOptions.event_extensions`` are set on each.
"""

from __future__ import annotations

from typing import Any

from emitflow.errors import Problem
from emitflow.events.cloudevent import CloudEvent
from emitflow.ids import random_uuid
from emitflow.ports import EventSink
from emitflow.runner.context import Run, rfc3339

__all__ = ["Lifecycle"]

_PREFIX = "io.serverlessworkflow"


class Lifecycle:
    """Publishes a run's lifecycle events to its trace sink, in the order they happen."""

    def __init__(self, run: Run, sink: EventSink) -> None:
        self._run = run
        self._sink = sink
        document = run.workflow.document
        self._name = f"{document.name}-{run.run_id}.{document.namespace}"
        self._source = f"/{document.namespace}/{document.name}/{document.version}"

    async def workflow(self, verb: str, **extra: Any) -> None:
        """``workflow.<verb>.v1`` with ``name`` and ``<verb>At``."""
        data = {"name": self._name, f"{verb}At": self._now(), **extra}
        if verb == "started":
            document = self._run.workflow.document
            data["definition"] = {
                "name": document.name,
                "namespace": document.namespace,
                "version": document.version,
            }
        await self._publish(f"{_PREFIX}.workflow.{verb}.v1", data)

    async def workflow_faulted(self, problem: Problem) -> None:
        """``workflow.faulted.v1``."""
        await self.workflow("faulted", error=problem.to_dict())

    async def task(self, verb: str, reference: str, **extra: Any) -> None:
        """``task.<verb>.v1`` with ``workflow``, ``task`` and ``<verb>At``."""
        data = {"workflow": self._name, "task": reference, f"{verb}At": self._now(), **extra}
        await self._publish(f"{_PREFIX}.task.{verb}.v1", data)

    def _now(self) -> str:
        return rfc3339(self._run.clock.now())

    async def _publish(self, type_: str, data: dict[str, Any]) -> None:
        run = self._run
        if run.redacting:
            data = run.redactor.value(data)
        attributes = {
            "specversion": "1.0",
            "id": random_uuid(),
            "source": self._source,
            "type": type_,
            "time": self._now(),
            "subject": run.run_id,
            "datacontenttype": "application/json",
            **run.options.event_extensions,
        }
        await self._sink.publish(CloudEvent(attributes=attributes, data=data))
