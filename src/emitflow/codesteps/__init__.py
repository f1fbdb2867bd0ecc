"""Python code steps, run outside the engine in sandboxed workers.

Code steps (code defining ``handler(pd)``, plain or ``async def``)::

    async with CodeStepPool(PoolSettings(size=4)) as pool:
        result = await pool.run(StepRequest(step="greet", code=source, steps=steps))
    result.output, result.emits, result.exports, result.exited, result.respond, result.logs

A step that raises, hits a limit, crashes or hangs raises ``StepFaultError`` (a
``FaultError``: RFC 7807 ``problem`` of kind ``runtime`` or ``timeout``, plus ``result`` with
what the step did before, its emits and logs). ``SandboxError`` means the sandbox itself could
not run it. ``pool.protections`` says which protections hold on this machine.

Commands for ``run: shell`` and ``run: script`` without a handler are not code steps: the
runner runs them (``emitflow.runner.processes``), with this package's limits and capture.
"""

import importlib
import typing

if typing.TYPE_CHECKING:
    from emitflow.codesteps.limits import Limits
    from emitflow.codesteps.pool import CodeStepPool, PoolSettings
    from emitflow.codesteps.sandbox import Protections
    from emitflow.codesteps.step import StepFaultError, StepRequest, StepResult

__all__ = [
    "CodeStepPool",
    "Limits",
    "PoolSettings",
    "Protections",
    "StepFaultError",
    "StepRequest",
    "StepResult",
]

# Lazy, like the top-level package: the worker imports this package's step-side modules, and
# every module it holds is copied into each step's forked process (the pool's asyncio, ssl and
# logging, about a third of its memory and of the kernel's work per fork).
_HOMES = {
    "CodeStepPool": "pool",
    "Limits": "limits",
    "PoolSettings": "pool",
    "Protections": "sandbox",
    "StepFaultError": "step",
    "StepRequest": "step",
    "StepResult": "step",
}


def __getattr__(name: str) -> typing.Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'emitflow.codesteps' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"emitflow.codesteps.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
