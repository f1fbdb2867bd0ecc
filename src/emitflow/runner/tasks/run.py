"""``run``: a shell command, a script, another workflow, or a container.

- ``shell``: ``/bin/sh -c command``; ``arguments`` are the command's argv (appended as
  ``"$@"`` unless the command reads ``$1``/``$@``/``$*`` itself).
- ``script``: Python (this interpreter) or JavaScript (``node``, when installed); ``code``
  inline or ``source`` read from a file relative to the workflow's folder (or an http URL).
  Python code that defines ``handler(pd)`` is a code step, run by ``RunOptions.code_steps``.
- ``workflow``: see ``engine.subflows``.
- ``container``: ``docker``/``podman run --rm -i`` when one is installed.

``arguments``, ``environment`` and ``stdin`` may hold ``${ }``, evaluated on the task's input.
``return``: ``stdout`` (default), ``stderr``, ``code``, ``all`` (``{code, stdout, stderr}``) or
``none``; trailing newlines are trimmed from the texts. A non-zero exit faults (``runtime``)
unless ``return`` is ``code`` or ``all``, which hand the code back. With ``await: false`` the
process is started, the task outputs its transformed input at once, and the run waits for the
process before it finishes (a failure is logged, not raised).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from emitflow.dsl.model import RunTask, ScriptProcess, ShellProcess
from emitflow.errors import FaultError, Problem
from emitflow.runner.context import Frame
from emitflow.runner.evaluation import render
from emitflow.runner.processes import (
    ProcessResult,
    is_javascript,
    run_process,
    script_argv,
    shell_argv,
)
from emitflow.runner.subflows import run_subflow
from emitflow.runner.tasks.codestep import run_code_step
from emitflow.runner.tasks.container import run_container

__all__ = ["run_run"]

logger = logging.getLogger(__name__)

_READS_ARGS = re.compile(r"\$(?:[1-9@*#]|\{[1-9@*#])")
_HANDLER = re.compile(r"^\s*(?:async\s+)?def\s+handler\s*\(", re.MULTILINE)
_TAIL = 500
_PYTHON = ("python", "python3", "py")


async def run_run(task: RunTask, data: Any, frame: Frame) -> Any:
    """Start the process; wait for it unless ``await`` is false."""
    subflow = task.workflow
    if subflow is not None:
        work: Callable[[], Awaitable[Any]] = lambda: run_subflow(subflow, data, frame)  # noqa: E731
    elif task.script is not None and task.script.language.strip().lower() in _PYTHON:
        code = await _script_code(task.script, frame)
        if _HANDLER.search(code):
            return await run_code_step(task.script, code, data, frame)
        work = _process(task, data, frame, code)
    else:
        work = _process(task, data, frame, None)
    if task.await_:
        return await work()
    _detach(work, frame)
    return data


def _process(
    task: RunTask, data: Any, frame: Frame, code: str | None
) -> Callable[[], Awaitable[Any]]:
    async def run() -> Any:
        result = await _start(task, data, frame, code)
        return _returned(task, result, frame)

    return run


async def _start(task: RunTask, data: Any, frame: Frame, code: str | None) -> ProcessResult:
    if task.shell is not None:
        return await _shell(task.shell, data, frame)
    if task.script is not None:
        script = task.script
        source = code if code is not None else await _script_code(script, frame)
        arguments = _arguments(script.arguments, data, frame)
        if not is_javascript(script.language):
            argv = script_argv(script.language, source, arguments)
            return await run_process(argv, **_io(script, data, frame))
        # node finds a script's arguments at process.argv[2:] only when it runs a file.
        with tempfile.TemporaryDirectory(prefix="emitflow-script-") as folder:
            path = Path(folder, "script.js")
            await asyncio.to_thread(path.write_text, source, encoding="utf-8")
            argv = script_argv(script.language, source, arguments, file=str(path))
            return await run_process(argv, **_io(script, data, frame))
    if task.container is not None:
        return await run_container(task.container, data, frame)
    raise FaultError(
        Problem.of(
            "configuration",
            title="Invalid Run",
            detail="run needs one of container, script, shell or workflow",
            instance=frame.where,
        )
    )


async def _shell(shell: ShellProcess, data: Any, frame: Frame) -> ProcessResult:
    arguments = _arguments(shell.arguments, data, frame)
    command = render(shell.command, data, frame)
    if not isinstance(command, str):
        command = _text(command)
    if arguments and not _READS_ARGS.search(command):
        command = f'{command} "$@"'
    return await run_process(shell_argv(command, arguments), **_io(shell, data, frame))


def _io(process: ShellProcess | ScriptProcess, data: Any, frame: Frame) -> dict[str, Any]:
    environment = render(process.environment, data, frame) if process.environment else {}
    stdin = render(process.stdin, data, frame) if process.stdin is not None else None
    return {
        "stdin": None if stdin is None else _text(stdin),
        "env": {str(k): _text(v) for k, v in environment.items() if v is not None},
    }


def _arguments(value: Any, data: Any, frame: Frame) -> list[str]:
    if value is None:
        return []
    rendered = render(value, data, frame)
    if isinstance(rendered, Mapping):  # DSL 1.0.2 and earlier: a map of option -> value
        return [part for key, item in rendered.items() for part in _option(str(key), item)]
    if isinstance(rendered, list):
        return [_text(item) for item in rendered]
    return [_text(rendered)]


def _option(key: str, value: Any) -> tuple[str, ...]:
    """One entry of a map of arguments as argv: ``--key value``, a flag, or nothing.

    The key gets ``--`` unless it starts with ``-``; null and false leave the option out, true
    and ``""`` give the flag alone (what ``argparse``-style scripts, such as the catalog's
    functions, expect).
    """
    flag = key if key.startswith("-") else f"--{key}"
    if value is None or value is False:
        return ()
    if value is True or value == "":
        return (flag,)
    return (flag, _text(value))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


async def _script_code(script: ScriptProcess, frame: Frame) -> str:
    if script.code is not None:
        return script.code
    if script.source is None:
        raise FaultError(
            Problem.of(
                "configuration",
                title="Invalid Script",
                detail="a script needs 'code' or 'source'",
                instance=frame.where,
            )
        )
    uri = script.source.endpoint.uri
    try:
        if uri.startswith(("http://", "https://")):
            response = await frame.run.client().get(uri)
            response.raise_for_status()
            return response.text
        path = Path(uri.removeprefix("file://"))
        path = path if path.is_absolute() else frame.run.base_dir() / path
        return await asyncio.to_thread(path.read_text, encoding="utf-8")
    except Exception as exc:  # any failure to read the source is the same problem
        raise FaultError(
            Problem.of(
                "configuration",
                title="Script Source Not Available",
                detail=f"the script source {uri} could not be read: {exc}",
                instance=frame.where,
            )
        ) from exc


def _returned(task: RunTask, result: ProcessResult, frame: Frame) -> Any:
    if result.code != 0 and task.return_ not in ("code", "all"):
        tail = result.stderr.strip()[-_TAIL:] or result.stdout.strip()[-_TAIL:]
        raise FaultError(
            Problem.of(
                "runtime",
                title="Process Failed",
                detail=f"the process exited with code {result.code}"
                + (f": {tail}" if tail else ""),
                instance=frame.where,
            )
        )
    if task.return_ == "all":
        return {
            "code": result.code,
            "stdout": result.stdout.rstrip("\r\n"),
            "stderr": result.stderr.rstrip("\r\n"),
        }
    output = result.returned(task.return_)
    return output.rstrip("\r\n") if isinstance(output, str) else output


def _detach(work: Callable[[], Awaitable[Any]], frame: Frame) -> None:
    run = frame.run
    where = frame.where

    async def background() -> None:
        try:
            await work()
        except FaultError as exc:
            logger.warning(
                "a run task started with await: false failed: %s",
                run.redactor.text(exc.problem.message()),
                extra={**run.log_extra, "task": where},
            )

    job = asyncio.create_task(background(), name=f"{run.run_id}{where}")
    run.background.add(job)
    job.add_done_callback(run.background.discard)
