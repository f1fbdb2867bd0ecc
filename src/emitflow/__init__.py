"""emitflow: event-driven workflows, Serverless Workflow DSL 1.0 and Python code steps."""

from __future__ import annotations

import typing

__version__ = "0.1.0"

if typing.TYPE_CHECKING:
    from emitflow.runtime import Engine

__all__ = ["Engine", "__version__"]


def __getattr__(name: str) -> typing.Any:
    # Lazy, so that light users of the package (the code-step worker above all) do not pay for
    # importing the whole runtime.
    if name == "Engine":
        from emitflow.runtime import Engine

        return Engine
    raise AttributeError(f"module 'emitflow' has no attribute {name!r}")
