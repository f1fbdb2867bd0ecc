"""Helpers for the engine's unit tests: build a workflow from YAML and run it."""

from __future__ import annotations

import textwrap
from typing import Any

from emitflow.dsl import parse_workflow
from emitflow.dsl.model import Workflow
from emitflow.runner import RunOptions, RunResult, execute

HEADER = "document: {dsl: '1.0.3', namespace: test, name: unit, version: '1.0.0'}\n"


def workflow(text: str) -> Workflow:
    """A workflow from YAML; the ``document`` header is added when the text has none."""
    body = textwrap.dedent(text).strip("\n") + "\n"
    return parse_workflow(body if body.startswith("document:") else HEADER + body)


async def run(text: str, input: Any = None, **options: Any) -> RunResult:
    """Run the workflow of ``text`` with these ``RunOptions``."""
    return await execute(workflow(text), input=input, options=RunOptions(**options))


def names(result: RunResult) -> list[str]:
    """The names of the tasks that ran, in start order."""
    return [record.name for record in result.tasks]
