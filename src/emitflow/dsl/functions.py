"""Custom functions from URLs and catalogs: where a call's ``function.yaml`` is, and its model.

``call: https://…/function.yaml`` names the document itself. ``call: name:version@catalog``
names a function in a catalog of ``use.catalogs`` (``@default``, or no ``@``: the default
catalog, the Serverless Workflow project's), laid out as the spec's catalogs are:
``<root>/functions/<name>/<version>/function.yaml``. A catalog on GitHub
(``https://github.com/<owner>/<repo>[/tree/<branch>]``) is read from its raw content
(``https://raw.githubusercontent.com/<owner>/<repo>/refs/heads/<branch>/…``, branch ``main`` by
default), as the spec asks of runtimes.

A function document is one task definition (usually ``input.schema``, ``run`` and
``output.schema``); published functions are written for DSL 1.0.0, so it is read by 1.0.0's
rules (``run.*.arguments`` may be a map).
"""

from __future__ import annotations

from typing import Any

from emitflow.dsl.context import Context, in_order
from emitflow.dsl.model import Task
from emitflow.dsl.tasks import build_task
from emitflow.dsl.yaml import read_text
from emitflow.errors import DocumentError, Location

__all__ = ["parse_function"]


def parse_function(text: str, *, source: str, name: str) -> Task:
    """The task a function document defines; ``DocumentError`` listing its problems."""
    loaded = read_text(text.removeprefix("\ufeff"), source=source, format=None)
    ctx = Context(source, loaded.positions)
    ctx.arguments_map = True  # catalog functions are written for DSL 1.0.0
    data: Any = loaded.data
    task = build_task(ctx, data, "", name=name)
    if ctx.problems or task is None:
        problems = in_order(ctx.problems) or [(Location(source), "the function defines no task")]
        raise DocumentError(problems)
    return task
