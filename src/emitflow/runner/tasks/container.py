"""``run: container`` through the ``docker`` (or ``podman``) command, when one is installed.

The container runs attached (``run -i``) with the evaluated ``name``, ``environment``
(``-e``), ``ports`` (``-p host:container``), ``volumes`` (``-v host:container``), ``pullPolicy``
(``--pull missing|always|never``), then the image, ``command`` (split like a shell would) and
``arguments``; ``lifetime.cleanup: always`` removes it afterwards (``--rm``). Without a runtime,
or when the runtime itself fails (exit code 125: no daemon, no such image…), the task faults
with a ``configuration`` problem saying what is missing.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
from collections.abc import Mapping
from typing import Any

from emitflow.errors import FaultError, Problem
from emitflow.runner.context import Frame
from emitflow.runner.evaluation import render
from emitflow.runner.processes import ProcessResult, run_process

__all__ = ["run_container"]

_RUNTIMES = ("docker", "podman")
_PULL = {"ifNotPresent": "missing", "always": "always", "never": "never"}
# The runtime's own failure (it never started the container), for docker and podman alike.
_RUNTIME_FAILED = 125
_PASSED_ENV = (
    "DOCKER_HOST",
    "DOCKER_CONFIG",
    "DOCKER_CONTEXT",
    "CONTAINER_HOST",
    "XDG_RUNTIME_DIR",
)


async def run_container(spec: Mapping[str, Any], data: Any, frame: Frame) -> ProcessResult:
    """Run the container to its end and return how it ended."""
    runtime = next((path for name in _RUNTIMES if (path := shutil.which(name))), None)
    if runtime is None:
        raise _unavailable(
            frame,
            "run: container needs a container runtime (docker or podman) on PATH, and none is "
            "installed here",
        )
    rendered = render(spec, data, frame)
    if not isinstance(rendered, Mapping):
        raise _unavailable(frame, "run.container must be an object with at least an 'image'")
    stdin = rendered.get("stdin")
    env = {name: os.environ[name] for name in _PASSED_ENV if name in os.environ}
    result = await run_process(
        _argv(runtime, rendered),
        stdin=None if stdin is None else _text(stdin),
        env=env,
    )
    if result.code == _RUNTIME_FAILED:
        why = (result.stderr.strip().splitlines() or ["no message"])[0]
        raise _unavailable(frame, f"{os.path.basename(runtime)} could not run the container: {why}")
    return result


def _argv(runtime: str, spec: Mapping[str, Any]) -> list[str]:
    argv = [runtime, "run", "-i"]
    lifetime = spec.get("lifetime") or {}
    if isinstance(lifetime, Mapping) and lifetime.get("cleanup") == "always":
        argv.append("--rm")
    if spec.get("name"):
        argv += ["--name", _text(spec["name"])]
    if spec.get("pullPolicy") in _PULL:
        argv.append(f"--pull={_PULL[spec['pullPolicy']]}")
    for flag, key in (("-e", "environment"), ("-p", "ports"), ("-v", "volumes")):
        values = spec.get(key) or {}
        separator = "=" if key == "environment" else ":"
        for left, right in values.items() if isinstance(values, Mapping) else ():
            argv += [flag, f"{left}{separator}{_text(right)}"]
    argv.append(_text(spec["image"]))
    if spec.get("command"):
        argv += shlex.split(_text(spec["command"]))
    argv += [_text(a) for a in spec.get("arguments") or ()]
    return argv


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _unavailable(frame: Frame, detail: str) -> FaultError:
    return FaultError(
        Problem.of(
            "configuration",
            title="Container Runtime Not Available",
            detail=detail,
            instance=frame.where,
        )
    )
