"""Evaluating expressions and ``${ }`` value templates for a task.

Each expression text is prepared once per process: its jq program, its Python fast path (see
``fastpath``) and the secrets it names. Value templates (``set``, ``with``, headers, emit
attributes …) are compiled once per model value into closures, so a loop body re-renders its
``set`` without walking the definition again. Constant parts are returned as they are in the
(immutable) model, not copied.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from emitflow.engine.context import Frame
from emitflow.engine.fastpath import Fast, Unsupported, compile_fast
from emitflow.expressions import Expression, compile_expression, expression_text, is_expression

__all__ = ["Prepared", "evaluate", "prepare", "render", "transform", "truthy"]

# $secrets.name, $secrets["name"], $secrets."name"
_SECRET = re.compile(r"\$secrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\.?\s*\[\s*\"([^\"]*)\"\s*\]"
                     r"|\.\s*\"([^\"]*)\")")  # fmt: skip

Renderer = Callable[[Any, Frame], Any]


@dataclass(frozen=True, slots=True)
class Prepared:
    """An expression ready to evaluate: jq, the fast path, and the secrets it reads."""

    expression: Expression
    fast: Fast | None
    secrets: tuple[str, ...]

    def __call__(self, data: Any, frame: Frame) -> Any:
        """The expression's value on ``data`` with the frame's variables."""
        if self.secrets:
            frame.run.check_secrets(self.secrets, frame.item.reference)
        fast = self.fast
        if fast is not None:
            try:
                return fast(data, frame)
            except Unsupported:
                pass
        return self.expression.evaluate(data, frame, where=frame.item.reference)


@lru_cache(maxsize=8192)
def prepare(text: str) -> Prepared:
    """Prepare an expression text (``${ … }`` or bare jq)."""
    expression = compile_expression(text)
    source = expression_text(text)
    names = tuple(dict.fromkeys(a or b or c for a, b, c in _SECRET.findall(source)))
    return Prepared(expression, compile_fast(source), names)


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

_RENDERERS: dict[int, tuple[Any, Renderer]] = {}
_MAX_RENDERERS = 4096


def render(value: Any, data: Any, frame: Frame) -> Any:
    """A value position: every ``${ }`` string evaluated, through maps and lists."""
    return renderer(value)(data, frame)


def renderer(value: Any) -> Renderer:
    """The compiled template of a model value (cached while the value lives)."""
    key = id(value)
    cached = _RENDERERS.get(key)
    if cached is not None and cached[0] is value:
        return cached[1]
    built = _compile(value) or _constant(value)
    if len(_RENDERERS) >= _MAX_RENDERERS:
        _RENDERERS.clear()
    # The value is kept with its renderer so its id cannot be reused while cached.
    _RENDERERS[key] = (value, built)
    return built


def _constant(value: Any) -> Renderer:
    return lambda data, frame: value


def _compile(value: Any) -> Renderer | None:
    """A renderer, or ``None`` when the value holds no expression (it renders as itself)."""
    if isinstance(value, str):
        return prepare(value) if is_expression(value) else None
    if isinstance(value, dict):
        parts = {k: _compile(v) for k, v in value.items()}
        if all(p is None for p in parts.values()):
            return None
        items = tuple((k, parts[k] or _constant(v)) for k, v in value.items())
        return lambda data, frame: {k: r(data, frame) for k, r in items}
    if isinstance(value, list):
        compiled = [_compile(v) for v in value]
        if all(c is None for c in compiled):
            return None
        renderers = tuple(c or _constant(v) for c, v in zip(compiled, value, strict=True))
        return lambda data, frame: [r(data, frame) for r in renderers]
    return None
