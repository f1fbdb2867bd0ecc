"""The step's limits checked again by the engine, on the result as it arrived.

``pd`` refuses the emit past ``Limits.max_emits`` and the worker caps the logs, but both run in
the sandbox, beside the step's own code: a step can append to ``pd.recording.emits`` directly,
or write its result frame itself. So the engine measures what came back the way ``pd`` does
and cuts it to the limits: the emits past the count or the byte limit, an output, exports and
response over ``max_output_bytes``, logs over ``max_log_bytes``. Whatever is cut is never
stored, and the step faults with the error ``pd`` would have raised.
"""

from __future__ import annotations

import json
from typing import Any

from emitflow.codesteps import faults
from emitflow.codesteps.capture import truncation_marker
from emitflow.codesteps.limits import Limits
from emitflow.errors import Problem

__all__ = ["enforce_limits"]

# ``{"data":`` and ``}``: ``pd`` counts an emit's data and attributes, not the object around them.
_EMIT_ENVELOPE = len('{"data":}')
# The worker appends its truncation marker to logs it cut; past the limit, allow for it.
_MARKER_ALLOWANCE = 256


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), allow_nan=False))


def _emits(step: str, limits: Limits, fields: dict[str, Any]) -> Problem | None:
    emits: tuple[dict[str, Any], ...] = fields.get("emits", ())
    problem = None
    if len(emits) > limits.max_emits:
        emits = emits[: limits.max_emits]
        problem = faults.emit_limit(
            f"step {step!r} handed back more than {limits.max_emits} emits "
            "(Limits.max_emits), bypassing pd.send.emit; only the first "
            f"{limits.max_emits} are kept"
        )
    total = 0
    for index, emit in enumerate(emits):
        total += _size(emit) - _EMIT_ENVELOPE
        if total > limits.max_emit_bytes:
            emits = emits[:index]
            problem = faults.emit_limit(
                f"step {step!r} handed back more than {limits.max_emit_bytes} bytes of events "
                f"at emit #{index + 1} (Limits.max_emit_bytes), bypassing pd.send.emit; the "
                "emits before it are kept"
            )
            break
    fields["emits"] = emits
    return problem


def _output(step: str, limits: Limits, fields: dict[str, Any]) -> Problem | None:
    size = _size(fields.get("output"))
    size += sum(_size(value) for value in fields.get("exports", {}).values())
    if fields.get("respond") is not None:
        size += _size(fields["respond"])
    if size <= limits.max_output_bytes:
        return None
    fields.update(output=None, exports={}, respond=None)
    return faults.too_large(
        step,
        "returned, exported and responded with",
        size,
        limits.max_output_bytes,
        "max_output_bytes",
    )


def _logs(limits: Limits, fields: dict[str, Any]) -> None:
    logs: str = fields.get("logs", "")
    if len(logs) <= limits.max_log_bytes + _MARKER_ALLOWANCE:
        return
    data = logs.encode("utf-8", errors="replace")
    if len(data) <= limits.max_log_bytes + _MARKER_ALLOWANCE:
        return
    # As the capture does: the first half and the last half, the cut marked between them.
    tail = limits.max_log_bytes // 2
    head = limits.max_log_bytes - tail
    fields["logs"] = (
        data[:head].decode("utf-8", errors="replace")
        + truncation_marker(len(data) - head - tail)
        + data[len(data) - tail :].decode("utf-8", errors="replace")
    )
    fields["logs_truncated"] = True


def enforce_limits(step: str, limits: Limits, fields: dict[str, Any]) -> Problem | None:
    """Cut ``fields`` (a ``StepResult``'s, in place) to ``limits``; the problem, if any."""
    _logs(limits, fields)
    emitted = _emits(step, limits, fields)
    return emitted or _output(step, limits, fields)
