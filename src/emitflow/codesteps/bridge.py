"""The engine's ``CodeStepRunner`` port, served by a ``CodeStepPool``.

``PoolStepRunner`` turns the engine's ``CodeStep`` into a ``StepRequest`` and the pool's
``StepResult`` back into a ``CodeStepOutcome``. Each ``pd.send.emit(event, channel, type=,
subject=, source=)`` becomes a CloudEvent whose ``data`` is ``event``, with these defaults:
``type`` ``emitflow.emit.v1``, ``source`` ``/emitflow/runs/<run id>``, ``subject`` absent; a
channel other than the default is carried in the ``emitflowchannel`` extension attribute.
The pool is started on the first step, so a run without code steps never pays for it.
``pd.secrets`` holds the step's own secrets (``CodeStep.secrets``: those its workflow lists in
``use.secrets``) over any given to the runner.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from emitflow.codesteps.pool import CodeStepPool, PoolSettings
from emitflow.codesteps.responses import ResponseError, check_response
from emitflow.codesteps.step import StepFaultError, StepRequest, StepResult
from emitflow.errors import EventError, FaultError, Problem
from emitflow.events.cloudevent import CloudEvent
from emitflow.lifecycle import AsyncLifecycle
from emitflow.ports import CodeStep, CodeStepFaultError, CodeStepOutcome

__all__ = ["CHANNEL_ATTRIBUTE", "DEFAULT_EMIT_TYPE", "PoolStepRunner"]

DEFAULT_EMIT_TYPE = "emitflow.emit.v1"
CHANNEL_ATTRIBUTE = "emitflowchannel"
#: Emits handled between two yields to the event loop (each takes some tens of microseconds).
EMIT_BATCH = 128


class PoolStepRunner(AsyncLifecycle):
    """Runs code steps in a lazily started pool; use it as an async context manager."""

    def __init__(
        self,
        settings: PoolSettings | None = None,
        secrets: Mapping[str, Any] | None = None,
        *,
        responder: Callable[[str, Any], None] | None = None,
    ) -> None:
        self._settings = settings or PoolSettings()
        self._secrets = dict(secrets or {})
        self._pool: CodeStepPool | None = None
        self._lock = asyncio.Lock()
        #: Told ``(run id, response)`` when a step calls ``pd.respond(...)`` (an HTTP hook
        #: waiting to answer); ``None``: responses are dropped.
        self.responder = responder

    async def _enter(self) -> None:
        """Nothing yet: the pool starts with the first step."""

    async def close(self) -> None:
        """Stop the pool, if a step started it."""
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _started(self) -> CodeStepPool:
        async with self._lock:
            if self._pool is None:
                pool = CodeStepPool(self._settings)
                await pool.start()
                self._pool = pool
            return self._pool

    async def run(self, step: CodeStep) -> CodeStepOutcome:
        """Run one step in the pool and translate its result."""
        pool = await self._started()
        request = StepRequest(
            code=step.code,
            step=step.task,
            steps=dict(step.steps),
            secrets={**self._secrets, **step.secrets},
            environment=dict(step.environment),
        )
        try:
            result = await pool.run(request, share=step.workflow)
        except StepFaultError as exc:
            problem = exc.problem
            if problem.instance is None:
                problem = Problem(
                    type=problem.type,
                    status=problem.status,
                    title=problem.title,
                    detail=problem.detail,
                    instance=step.reference,
                )
            events = await _events(step, exc.result)
            raise CodeStepFaultError(problem, events, exc.result.logs) from exc
        if result.respond is not None and self.responder is not None:
            self.responder(step.run_id, _response(step, result.respond))
        return CodeStepOutcome(
            output=result.output,
            emits=await _events(step, result),
            exports=dict(result.exports),
            exit_reason=(result.exit_reason or "exited") if result.exited else None,
            logs=result.logs,
        )


def _response(step: CodeStep, response: Any) -> dict[str, Any]:
    # Checked again here: a step that wrote its result without ``pd`` is not trusted.
    try:
        return check_response(response)
    except ResponseError as exc:
        raise FaultError(
            Problem.of(
                "runtime",
                title="Invalid Response",
                detail=f"step {step.task!r}: {exc}",
                instance=step.reference,
            )
        ) from exc


async def _events(step: CodeStep, result: StepResult) -> tuple[CloudEvent, ...]:
    """The step's emits as CloudEvents, made a batch at a time: 10,000 emits take about half a
    second to check and build, which must not hold the event loop in one go."""
    events = []
    for index, emit in enumerate(result.emits):
        if index and index % EMIT_BATCH == 0:
            await asyncio.sleep(0)
        events.append(_event(step, index, emit))
    return tuple(events)


def _event(step: CodeStep, index: int, emit: Mapping[str, Any]) -> CloudEvent:
    attributes: dict[str, Any] = {
        "subject": emit.get("subject"),
        CHANNEL_ATTRIBUTE: emit.get("channel") or None,
    }
    try:
        return CloudEvent.create(
            type=emit.get("type") or DEFAULT_EMIT_TYPE,
            source=emit.get("source") or f"/emitflow/runs/{step.run_id}",
            data=emit.get("data"),
            **attributes,
        )
    except EventError as exc:
        raise FaultError(
            Problem.of(
                "runtime",
                title="Invalid Emit",
                detail=f"step {step.task!r}, emit #{index + 1}: {exc}",
                instance=step.reference,
            )
        ) from exc
