"""Watching one forked step: its output, its result, its exit, its deadline; then cleaning up.

Runs inside the worker. The step's stdout/stderr pipe is read all the time (kept up to the
log cap, counted beyond it) so the step never blocks on output; the result pipe is read into
a frame buffer; a pidfd says when the step's process has exited. When the deadline passes the
step's process group is killed. Afterwards every process the step left behind is killed and
reaped: with ``sweep`` (the worker has a pid namespace or a uid of its own) by ``kill(-1)``,
which reaches descendants that left the process group too; otherwise by process group only.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import selectors
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from emitflow.codesteps.capture import OutputCapture
from emitflow.codesteps.limits import Limits
from emitflow.codesteps.protocol import FrameBuffer

__all__ = ["Outcome", "finish", "reap_all", "supervise"]

_CHUNK = 1 << 20
# A bigger pipe means fewer wake-ups when a step prints a lot; the default is 64 KiB.
_PIPE_SIZE = 1 << 20
_DRAIN_READS = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """How a step's process ended."""

    #: None when the step answered and was still exiting.
    exit_code: int | None
    timed_out: bool
    logs: OutputCapture
    result: bytes | None
    oversized: bool


def _sweep() -> None:
    # kill(-1) signals every process we may signal except ourselves (and the namespace's init).
    with contextlib.suppress(OSError):
        os.kill(-1, signal.SIGKILL)


def _kill(pid: int, *, sweep: bool) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    if sweep:
        _sweep()


def reap_all(*, sweep: bool) -> None:
    """Kill (with ``sweep``) and reap every process left over from the last step."""
    while True:
        if sweep:
            # Kill again before each wait: a fork bomb may have made new processes meanwhile.
            _sweep()
        try:
            pid, _ = os.waitpid(-1, 0 if sweep else os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _pump(fd: int, feed: Callable[[bytes], None]) -> bool:
    chunk = os.read(fd, _CHUNK)
    if chunk:
        feed(chunk)
    return bool(chunk)


def _drain(fd: int, feed: Callable[[bytes], None]) -> None:
    """Read what is in the pipe now; bounded, as a stray process may still be writing."""
    os.set_blocking(fd, False)
    # A writer that escaped the clean-up may keep the pipe open; what was written is read.
    with contextlib.suppress(BlockingIOError):
        for _ in range(_DRAIN_READS):
            if not _pump(fd, feed):
                return


def _widen(fd: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)


def _wait(selector: selectors.BaseSelector, deadline: float, result: FrameBuffer) -> str:
    """Pump the pipes until the step answers, exits, or the deadline passes."""
    while (remaining := deadline - time.monotonic()) > 0:
        for key, _ in selector.select(remaining):
            if key.data is None:
                return "exited"
            if not _pump(key.fd, key.data):
                selector.unregister(key.fd)
            elif result.complete or result.oversized:
                return "answered"
    return "timeout"


def supervise(
    pid: int, out_r: int, res_r: int, *, timeout: float, limits: Limits, sweep: bool
) -> Outcome:
    """Follow the step process ``pid`` until it answers, exits or times out; closes the pipes.

    Once the step has written its result it has nothing left to do but exit, so the answer
    goes back without waiting for that exit (tearing down a process takes milliseconds);
    ``finish`` ends it afterwards. The step flushes its output before writing the result, so
    the logs are complete by then.
    """
    logs = OutputCapture(limits.max_log_bytes)
    result = FrameBuffer(limits.frame_bytes)
    _widen(out_r)
    pidfd = os.pidfd_open(pid)
    selector = selectors.DefaultSelector()
    exit_code = None
    try:
        selector.register(pidfd, selectors.EVENT_READ, None)
        selector.register(out_r, selectors.EVENT_READ, logs.feed)
        selector.register(res_r, selectors.EVENT_READ, result.feed)
        state = _wait(selector, time.monotonic() + timeout, result)
        if state != "answered":
            if state == "timeout":
                _kill(pid, sweep=sweep)
            _, status = os.waitpid(pid, 0)
            exit_code = os.waitstatus_to_exitcode(status)
            _kill(pid, sweep=sweep)
            _drain(res_r, result.feed)
        _drain(out_r, logs.feed)
    finally:
        selector.close()
        for fd in (pidfd, out_r, res_r):
            os.close(fd)
    return Outcome(
        exit_code=exit_code,
        timed_out=state == "timeout",
        logs=logs,
        result=result.body(),
        oversized=result.oversized,
    )


def finish(pid: int, *, sweep: bool) -> None:
    """After the answer: end the step's process (exiting anyway) and all it left behind."""
    _kill(pid, sweep=sweep)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
    reap_all(sweep=sweep)
