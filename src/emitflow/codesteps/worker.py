"""The code-step worker: ``python -m emitflow.codesteps.worker --workdir DIR [--user UID]``.

A warm process that has already imported everything a step needs. Each step runs in a fresh
process forked from it (so no state leaks from one step to the next and limits set there cannot
be undone): forked and warmed up ahead of its request (``spare.py``), in a fresh directory of
its own. The worker hands it the request read on stdin, supervises it (timeout, output cap,
exit status), writes the answer on stdout (see ``protocol.py``), then cleans up everything the
step started and wrote (``scratch.py``) before it forks the next step's process. When
started as root with ``--user``, it first drops to that unprivileged uid, which is what makes
RLIMIT_NPROC bite (the kernel exempts root from it).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any

from emitflow.codesteps import faults
from emitflow.codesteps.limits import Limits
from emitflow.codesteps.protocol import decode, encode, frame, read_frame_fd, write_fd
from emitflow.codesteps.scratch import Scratch
from emitflow.codesteps.spare import MAX_REQUEST, Spare
from emitflow.codesteps.supervision import Outcome, finish, reap_all, supervise
from emitflow.codesteps.syscalls import load_filter

__all__ = ["main"]

_MAX_HEAD = 1 << 20
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True, slots=True, kw_only=True)
class _Context:
    workdir: str
    #: How RLIMIT_NPROC is counted: "absolute" (a uid or user namespace of our own),
    #: "relative" (a uid shared with other programs), "none" (root: the kernel ignores it).
    processes: str
    #: Whether kill(-1) reaches only the step's processes (own pid namespace or own uid).
    sweep: bool


_LIBC = ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> None:
    _LIBC.prctl(option, value, 0, 0, 0)


def _can_run_as(uid: int, workdir: str) -> bool:
    """Probe in a throwaway fork whether ``uid`` can still read Python and write the workdir."""
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            stdlib = os.path.dirname(os.__file__)
            ok = bool(os.listdir(stdlib)) and os.access(workdir, os.W_OK | os.X_OK)
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _become(uid: int | None, workdir: str, sandboxed: bool) -> tuple[_Context, bool]:
    dropped = False
    if uid is not None and os.getuid() == 0 and _can_run_as(uid, workdir):
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        dropped = True
    processes = "relative"
    if os.getuid() == 0:
        processes = "none"
    elif dropped or sandboxed:
        processes = "absolute"
    return _Context(workdir=workdir, processes=processes, sweep=dropped or sandboxed), dropped


def _count_processes(uid: int) -> int:
    count = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                count += os.stat(f"/proc/{name}").st_uid == uid
            except OSError:
                continue
    return count


def _problem(outcome: Outcome, step: str, timeout: float, limits: Limits) -> dict[str, Any] | None:
    if outcome.timed_out:
        return faults.timed_out(step, timeout).to_dict()
    if outcome.oversized:
        return faults.too_large(
            step,
            "sent a result of more than",
            limits.frame_bytes,
            limits.frame_bytes,
            "max_output_bytes and Limits.max_emit_bytes",
        ).to_dict()
    if outcome.result is not None:
        return None
    if outcome.exit_code == -signal.SIGXCPU:
        return faults.cpu_exceeded(step, limits.cpu_seconds).to_dict()
    return faults.crashed(step, outcome.exit_code or 0, limits.memory_bytes).to_dict()


def _serve(
    message: dict[str, Any], head: bytes, body: bytes, spare: Spare, context: _Context, out: int
) -> None:
    """Hand one request to the spare process, supervise it, answer; then clean up after it."""
    limits = Limits.from_wire(message["limits"])
    timeout = float(message["timeout"])
    step = str(message["step"])
    started = time.monotonic()
    try:
        spare.send(head, body)
        outcome = supervise(
            spare.pid,
            spare.output,
            spare.result,
            timeout=timeout,
            limits=limits,
            sweep=context.sweep,
        )
        result = None if outcome.timed_out else outcome.result
        meta = {
            "problem": _problem(outcome, step, timeout, limits),
            "logs": outcome.logs.text(),
            "logs_truncated": outcome.logs.truncated,
            "duration": time.monotonic() - started,
            "has_result": result is not None,
        }
        write_fd(out, encode(meta))
        if result is not None:
            write_fd(out, frame(result))
    finally:
        # After the answer, so the engine does not wait for it; before the next step, always.
        spare.close_pipes()
        finish(spare.pid, sweep=context.sweep)


def _with_asyncio(spare: Spare, context: _Context, scratch: Scratch) -> Spare:
    """Load asyncio for this step and those after it: a new spare process, forked with it.

    The worker starts without asyncio (a third of its memory, and of the kernel's work per
    fork); the first step whose code mentions ``async`` makes it load it, for good."""
    import asyncio  # noqa: F401

    gc.collect()
    gc.freeze()
    spare.close_pipes()
    finish(spare.pid, sweep=context.sweep)
    return _next(context, scratch)


def _next(context: _Context, scratch: Scratch) -> Spare:
    """Wipe what the last step left, and fork the process of the next one."""
    scratch.wipe()
    base = _count_processes(os.getuid()) if context.processes == "relative" else 0
    return Spare.fork(scratch.step_directory(), process_base=base)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emitflow.codesteps.worker")
    parser.add_argument("--workdir", required=True, help="where step directories are made")
    parser.add_argument("--user", type=int, default=None, help="uid to drop to when root")
    parser.add_argument("--sandboxed", action="store_true", help="in its own pid namespace")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve steps until stdin closes."""
    args = _arguments(argv)
    parent = os.getppid()
    # The protocol owns the original stdin/stdout; fd 0 becomes /dev/null and fd 1 the log.
    requests, out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    try:
        context, dropped = _become(args.user, args.workdir, args.sandboxed)
        # Not dumpable: a step running under the same uid cannot ptrace or read our memory.
        _prctl(_PR_SET_DUMPABLE, 0)
        _prctl(_PR_SET_CHILD_SUBREAPER, 1)
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            return 1
        # A worker killed before it could clean up may have left steps' processes under our
        # uid; with a uid or pid namespace of our own they are all ours to end.
        reap_all(sweep=context.sweep)
        # What is in the directory now (under bubblewrap: the parents of host paths bound
        # below /tmp) is kept; the rest is wiped after each step.
        scratch = Scratch(context.workdir)
        # Last, after everything the worker itself needs: steps inherit it and cannot undo it.
        unfiltered = load_filter()
    except OSError as exc:
        write_fd(out, encode({"error": f"the worker could not start: {exc}"}))
        return 1
    hello = {
        "pid": os.getpid(),
        "uid": os.getuid(),
        "dropped": dropped,
        "processes": context.processes,
        "sweep": context.sweep,
        "seccomp": unfiltered or "loaded",
    }
    write_fd(out, encode({"hello": hello}))
    # Everything imported so far is shared with every step by fork; frozen, the steps' garbage
    # collections do not walk (and so copy) those pages.
    gc.collect()
    gc.freeze()
    spare = _next(context, scratch)
    try:
        while (head := read_frame_fd(requests, _MAX_HEAD)) is not None:
            body = read_frame_fd(requests, MAX_REQUEST)
            if body is None:
                break
            message = decode(head)
            if message.get("asynchronous") and "asyncio" not in sys.modules:
                spare = _with_asyncio(spare, context, scratch)
            _serve(message, head, body, spare, context, out)
            spare = _next(context, scratch)
    finally:
        # No request came for the last one: it exits when its pipe closes.
        spare.close_pipes()
        finish(spare.pid, sweep=context.sweep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
