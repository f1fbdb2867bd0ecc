"""Running commands for ``run: shell`` and ``run: script`` (no handler): argv, limits, capture.

``run_process`` starts the command in a process group of its own with a scrubbed environment
(plus the task's ``environment``), the given stdin, rlimits, and a private working directory
unless one is given; it reads stdout and stderr concurrently (each kept up to
``Limits.max_log_bytes``, the rest counted and marked), never blocking the event loop. On
timeout the whole group is killed and ``FaultError(timeout)`` raised. When the command ends,
whatever it left running in its group is killed too.

These commands run on the host (no bubblewrap): a shell task exists to reach the host's
tools and files. They get the engine's uid; RLIMIT_NPROC is not applied (it counts all the
uid's processes, and root is exempt), so the timeout bounds a runaway command.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emitflow.codesteps.capture import OutputCapture
from emitflow.codesteps.limits import Limits, apply_process_limits
from emitflow.codesteps.sandbox import scrubbed_environment
from emitflow.errors import FaultError, Problem

__all__ = [
    "RETURN_MODES",
    "ProcessResult",
    "is_javascript",
    "run_process",
    "script_argv",
    "shell_argv",
]

#: The values of the DSL's ``run.return``.
RETURN_MODES = ("stdout", "stderr", "code", "all", "none")
_PYTHON = ("python", "python3", "py")
_JAVASCRIPT = ("js", "javascript", "node", "nodejs")
# Once the command has exited, how long its pipes may stay open (held by a process that left
# its group) before reading stops.
_LINGER = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessResult:
    """How a command ended and what it printed."""

    code: int
    stdout: str
    stderr: str
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    duration: float = 0.0

    def returned(self, mode: str = "stdout") -> Any:
        """The task's output for ``run.return``: stdout, stderr, code, all or none."""
        if mode == "stdout":
            return self.stdout
        if mode == "stderr":
            return self.stderr
        if mode == "code":
            return self.code
        if mode == "all":
            return {"code": self.code, "stdout": self.stdout, "stderr": self.stderr}
        if mode == "none":
            return None
        raise FaultError(
            Problem.of(
                "configuration",
                title="Unknown run.return",
                detail=f"run.return {mode!r} is not one of {', '.join(RETURN_MODES)}",
            )
        )


def shell_argv(command: str, arguments: Sequence[str] = ()) -> list[str]:
    """``run: shell``: ``/bin/sh -c command``, the arguments as ``$1``, ``$2``…"""
    return ["/bin/sh", "-c", command, "sh", *arguments]


def is_javascript(language: str) -> bool:
    """Whether ``run.script.language`` names JavaScript (run by ``node``)."""
    return language.strip().lower() in _JAVASCRIPT


def script_argv(
    language: str,
    code: str,
    arguments: Sequence[str] = (),
    *,
    python: str = sys.executable,
    file: str | None = None,
) -> list[str]:
    """``run: script``: the interpreter for ``language`` with the code inline.

    The arguments are where a script run from a file finds them, as the DSL's examples expect:
    Python's ``sys.argv[1:]`` (``sys.argv[0]`` is ``-c``), and JavaScript's
    ``process.argv.slice(2)``, ``process.argv[1]`` being ``file``, the code written out (with
    ``node -e`` there is no script path and the arguments would start at ``argv[1]``).
    """
    name = language.strip().lower()
    if name in _PYTHON:
        return [python, "-c", code, *arguments]
    if name in _JAVASCRIPT:
        node = shutil.which("node")
        if node is None:
            raise FaultError(
                Problem.of(
                    "configuration",
                    title="Node.js is not installed",
                    detail=f"run.script.language {language!r} needs the `node` program on "
                    "PATH, and it is not installed here; install Node.js or write the script "
                    "in Python",
                )
            )
        if file is not None:
            return [node, file, *arguments]
        return [node, "-e", code, "--", "[eval]", *arguments]
    raise FaultError(
        Problem.of(
            "configuration",
            title="Unsupported script language",
            detail=f"run.script.language {language!r} is not supported; use python or js",
        )
    )


async def _pump(stream: asyncio.StreamReader | None, capture: OutputCapture) -> None:
    if stream is None:
        return
    while chunk := await stream.read(1 << 16):
        capture.feed(chunk)


async def _feed(stream: asyncio.StreamWriter | None, data: str | None) -> None:
    if stream is None:
        return
    # A command that exits without reading its stdin is not an error.
    with contextlib.suppress(ConnectionError):
        if data:
            stream.write(data.encode("utf-8"))
            await stream.drain()
        stream.close()


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def _start(
    argv: Sequence[str], stdin: str | None, env: dict[str, str], cwd: Path, limits: Limits
) -> asyncio.subprocess.Process:
    try:
        return await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=functools.partial(apply_process_limits, limits),
        )
    except OSError as exc:
        raise FaultError(
            Problem.of(
                "runtime",
                title="Process could not start",
                detail=f"{argv[0]}: {exc.strerror or exc}",
            )
        ) from exc


async def run_process(
    argv: Sequence[str],
    *,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    # A caller's asyncio.timeout could only cancel; this one kills the group and faults.
    timeout: float | None = None,  # noqa: ASYNC109
    limits: Limits | None = None,
) -> ProcessResult:
    """Run ``argv`` to its end; ``FaultError`` (timeout) if it outlives ``timeout`` seconds."""
    limits = limits or Limits()
    workdir = cwd if cwd is not None else Path(tempfile.mkdtemp(prefix="emitflow-run-"))
    environment = scrubbed_environment({"HOME": str(workdir), **(env or {})})
    out, err = OutputCapture(limits.max_log_bytes), OutputCapture(limits.max_log_bytes)
    started = time.monotonic()
    try:
        process = await _start(argv, stdin, environment, workdir, limits)
        io = [
            asyncio.create_task(_pump(process.stdout, out)),
            asyncio.create_task(_pump(process.stderr, err)),
            asyncio.create_task(_feed(process.stdin, stdin)),
        ]
        try:
            async with asyncio.timeout(timeout):
                code = await process.wait()
        except TimeoutError:
            raise FaultError(
                Problem.of(
                    "timeout",
                    title="Process timed out",
                    detail=f"{os.path.basename(argv[0])} did not finish within {timeout:g} s; "
                    "it and the processes it started were killed",
                )
            ) from None
        finally:
            _kill_group(process.pid)
            await process.wait()
            _, pending = await asyncio.wait(io, timeout=_LINGER)
            for task in pending:
                task.cancel()
    finally:
        if cwd is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return ProcessResult(
        code=code,
        stdout=out.text(),
        stderr=err.text(),
        stdout_truncated=out.truncated,
        stderr_truncated=err.truncated,
        duration=time.monotonic() - started,
    )
