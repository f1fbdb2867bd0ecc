"""Value templates: values whose strings may be ``${ … }`` expressions, compiled once.

A template is any JSON-like value (a ``set``, a call's ``with``, headers, an emit's attributes,
an event filter's values …); rendering it evaluates each expression string on the data with
the variables, at any depth, and keeps everything else as it is. Object keys are never
evaluated, and values computed from the data are never evaluated again. A template is compiled
once into closures (``Templates`` keeps them per value), so a loop body re-renders without
walking the definition again; a value holding no expression compiles to ``None`` and renders
as itself, and constant parts are returned as they are (the model is immutable), not copied.

What one expression string becomes is the caller's ``StringCompiler``: here, an ``Expression``
evaluated with a mapping of variables (``STRICT``, ``LOOSE``, ``render_template``); the runner
passes its own, which also checks the secrets a text reads and places a failure at its task.

**Evaluation modes** (``evaluate.mode``, DSL §5) decide which strings are expressions:

- ``strict`` (default): only a whole ``${ … }`` string is an expression; any other string is
  literal text.
- ``loose``: a whole ``${ … }`` string is evaluated exactly as in strict mode (its failure
  faults with ``expression``: the author marked it as an expression). Every other string is
  *tried* as jq, and the literal string is kept when

  1. it is empty or blank, or one bare word (``[A-Za-z_][A-Za-z0-9_]*``: ``hello``, ``red``,
     ``GET``, but also ``true``, ``null``, ``empty``, ``type``, ``length``, ``not``, ``env``,
     ``now``, ``halt``): jq would read most such words as a call of an undefined function,
     and the rest are builtins whose results nobody means by a word (``env`` would even dump
     the process environment), so words are always text;
  2. it does not compile as jq (``Hello World``, ``https://x/{id}``, ``application/json``);
  3. its evaluation fails (``.a.b`` on a string, an undeclared ``$secrets.x``).

  Otherwise its first result replaces it: ``".a"`` → the data's ``a``, ``"$item"`` → the
  loop item, ``"42"`` → ``42``, ``"1 + 1"`` → ``2`` — and also ``"2024-01-01"`` → ``2022``
  (subtraction), so write such texts as ``${ "2024-01-01" }`` or keep the workflow strict. A
  program that yields nothing gives ``null``, as ``${ empty }`` does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, Generic, Literal, TypeVar

from emitflow.errors import ExpressionError, FaultError
from emitflow.expressions.jq import Expression, compile_expression, is_expression

__all__ = [
    "LOOSE",
    "STRICT",
    "Mode",
    "Render",
    "StringCompiler",
    "Templates",
    "compile_template",
    "constant",
    "lenient",
    "loose_expression",
    "render_template",
]

#: What the variables of a render are: a mapping, or the runner's ``Frame`` (also a mapping).
V = TypeVar("V")
#: A compiled template: ``(data, variables) -> value``.
Render = Callable[[Any, V], Any]
#: Compiles one string of a template: its renderer, or ``None`` when it is literal text.
StringCompiler = Callable[[str], Callable[[Any, V], Any] | None]
Mode = Literal["strict", "loose"]

_WORD = re.compile(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*")
_MAX_TEMPLATES = 4096


def constant(value: Any) -> Render[Any]:
    """The renderer of a value without expressions: the value itself."""
    return lambda data, variables: value


def compile_template(value: Any, strings: StringCompiler[V]) -> Render[V] | None:
    """The renderer of ``value``, or ``None`` when it holds no expression (it renders as itself)."""
    if isinstance(value, str):
        return strings(value)
    if isinstance(value, dict):
        parts = {k: compile_template(v, strings) for k, v in value.items()}
        if all(p is None for p in parts.values()):
            return None
        # A constant part is taken as it is, not called: most of a template is constant.
        items = tuple((k, parts[k], v) for k, v in value.items())
        return lambda data, variables: {
            k: v if r is None else r(data, variables) for k, r, v in items
        }
    if isinstance(value, list):
        compiled = [compile_template(v, strings) for v in value]
        if all(c is None for c in compiled):
            return None
        pairs = tuple(zip(compiled, value, strict=True))
        return lambda data, variables: [v if r is None else r(data, variables) for r, v in pairs]
    return None


class Templates(Generic[V]):
    """The compiled templates of long-lived values (a workflow's model), by identity.

    One cache per reading of strings: equal short strings may be one interned object shared
    by a strict and a loose workflow, and they render differently.
    """

    __slots__ = ("_cache", "_max", "_strings")

    def __init__(self, strings: StringCompiler[V], *, max_size: int = _MAX_TEMPLATES) -> None:
        self._strings = strings
        self._cache: dict[int, tuple[Any, Render[V]]] = {}
        self._max = max_size

    def template(self, value: Any) -> Render[V]:
        """The renderer of ``value`` (compiled on first use, kept while the cache holds it)."""
        key = id(value)
        cached = self._cache.get(key)
        if cached is not None and cached[0] is value:
            return cached[1]
        built = compile_template(value, self._strings) or constant(value)
        if len(self._cache) >= self._max:
            self._cache.clear()
        # The value is kept with its renderer so its id cannot be reused while cached.
        self._cache[key] = (value, built)
        return built


@lru_cache(maxsize=8192)
def loose_expression(text: str) -> Expression | None:
    """Loose mode's reading of a string that is not a whole ``${ … }``: its compiled jq, or
    ``None`` when it is text (blank, one bare word, or not jq). Cached, so a literal text is
    not recompiled on every render."""
    if not text.strip() or _WORD.fullmatch(text):
        return None
    try:
        return compile_expression(text)
    except ExpressionError:
        return None


def lenient(render: Render[V], text: str) -> Render[V]:
    """Loose mode's renderer of an unwrapped string: its value, or the text when it fails."""

    def attempt(data: Any, variables: V) -> Any:
        try:
            return render(data, variables)
        except FaultError:
            return text  # loose mode: a string that does not evaluate is text

    return attempt


def _evaluator(expression: Expression) -> Render[Mapping[str, Any]]:
    return lambda data, variables: expression.evaluate(data, variables)


def _strict_string(text: str) -> Render[Mapping[str, Any]] | None:
    return _evaluator(compile_expression(text)) if is_expression(text) else None


def _loose_string(text: str) -> Render[Mapping[str, Any]] | None:
    if is_expression(text):
        return _evaluator(compile_expression(text))
    expression = loose_expression(text)
    return None if expression is None else lenient(_evaluator(expression), text)


#: Templates read in strict mode, rendered with a mapping of variables.
STRICT: Templates[Mapping[str, Any]] = Templates(_strict_string)
#: Templates read in loose mode, rendered with a mapping of variables.
LOOSE: Templates[Mapping[str, Any]] = Templates(_loose_string)
_MODES = {"strict": STRICT, "loose": LOOSE}

_NO_VARIABLES: Mapping[str, Any] = {}


def render_template(
    value: Any,
    data: Any,
    variables: Mapping[str, Any] | None = None,
    *,
    mode: Mode = "strict",
) -> Any:
    """``value`` with its expressions evaluated on ``data`` (compiled once per value: keep
    the value alive, as a model's is, for the cache to pay). A failing expression raises
    ``FaultError`` (an ``expression`` problem); in loose mode only a whole ``${ … }`` does."""
    render = _MODES[mode].template(value)
    return render(data, _NO_VARIABLES if variables is None else variables)
