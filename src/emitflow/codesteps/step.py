"""What the engine asks of a code step and what it gets back; values, plain JSON inside."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from emitflow.codesteps.enforcement import enforce_limits
from emitflow.codesteps.limits import Limits
from emitflow.errors import ConfigurationError, FaultError, Problem

__all__ = ["DEFAULT_TIMEOUT", "StepFaultError", "StepRequest", "StepResult", "parse_result"]

DEFAULT_TIMEOUT = 30.0
_EMIT_KEYS = ("data", "channel", "type", "subject", "source")


@dataclass(frozen=True, slots=True, kw_only=True)
class StepRequest:
    """One code step to run: its code, what it can see, and its limits."""

    #: Python source defining ``handler(pd)`` (plain or ``async def``).
    code: str
    #: The step's (task's) name: shown in messages and tracebacks.
    step: str
    #: ``{"trigger": {"event": …, "context": …}, "<earlier task>": <its output>}``.
    steps: Mapping[str, Any] = field(default_factory=dict)
    #: Only the secrets this step may read.
    secrets: Mapping[str, Any] = field(default_factory=dict)
    #: Environment variables the workflow gives the step (DSL ``run.script.environment``), on
    #: top of the scrubbed base (PATH, locale, HOME and TMPDIR set to the step's directory).
    environment: Mapping[str, str] = field(default_factory=dict)
    #: Wall-clock seconds before the step is stopped.
    timeout: float = DEFAULT_TIMEOUT
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        if not isinstance(self.timeout, int | float) or not 0 < self.timeout < math.inf:
            raise ConfigurationError(
                f"step {self.step!r}: timeout must be a positive number of seconds, "
                f"not {self.timeout!r}"
            )

    def to_wire(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The request sent to a worker: its head (what the worker itself reads: the step's
        name, timeout and limits, and whether its code mentions ``async``) and its body (what
        only the step's process reads)."""
        head = {
            "step": self.step,
            "timeout": float(self.timeout),
            "limits": self.limits.to_wire(),
            # The worker loads asyncio for the first step that may need it (see worker.py).
            "asynchronous": "async" in self.code,
        }
        body = {
            "code": self.code,
            "steps": dict(self.steps),
            "secrets": dict(self.secrets),
            "environment": {str(k): str(v) for k, v in self.environment.items()},
        }
        return head, body


@dataclass(frozen=True, slots=True, kw_only=True)
class StepResult:
    """What a code step handed back."""

    #: The handler's return value (``None`` after ``pd.flow.exit``).
    output: Any = None
    #: In emit order: ``{"data", "channel", "type", "subject", "source"}``; absent ones are None.
    emits: tuple[dict[str, Any], ...] = ()
    #: ``pd.export(name, value)`` calls, by name (the last value of a name wins).
    exports: dict[str, Any] = field(default_factory=dict)
    #: True when the step called ``pd.flow.exit``: the run ends after this step.
    exited: bool = False
    exit_reason: str | None = None
    #: The value given to ``pd.respond(...)``, or None.
    respond: Any = None
    #: Captured stdout and stderr, interleaved, cut at ``Limits.max_log_bytes`` with a marker.
    logs: str = ""
    logs_truncated: bool = False
    #: Seconds from the start of the step's process to its end.
    duration: float = 0.0


class StepFaultError(FaultError):
    """A code step faulted; ``result`` holds what it did before (emits, exports, logs)."""

    def __init__(self, problem: Problem, result: StepResult) -> None:
        super().__init__(problem)
        self.result = result


def _problem(data: Any) -> Problem | None:
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ValueError("problem is not an RFC 7807 object")
    return Problem(
        type=data["type"],
        status=int(data.get("status", 500)),
        title=data.get("title"),
        detail=data.get("detail"),
    )


def _emits(data: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(data, list):
        raise ValueError("emits is not a list")
    out = []
    for item in data:
        if not isinstance(item, dict) or "data" not in item:
            raise ValueError("an emit is not an object with data")
        out.append({key: item.get(key) for key in _EMIT_KEYS})
    return tuple(out)


def _body(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError("the result is not an object")
    exports = data.get("exports", {})
    reason = data.get("exit_reason")
    if not isinstance(exports, dict) or not (reason is None or isinstance(reason, str)):
        raise ValueError("exports or exit_reason have the wrong type")
    return {
        "output": data.get("output"),
        "emits": _emits(data.get("emits", [])),
        "exports": exports,
        "exited": data.get("exited") is True,
        "exit_reason": reason,
        "respond": data.get("respond"),
    }


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_result(
    step: str, meta: Mapping[str, Any], raw: bytes | None, limits: Limits | None = None
) -> StepResult:
    """The ``StepResult`` of a worker's answer; raises ``StepFaultError`` if the step faulted.

    ``raw`` is the result frame's JSON as the step's process wrote it. It is cut to ``limits``
    (see ``enforcement.py``): user code wrote it, so ``pd``'s own checks may have been bypassed.
    Parsing a large result takes a while: the pool calls this in a thread.
    """
    fields: dict[str, Any] = {
        "logs": str(meta.get("logs", "")),
        "logs_truncated": meta.get("logs_truncated") is True,
        "duration": float(meta.get("duration", 0.0)),
    }
    try:
        problem = _problem(meta.get("problem"))
        if raw is not None:
            body = json.loads(raw, parse_constant=_constant)
            fields.update(_body(body))
            problem = problem or _problem(body.get("problem"))
        problem = enforce_limits(step, limits or Limits(), fields) or problem
    except (ValueError, TypeError) as exc:
        # Nothing of a result that cannot be read is kept.
        fields.update(output=None, emits=(), exports={}, respond=None)
        problem = Problem.of(
            "runtime",
            title="Code step result unreadable",
            detail=f"step {step!r} sent back a result that could not be read ({exc})",
        )
    result = StepResult(**fields)
    if problem is not None:
        raise StepFaultError(problem, result)
    return result
