"""A Python file (or code) whose ``handler(pd)`` is a one-step workflow.

The code is checked before it becomes a workflow: it must compile and define ``handler``
taking one argument (``def`` or ``async def``; bound by ``import`` or assignment is taken on
trust). Otherwise ``DocumentError`` names ``file:line:col`` and the fix, so ``validate``,
``run`` and ``deploy`` refuse it instead of running it as a plain script that prints nothing.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from emitflow.dsl.loader import from_mapping
from emitflow.dsl.model import Workflow
from emitflow.errors import ConfigurationError, DocumentError, Location

__all__ = ["check_handler", "python_workflow"]

_EXAMPLE = "def handler(pd):\n    return {'ok': True}"


def check_handler(code: str, origin: str | None = None) -> None:
    """Refuse code that does not compile or defines no ``handler`` taking one argument."""
    file = origin or "<code>"
    try:
        tree = ast.parse(code, filename=file)
    except SyntaxError as exc:
        where = Location(file=file, line=exc.lineno or 1, column=exc.offset or 1)
        raise DocumentError([(where, f"the Python code does not compile: {exc.msg}")]) from None
    found = _handler(tree)
    if found is None:
        raise DocumentError(
            [
                (
                    Location(file=file, line=1, column=1),
                    "defines no handler: a code step is a function `handler(pd)` at the top "
                    f"level, e.g. {_EXAMPLE!r}",
                )
            ]
        )
    if isinstance(found, ast.FunctionDef | ast.AsyncFunctionDef) and not _takes_one(found.args):
        where = Location(file=file, line=found.lineno, column=found.col_offset + 1)
        raise DocumentError(
            [(where, "handler must take exactly one argument, pd: write `def handler(pd):`")]
        )


def _handler(tree: ast.Module) -> ast.stmt | None:
    found: ast.stmt | None = None
    for node in tree.body:
        if (
            (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "handler")
            or (isinstance(node, ast.Assign | ast.AnnAssign) and _binds(node))
            or (
                isinstance(node, ast.Import | ast.ImportFrom)
                and any((alias.asname or alias.name) == "handler" for alias in node.names)
            )
        ):
            found = node
    return found


def _binds(node: ast.Assign | ast.AnnAssign) -> bool:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return any(isinstance(t, ast.Name) and t.id == "handler" for t in targets)


def _takes_one(args: ast.arguments) -> bool:
    positional = [*args.posonlyargs, *args.args]
    required = len(positional) - len(args.defaults)
    if required > 1 or any(d is None for d in args.kw_defaults):
        return False  # more than pd is required, or a keyword-only argument without default
    return bool(positional) or args.vararg is not None


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
    check_handler(code, origin)
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
