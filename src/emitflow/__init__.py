"""emitflow: event-driven workflows, Serverless Workflow DSL 1.0 and Python code steps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from emitflow.runtime import Engine

__all__ = ["Engine", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy, so that light users of the package (the code-step worker above all) do not pay for
    # importing the whole runtime.
    if name == "Engine":
        from emitflow.runtime import Engine

        return Engine
    raise AttributeError(f"module 'emitflow' has no attribute {name!r}")
