"""A step's process, forked and made ready before its request arrives.

Forking a ~16 MB interpreter, and the copy-on-write faults its first run of the step runtime
takes, cost a few milliseconds on a small VM. The worker pays them between steps instead of
within one: once a step has ended (and everything it started is gone) it forks the next
step's process, which isolates itself, changes into its own fresh directory and runs the
step runtime once on a built-in handler (the pages a step touches are then its own), then
waits on a pipe of its own for the one request it will ever serve. It sets the request's
limits, runs the step, writes the result and exits; a process never serves a second step.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import linecache
import os
import signal
import sys
import tempfile
import traceback
from dataclasses import dataclass
from typing import Any, NoReturn

from emitflow.codesteps.limits import Limits, apply_step_limits
from emitflow.codesteps.protocol import decode, frame, read_frame_fd, write_fd
from emitflow.codesteps.runner import run_step, step_filename

__all__ = ["MAX_REQUEST", "Spare"]

#: The largest request body a step may be sent.
MAX_REQUEST = 1 << 30
_MAX_HEAD = 1 << 20
_PR_SET_PDEATHSIG = 1
# Bigger pipes mean fewer wake-ups when a step prints a lot, or is sent a large request.
_PIPE_SIZE = 1 << 20
_LIBC = ctypes.CDLL(None, use_errno=True)
_WARM_UP = {
    "step": "warm-up",
    "code": "def handler(pd):\n    pd.export('n', [1])\n    return {'ok': True}\n",
    "steps": {"trigger": {"event": {}, "context": {}}},
    "secrets": {},
    "limits": Limits().to_wire(),
}


def _prctl(option: int, value: int) -> None:
    _LIBC.prctl(option, value, 0, 0, 0)


def _widen(fd: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)


@dataclass(slots=True, kw_only=True)
class Spare:
    """The worker's end of a forked step process that waits for its request."""

    pid: int
    #: The step's own directory (its cwd, HOME and TMPDIR).
    directory: str
    #: Where the request is written (closed once it is).
    request: int
    #: What the step prints (stdout and stderr).
    output: int
    #: The step's result frame.
    result: int

    @classmethod
    def fork(cls, directory: str, *, process_base: int) -> Spare:
        """Fork the process of the next step, to run in ``directory``.

        ``process_base`` is how many processes the step's user already runs when that user
        is shared with other programs (see ``limits.apply_step_limits``)."""
        request_r, request_w = os.pipe()
        out_r, out_w = os.pipe()
        res_r, res_w = os.pipe()
        for fd in (request_w, out_r):
            _widen(fd)
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            for fd in (request_w, out_r, res_r):
                os.close(fd)
            _step_process(request_r, out_w, res_w, directory, process_base, parent)
        for fd in (request_r, out_w, res_w):
            os.close(fd)
        with contextlib.suppress(OSError):  # the child may have set it already
            os.setpgid(pid, pid)
        return cls(pid=pid, directory=directory, request=request_w, output=out_r, result=res_r)

    def send(self, head: bytes, body: bytes) -> None:
        """Hand the process its request (two frames) and close the pipe.

        A process that is already gone is left to the supervision to report: its exit."""
        try:
            with contextlib.suppress(BrokenPipeError):
                write_fd(self.request, frame(head) + frame(body))
        finally:
            os.close(self.request)
            self.request = -1

    def close_pipes(self) -> None:
        """Close the worker's ends that are still open (the process is left to the caller)."""
        for fd in (self.request, self.output, self.result):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.request = self.output = self.result = -1


def _keep_only(*fds: int) -> None:
    """Close every descriptor from 3 up but ``fds``: never the engine's pipes."""
    low = 3
    for fd in sorted(fds):
        if fd > low:
            os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, os.sysconf("SC_OPEN_MAX"))


def _isolate(request: int, out_w: int, res_w: int, directory: str, parent: int) -> None:
    os.setpgid(0, 0)
    # If the worker dies (killed, replaced), the step dies with it.
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(70)  # the worker is already gone
    os.dup2(out_w, 1)
    os.dup2(out_w, 2)
    _keep_only(request, res_w)
    os.chdir(directory)
    os.environ.update(HOME=directory, TMPDIR=directory, PWD=directory)
    tempfile.tempdir = None
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)


def _warm_up() -> None:
    """Run the step runtime once on a built-in handler, before the step's request arrives."""
    run_step(_WARM_UP)
    decode(b'{"step":"warm-up","limits":{},"steps":{"a":[1,2.5,"x",null,true]}}')
    linecache.cache.pop(step_filename(str(_WARM_UP["step"])), None)


def _request(fd: int) -> dict[str, Any] | None:
    """The request's two frames as one message; None if the worker closed the pipe first."""
    head = read_frame_fd(fd, _MAX_HEAD)
    body = read_frame_fd(fd, MAX_REQUEST) if head is not None else None
    os.close(fd)
    if head is None or body is None:
        return None
    message: dict[str, Any] = decode(body)
    message.update(decode(head))
    return message


def _step_process(
    request: int, out_w: int, res_w: int, directory: str, base: int, parent: int
) -> NoReturn:
    """The forked process: isolate, warm up, wait for the request, limit, run, answer, exit."""
    status = 70
    try:
        _isolate(request, out_w, res_w, directory, parent)
        _warm_up()
        message = _request(request)
        if message is None:
            os._exit(0)  # the worker is stopping: no step came
        os.environ.update(message.get("environment") or {})
        apply_step_limits(Limits.from_wire(message["limits"]), process_base=base)
        me = os.getpid()
        result = run_step(message)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        # A process the user's code forked may also get here; only the step itself answers.
        if os.getpid() == me:
            write_fd(res_w, frame(result))
            status = 0
    except BaseException:
        try:
            traceback.print_exc()
        finally:
            status = 70
    finally:
        os._exit(status)
