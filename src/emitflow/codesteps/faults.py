"""The RFC 7807 problems a code step can fault with, worded in one place.

Each names the step, what stopped it and the limit involved (with the ``Limits`` field that
sets it), so a user can tell a bug in their code from a limit they should raise. ``instance``
is left empty: the engine fills in the task's JSON pointer.
"""

from __future__ import annotations

import signal

from emitflow.codesteps.limits import MIB
from emitflow.errors import Problem

__all__ = [
    "cpu_exceeded",
    "crashed",
    "emit_limit",
    "memory_exceeded",
    "no_handler",
    "not_json",
    "raised",
    "timed_out",
    "too_large",
    "worker_lost",
]


def _size(count: int) -> str:
    if count >= MIB and count % MIB == 0:
        return f"{count // MIB} MiB"
    return f"{count} bytes"


def raised(exc_type: str, traceback_text: str) -> Problem:
    """The user's code raised an exception; ``traceback_text`` holds only the user's frames."""
    return Problem.of("runtime", title=f"Code step raised {exc_type}", detail=traceback_text)


def no_handler(step: str) -> Problem:
    """The code defines no callable ``handler``."""
    return Problem.of(
        "runtime",
        title="Code step has no handler",
        detail=f"step {step!r} defines no handler(pd); write `def handler(pd): ...` "
        "(or `async def handler(pd): ...`) at the top level of the code",
    )


def not_json(message: str) -> Problem:
    """A value crossing to the engine (return, export, emit, response) is not JSON."""
    return Problem.of(
        "runtime", title="Code step produced a value that is not JSON", detail=message
    )


def emit_limit(message: str) -> Problem:
    """The step emitted more events, or more bytes of events, than its limit."""
    return Problem.of("runtime", title="Code step exceeded its emit limit", detail=message)


def too_large(step: str, what: str, size: int, limit: int, field: str) -> Problem:
    """A result part is larger than its limit."""
    return Problem.of(
        "runtime",
        title="Code step result too large",
        detail=f"step {step!r} {what} {_size(size)} of JSON, over its {_size(limit)} limit "
        f"(Limits.{field}); store large data elsewhere and pass a reference",
    )


def memory_exceeded(step: str, limit: int, traceback_text: str = "") -> Problem:
    """The step ran out of its address space."""
    detail = (
        f"step {step!r} ran out of memory under its {_size(limit)} address-space limit "
        "(Limits.memory_bytes)"
    )
    if traceback_text:
        detail += "\n" + traceback_text
    return Problem.of("runtime", title="Code step exceeded its memory limit", detail=detail)


def timed_out(step: str, seconds: float) -> Problem:
    """The step did not finish within its wall-clock timeout."""
    return Problem.of(
        "timeout",
        title="Code step timed out",
        detail=f"step {step!r} did not finish within its {seconds:g} s timeout and was stopped",
    )


def cpu_exceeded(step: str, seconds: int) -> Problem:
    """The step used up its CPU time."""
    return Problem.of(
        "timeout",
        title="Code step exceeded its CPU-time limit",
        detail=f"step {step!r} used more than its {seconds} s of CPU time (Limits.cpu_seconds) "
        "and was stopped",
    )


def crashed(step: str, status: int, limit: int) -> Problem:
    """The step's interpreter ended without a result (``os._exit``, a signal)."""
    if status < 0:
        number = -status
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        how = f"was killed by {name}"
        if number == signal.SIGKILL:
            how += f" (often the kernel's answer to memory pressure; limit {_size(limit)})"
    else:
        how = f"exited with status {status}"
    return Problem.of(
        "runtime",
        title="Code step crashed",
        detail=f"step {step!r}: the Python interpreter running it {how} before the handler "
        "returned (os._exit, a crash in native code, or a signal)",
    )


def worker_lost(step: str, why: str) -> Problem:
    """The worker process serving the step failed; the pool replaces it."""
    return Problem.of(
        "runtime",
        title="Code-step worker failed",
        detail=f"step {step!r}: {why}; the worker was replaced",
    )
