"""``run: workflow``: find a workflow by namespace, name and version, and run it as a child.

The child is looked up in ``RunOptions.workflows_dir`` (default: the parent file's folder) among
the ``*.yaml``, ``*.yml`` and ``*.json`` documents there (scanned once per run; files that are not
valid workflows are skipped). ``version: latest`` picks the highest semantic version. The child
gets ``input`` (evaluated on the task's input; default: the task's input), a fresh ``$context``,
and the parent's secrets, clock, clients and sinks; its output is the task's output. A child
fault faults the task with the child's type, status and title, and a detail saying where in the
child it happened. Runs nest at most ``MAX_DEPTH`` deep.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from emitflow.dsl.model import SubflowProcess, Workflow
from emitflow.errors import DocumentError, FaultError, Problem
from emitflow.runner.context import Frame
from emitflow.runner.evaluation import render

__all__ = ["MAX_DEPTH", "find_subflow", "run_subflow"]

MAX_DEPTH = 32
_SUFFIXES = (".yaml", ".yml", ".json")
_DEPTH: ContextVar[int] = ContextVar("emitflow_subflow_depth", default=0)
_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


async def run_subflow(process: SubflowProcess, data: Any, frame: Frame) -> Any:
    """Run the child to its end; its output, or its fault (located at this task)."""
    from emitflow.runner.execution import execute

    run = frame.run
    depth = _DEPTH.get()
    if depth >= MAX_DEPTH:
        raise _configuration(
            frame, f"subflows nest more than {MAX_DEPTH} deep; is one calling itself?"
        )
    child = await find_subflow(process, frame)
    child_input = data if process.input is None else render(process.input, data, frame)
    # No cancel event: the parent's cancellation reaches the child as the cancellation of
    # this task, so the child cannot end 'cancelled' while the parent takes it for a success.
    # The child is not journaled on its own: this task is, once the child has ended.
    options = dataclasses.replace(
        run.options,
        context=None,
        run_id=None,
        workflows_dir=run.base_dir(),
        cancel=None,
        trigger=None,
        journal=None,
        resume=(),
    )
    token = _DEPTH.set(depth + 1)
    try:
        result = await execute(child, input=child_input, options=options)
    finally:
        _DEPTH.reset(token)
    run.emitted.extend(result.emitted)
    if result.error is not None:
        inner = result.error
        raise FaultError(
            Problem(
                type=inner.type,
                status=inner.status,
                title=inner.title,
                detail=f"in subflow {child.qualified_name} at {inner.instance or '/'}: "
                f"{inner.detail or inner.title or 'it faulted'}",
                instance=frame.where,
            )
        )
    return result.output


async def find_subflow(process: SubflowProcess, frame: Frame) -> Workflow:
    """The workflow ``process`` names (``version: latest``: the highest version)."""
    run = frame.run
    folder = run.base_dir()
    if run.subflows is None:
        run.subflows = {}
    if folder not in run.subflows:
        run.subflows[folder] = await asyncio.to_thread(_scan, folder)
    candidates = [
        w
        for w in run.subflows[folder]
        if w.document.namespace == process.namespace and w.document.name == process.name
    ]
    if process.version != "latest":
        candidates = [w for w in candidates if w.document.version == process.version]
    if not candidates:
        raise _configuration(
            frame,
            f"no workflow {process.namespace}/{process.name} version {process.version} in "
            f"{folder} (looked at its *.yaml, *.yml and *.json files)",
        )
    return max(candidates, key=lambda w: _version_key(w.document.version))


def _scan(folder: Path) -> list[Workflow]:
    from emitflow.dsl import load_workflow

    found = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else ():
        if path.suffix.lower() in _SUFFIXES and path.is_file():
            try:
                found.append(load_workflow(path))
            except DocumentError:
                continue  # not a workflow (or not a valid one): not a candidate
    return found


def _version_key(version: str) -> tuple[int, int, int, int, tuple[Any, ...]]:
    """Semantic-version order: a pre-release sorts before its release."""
    match = _SEMVER.match(version)
    if match is None:
        return (-1, -1, -1, 0, ())
    major, minor, patch, pre = match.groups()
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in (pre or "").split("."))
    return (int(major), int(minor), int(patch), 0 if pre else 1, parts if pre else ())


def _configuration(frame: Frame, detail: str) -> FaultError:
    return FaultError(
        Problem.of("configuration", title="Subflow Not Found", detail=detail, instance=frame.where)
    )
