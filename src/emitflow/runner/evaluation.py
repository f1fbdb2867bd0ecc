"""Evaluating expressions and ``${ }`` value templates for a task: the runner's glue.

Each expression text is prepared once per process: its compiled expression (jq, tried first
on the Python fast path: ``emitflow.expressions``) and the secrets it names, which the run
checks before evaluating it; a failure is placed at the task. Value templates (``set``,
``with``, headers, emit attributes …) are compiled by ``emitflow.expressions.templates``, once
per model value, with these prepared expressions as their strings, and rendered with the task's
``Frame`` as the variables.

**Evaluation modes** (``evaluate.mode``, DSL §5; the rules are in ``expressions.templates``).
The mode only changes *value positions* (everything ``render`` walks, and an endpoint's URI);
expression fields (``if``, ``for.in``, ``switch.when``, ``output.as`` as a string, an
extension's ``when`` …) are jq in both modes. Each mode has its own compiled templates
(``Run.renderer`` is picked once per run from ``Workflow.evaluate_mode``), so strict runs never
pay for loose mode.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from emitflow.expressions import Expression, compile_expression, expression_text, is_expression
from emitflow.expressions.templates import Render, Templates, lenient, loose_expression
from emitflow.runner.context import Frame

__all__ = [
    "RENDERERS",
    "Prepared",
    "Renderer",
    "evaluate",
    "loose_renderer",
    "prepare",
    "render",
    "renderer",
    "transform",
    "truthy",
]

# $secrets.name, $secrets["name"], $secrets."name"
_SECRET = re.compile(r"\$secrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\.?\s*\[\s*\"([^\"]*)\"\s*\]"
                     r"|\.\s*\"([^\"]*)\")")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Prepared:
    """An expression ready to evaluate, and the secrets it reads."""

    expression: Expression
    secrets: tuple[str, ...]

    def __call__(self, data: Any, frame: Frame) -> Any:
        """The expression's value on ``data`` with the frame's variables."""
        if self.secrets:
            frame.run.check_secrets(self.secrets, frame.item.reference)
        return self.expression.evaluate(data, frame, where=frame.item.reference)


@lru_cache(maxsize=8192)
def prepare(text: str) -> Prepared:
    """Prepare an expression text (``${ … }`` or bare jq)."""
    expression = compile_expression(text)
    source = expression_text(text)
    names = tuple(dict.fromkeys(a or b or c for a, b, c in _SECRET.findall(source)))
    return Prepared(expression, names)


def evaluate(text: str, data: Any, frame: Frame) -> Any:
    """Evaluate an expression field (``if``, ``for.in``, ``when``…) on ``data``."""
    return prepare(text)(data, frame)


def truthy(value: Any) -> bool:
    """jq truth: everything but ``false`` and ``null``."""
    return value is not None and value is not False


def transform(spec: Any, data: Any, frame: Frame) -> Any:
    """``input.from`` / ``output.as`` / ``export.as``: a jq string, or an object of ``${ }``."""
    if isinstance(spec, str):
        return prepare(spec)(data, frame)
    return render(spec, data, frame)


# --- value templates -------------------------------------------------------------------------

#: A compiled value template of the runner: ``(data, frame) -> value``.
Renderer = Render[Frame]


def render(value: Any, data: Any, frame: Frame) -> Any:
    """A value position: its expressions (as the run's mode reads them) evaluated, at any depth."""
    return frame.run.renderer(value)(data, frame)


def _strict_string(text: str) -> Renderer | None:
    return prepare(text) if is_expression(text) else None


def _loose_string(text: str) -> Renderer | None:
    if is_expression(text):
        return prepare(text)
    if loose_expression(text) is None:
        return None
    return lenient(prepare(text), text)


_STRICT: Templates[Frame] = Templates(_strict_string)
_LOOSE: Templates[Frame] = Templates(_loose_string)
#: The compiled strict template of a model value (cached while the value lives).
renderer: Callable[[Any], Renderer] = _STRICT.template
#: The compiled loose template of a model value (cached while the value lives).
loose_renderer: Callable[[Any], Renderer] = _LOOSE.template
#: The template compiler of each evaluation mode.
RENDERERS: dict[str, Callable[[Any], Renderer]] = {"strict": renderer, "loose": loose_renderer}
