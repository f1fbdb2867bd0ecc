"""Evaluating expressions and ``${ }`` value templates for a task.

Each expression text is prepared once per process: its compiled expression (jq, tried first
on the Python fast path: ``emitflow.expressions``) and the secrets it names. Value templates
(``set``, ``with``, headers, emit attributes …) are compiled once per model value into
closures, so a loop body re-renders its ``set`` without walking the definition again. Constant
parts are returned as they are in the (immutable) model, not copied.

**Evaluation modes** (``evaluate.mode``, DSL §5). The mode only changes *value positions*
(everything ``render`` walks, and an endpoint's URI); expression fields (``if``, ``for.in``,
``switch.when``, ``output.as`` as a string, an extension's ``when`` …) are jq in both modes.
Each mode has its own compiled templates (``Run.renderer`` is picked once per run from
``Workflow.evaluate_mode``), so strict runs never pay for loose mode.

- ``strict`` (default): only a whole ``${ … }`` string is an expression; any other string is
  literal text.
- ``loose``: a whole ``${ … }`` string is evaluated exactly as in strict mode (its failure
  faults the task with ``expression``: the author marked it as an expression). Every other
  string is *tried* as jq, and the literal string is kept when

  1. it is empty or blank, or one bare word (``[A-Za-z_][A-Za-z0-9_]*``: ``hello``, ``red``,
     ``GET``, but also ``true``, ``null``, ``empty``, ``type``, ``length``, ``not``, ``env``,
     ``now``, ``halt``): jq would read most such words as a call of an undefined function,
     and the rest are builtins whose results nobody means by a word (``env`` would even dump
     the process environment), so words are always text;
  2. it does not compile as jq (``Hello World``, ``https://x/{id}``, ``application/json``);
  3. its evaluation fails (``.a.b`` on a string, an undeclared ``$secrets.x``).

  Otherwise its first result replaces it: ``".a"`` → the input's ``a``, ``"$item"`` → the
  loop item, ``"42"`` → ``42``, ``"1 + 1"`` → ``2`` — and also ``"2024-01-01"`` → ``2022``
  (subtraction), so write such texts as ``${ "2024-01-01" }`` or keep the workflow strict. A
  program that yields nothing gives ``null``, as ``${ empty }`` does. Object keys are never
  evaluated, and values computed from the input are never evaluated again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from emitflow.errors import ExpressionError, FaultError
from emitflow.expressions import Expression, compile_expression, expression_text, is_expression
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

Renderer = Callable[[Any, Frame], Any]


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

#: Compiles one string of a value template: a renderer, or ``None`` when it is literal text.
StringCompiler = Callable[[str], Renderer | None]

_RENDERERS: dict[int, tuple[Any, Renderer]] = {}
_LOOSE_RENDERERS: dict[int, tuple[Any, Renderer]] = {}
_MAX_RENDERERS = 4096
_WORD = re.compile(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*")


def render(value: Any, data: Any, frame: Frame) -> Any:
    """A value position: its expressions (as the run's mode reads them) evaluated, at any depth."""
    return frame.run.renderer(value)(data, frame)


def renderer(value: Any) -> Renderer:
    """The compiled strict template of a model value (cached while the value lives)."""
    return _cached(_RENDERERS, value, _strict_string)


def loose_renderer(value: Any) -> Renderer:
    """The compiled loose template of a model value (cached while the value lives)."""
    return _cached(_LOOSE_RENDERERS, value, _loose_string)


#: The template compiler of each evaluation mode.
RENDERERS: dict[str, Callable[[Any], Renderer]] = {"strict": renderer, "loose": loose_renderer}


def _cached(
    cache: dict[int, tuple[Any, Renderer]], value: Any, strings: StringCompiler
) -> Renderer:
    # A separate cache per mode: equal short strings may be one interned object shared by a
    # strict and a loose workflow, and they render differently.
    key = id(value)
    cached = cache.get(key)
    if cached is not None and cached[0] is value:
        return cached[1]
    built = _compile(value, strings) or _constant(value)
    if len(cache) >= _MAX_RENDERERS:
        cache.clear()
    # The value is kept with its renderer so its id cannot be reused while cached.
    cache[key] = (value, built)
    return built


def _constant(value: Any) -> Renderer:
    return lambda data, frame: value


def _strict_string(text: str) -> Renderer | None:
    return prepare(text) if is_expression(text) else None


def _loose_string(text: str) -> Renderer | None:
    if is_expression(text):
        return prepare(text)
    prepared = _attempt(text)
    if prepared is None:
        return None

    def lenient(data: Any, frame: Frame) -> Any:
        try:
            return prepared(data, frame)
        except FaultError:
            return text  # loose mode: a string that does not evaluate is text

    return lenient


@lru_cache(maxsize=8192)
def _attempt(text: str) -> Prepared | None:
    """The loose reading of an unwrapped string: prepared jq, or ``None`` when it is text."""
    if not text.strip() or _WORD.fullmatch(text):
        return None
    try:
        return prepare(text)
    except ExpressionError:
        return None  # cached, so a literal text is not recompiled on every render


def _compile(value: Any, strings: StringCompiler) -> Renderer | None:
    """A renderer, or ``None`` when the value holds no expression (it renders as itself)."""
    if isinstance(value, str):
        return strings(value)
    if isinstance(value, dict):
        parts = {k: _compile(v, strings) for k, v in value.items()}
        if all(p is None for p in parts.values()):
            return None
        items = tuple((k, parts[k] or _constant(v)) for k, v in value.items())
        return lambda data, frame: {k: r(data, frame) for k, r in items}
    if isinstance(value, list):
        compiled = [_compile(v, strings) for v in value]
        if all(c is None for c in compiled):
            return None
        renderers = tuple(c or _constant(v) for c, v in zip(compiled, value, strict=True))
        return lambda data, frame: [r(data, frame) for r in renderers]
    return None
