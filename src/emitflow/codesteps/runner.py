"""Running one step's code in the current process: compile, call ``handler(pd)``, report.

The worker calls ``run_step`` in the process it forked for the step; unit tests call it
directly. The answer is the step's result as JSON bytes (see ``protocol.py``), assembled from
the JSON text ``pd`` recorded, so nothing is serialised twice.
"""

from __future__ import annotations

import errno
import inspect
import json
import linecache
import os
import traceback
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from emitflow.codesteps import faults
from emitflow.codesteps.limits import Limits
from emitflow.codesteps.pd import FlowExit, NotJsonError, Pd, Recording, to_json
from emitflow.errors import Problem

__all__ = ["run_step", "step_filename", "user_traceback"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_MAX_TRACEBACK = 64 * 1024


def step_filename(step: str) -> str:
    """The file name the step's code is compiled under; tracebacks show it."""
    return f"<code step {step}>"


def _trim(te: traceback.TracebackException, filename: str, seen: set[int]) -> None:
    if id(te) in seen:
        return
    seen.add(id(te))
    frames = list(te.stack)
    # The worker's own frames (and asyncio's, for an async handler) come before the user's.
    start = next((i for i, f in enumerate(frames) if f.filename == filename), len(frames))
    kept = [f for f in frames[start:] if not f.filename.startswith(_PACKAGE_DIR)]
    te.stack = traceback.StackSummary.from_list(kept)
    for linked in (te.__cause__, te.__context__, *(getattr(te, "exceptions", None) or ())):
        if linked is not None:
            _trim(linked, filename, seen)


def user_traceback(exc: BaseException, filename: str) -> str:
    """The traceback of ``exc`` with only the user's frames (and what they called)."""
    te = traceback.TracebackException.from_exception(exc)
    _trim(te, filename, set())
    text = "".join(te.format())
    if len(text) > _MAX_TRACEBACK:
        text = (
            text[: _MAX_TRACEBACK // 4]
            + "\n[… traceback shortened …]\n"
            + text[-_MAX_TRACEBACK // 2 :]
        )
    return text


def _load(code: str, filename: str) -> Callable[..., Any] | None:
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": "__step__", "__file__": filename}
    exec(compile(code, filename, "exec"), namespace)
    handler = namespace.get("handler")
    return handler if callable(handler) else None


async def _await(value: Awaitable[Any]) -> Any:
    return await value


def _limit_note(exc: BaseException, limits: Limits) -> str:
    """What limit an OSError most likely hit; the errno alone does not say."""
    code = exc.errno if isinstance(exc, OSError) else None
    if code == errno.EAGAIN:
        # fork() and thread start fail with EAGAIN at RLIMIT_NPROC.
        return (
            "If this came from starting a process or thread, the step reached its limit of "
            f"{limits.max_processes} processes and threads (Limits.max_processes)."
        )
    if code == errno.EFBIG:
        return (
            f"The step may write files of at most {limits.max_file_bytes} bytes "
            "(Limits.max_file_bytes)."
        )
    if code == errno.ENOSPC:
        return "The step's private directory is full (PoolSettings.tmpfs_bytes under bwrap)."
    if isinstance(exc, SystemExit):
        return "End a step with return or pd.flow.exit(reason), not sys.exit()."
    return ""


def _problem_for(exc: BaseException, filename: str, step: str, limits: Limits) -> Problem:
    text = user_traceback(exc, filename)
    if isinstance(exc, MemoryError):
        return faults.memory_exceeded(step, limits.memory_bytes, text)
    note = _limit_note(exc, limits)
    return faults.raised(type(exc).__name__, f"{text}\n{note}" if note else text)


def _call(pd: Pd, code: str, filename: str) -> tuple[str, Problem | None]:
    """The handler's return value as JSON, or the problem it ran into."""
    step = pd.recording.step
    try:
        handler = _load(code, filename)
        if handler is None:
            return "null", faults.no_handler(step)
        value = handler(pd)
        if inspect.isawaitable(value):
            # Imported here: the worker preloads asyncio only once a step has needed it.
            import asyncio

            value = asyncio.run(_await(value))
    except FlowExit:
        return "null", None
    except BaseException as exc:
        return "null", _problem_for(exc, filename, step, pd.recording.limits)
    try:
        return to_json(value, step=step, verb="returned", advice_verb="return"), None
    except NotJsonError as exc:
        return "null", faults.not_json(str(exc))


def _assemble(output: str, recording: Recording, problem: Problem | None) -> bytes:
    exports = ",".join(f"{json.dumps(k)}:{v}" for k, v in recording.exports.items())
    parts = [
        f'"output":{output}',
        f'"emits":[{",".join(recording.emits)}]',
        f'"exports":{{{exports}}}',
        f'"exited":{json.dumps(recording.exited)}',
        f'"exit_reason":{json.dumps(recording.exit_reason)}',
        f'"respond":{recording.respond or "null"}',
        f'"problem":{json.dumps(problem.to_dict() if problem else None)}',
    ]
    return ("{" + ",".join(parts) + "}").encode("ascii")


def run_step(message: Mapping[str, Any]) -> bytes:
    """Run the step described by a request ``message``; the result as JSON bytes."""
    step = str(message["step"])
    limits = Limits.from_wire(message["limits"])
    pd = Pd(step=step, steps=message["steps"], secrets=message["secrets"], limits=limits)
    recording = pd.recording
    output, problem = _call(pd, str(message["code"]), step_filename(step))
    if problem is None and recording.limit_message is not None:
        # The step hit a limit and caught the error: the limit still decides the outcome.
        problem = faults.emit_limit(recording.limit_message)
    size = len(output) + sum(map(len, recording.exports.values())) + len(recording.respond or "")
    if size > limits.max_output_bytes:
        problem = faults.too_large(
            step,
            "returned, exported and responded with",
            size,
            limits.max_output_bytes,
            "max_output_bytes",
        )
        output, recording.exports, recording.respond = "null", {}, None
    return _assemble(output, recording, problem)
