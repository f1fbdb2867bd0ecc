"""A Python file (or code) whose ``handler(pd)`` is a one-step workflow."""

from __future__ import annotations

import re
from pathlib import Path

from emitflow.dsl.loader import from_mapping
from emitflow.dsl.model import Workflow
from emitflow.errors import ConfigurationError

__all__ = ["python_workflow"]


def python_workflow(source: Path | str, name: str | None = None) -> Workflow:
    """The one-step workflow running ``source`` (a ``.py`` file, or the code itself).

    The step is named after the file (``greet.py`` → task ``greet``) or ``name`` (default
    ``step`` for code), its workflow ``default/<name>`` (lower-case, ``-`` for other
    characters), version ``0.1.0``; it lists no secrets.
    """
    origin: str | None = None
    if isinstance(source, Path):
        try:
            code = source.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"{source}: cannot be read ({exc.strerror})") from exc
        step = name or source.stem
        origin = str(source)
    else:
        code = source
        step = name or "step"
    workflow_name = re.sub(r"[^a-z0-9-]+", "-", step.lower()).strip("-") or "step"
    document = {
        "document": {
            "dsl": "1.0.3",
            "namespace": "default",
            "name": workflow_name,
            "version": "0.1.0",
        },
        "do": [{step: {"run": {"script": {"language": "python", "code": code}}}}],
    }
    return from_mapping(document, source=origin)
