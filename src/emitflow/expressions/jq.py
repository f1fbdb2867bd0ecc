"""jq expressions through the ``jq`` package.

The ``jq`` package binds ``$variables`` when a program is compiled, and compiling costs about a
millisecond, so recompiling per evaluation is out. Instead each expression text is compiled once
per process into a program that reads its variables from its input: the input is the pair
``[data, {name: value, …}]`` and the program destructures it before running the user's text.
Only the variables the text mentions are bound and sent, so ``${ .a.b }`` runs as the plain
program, and a large ``$workflow.definition`` is serialised only for texts that read it.

Before jq, an expression in the everyday subset runs on the Python fast path (``fastpath``:
paths, literals, construction, arithmetic, comparisons, ``//``, interpolation) on the objects
as they are; whatever it cannot answer exactly goes to jq. Every caller gets it: the runner,
event matching and correlation, schedules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from emitflow.errors import ExpressionError, FaultError, Problem
from emitflow.expressions.fastpath import Fast, Unsupported, compile_fast

__all__ = [
    "STANDARD_VARIABLES",
    "Expression",
    "compile_expression",
    "evaluate_value",
    "expression_text",
    "is_expression",
    "iter_expressions",
]

#: The runtime arguments every expression may read (bound to null where not applicable).
STANDARD_VARIABLES = (
    "context",
    "input",
    "output",
    "secrets",
    "task",
    "workflow",
    "runtime",
    "authorization",
)

_NO_VARIABLES: Mapping[str, Any] = {}
_VAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_JQ_BUILTIN_VARS = frozenset({"ENV", "__loc__", "__prog_args", "__d", "__v"})
_WHOLE = re.compile(r"^\s*\$\{(.*)\}\s*$", re.DOTALL)


def is_expression(value: object) -> bool:
    """True for a string written as a whole ``${ … }`` runtime expression."""
    return isinstance(value, str) and _WHOLE.match(value) is not None


def expression_text(value: str) -> str:
    """The jq text of ``${ … }`` (or the string itself when it is not wrapped)."""
    match = _WHOLE.match(value)
    return match.group(1).strip() if match else value.strip()


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled jq expression; ``evaluate`` is cheap, so keep and reuse it."""

    text: str
    variables: tuple[str, ...]
    #: The jq program; ``None`` until first needed when the fast path takes the text (the
    #: fast path's subset is valid jq, so nothing is left to check at compile time).
    _program: Any = field(repr=False, compare=False)
    #: The Python fast path, when the text is in its subset.
    fast: Fast | None = field(default=None, repr=False, compare=False)

    def _jq_program(self) -> Any:
        program = self._program
        if program is None:
            program = _jq_compile(self.text, self.variables)
            object.__setattr__(self, "_program", program)
        return program

    def evaluate(
        self, data: Any, variables: Mapping[str, Any] | None = None, *, where: str | None = None
    ) -> Any:
        """The first result of the expression on ``data`` (null when it yields nothing).

        A runtime failure raises ``FaultError`` with an ``expression`` problem (status 400);
        ``where`` (a JSON pointer) becomes its ``instance``.
        """
        fast = self.fast
        if fast is not None:
            try:
                return fast(data, _NO_VARIABLES if variables is None else variables)
            except Unsupported:
                pass  # jq gives the exact result or the real error
        program = self._program if self._program is not None else self._jq_program()
        try:
            if self.variables:
                bound = variables or {}
                payload = [data, {name: bound.get(name) for name in self.variables}]
                results = program.input_value(payload).all()
            else:
                results = program.input_value(data).all()
        except ValueError as exc:
            raise FaultError(
                Problem.of(
                    "expression",
                    title="Expression failed",
                    detail=f"${{ {self.text} }}: {_first_line(exc)}",
                    instance=where,
                )
            ) from exc
        return results[0] if results else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@lru_cache(maxsize=8192)
def compile_expression(text: str) -> Expression:
    """Compile a jq text (with or without ``${ }``) once per process; ``ExpressionError`` if bad."""
    source = expression_text(text)
    if not source:
        raise ExpressionError(text, "the expression is empty")
    names = tuple(sorted({m for m in _VAR.findall(source) if m not in _JQ_BUILTIN_VARS}))
    fast = compile_fast(source)
    if fast is not None:
        # jq compiles it when the fast path first hands a value back (about a millisecond,
        # and the ``jq`` package's import, saved for every text that never needs it).
        return Expression(source, names, None, fast)
    try:
        program = _jq_compile(source, names)
    except ValueError as exc:
        raise ExpressionError(text, _first_line(exc)) from exc
    return Expression(source, names, program, None)


def _jq_compile(source: str, names: tuple[str, ...]) -> Any:
    """The jq program of ``source``, reading the variables ``names`` from its input."""
    import jq

    if names:
        pattern = ", ".join(f"{name}: ${name}" for name in names)
        return jq.compile(f". as [$__d, {{{pattern}}}] | $__d | ({source}\n)")
    return jq.compile(source)


def evaluate_value(
    value: Any,
    data: Any,
    variables: Mapping[str, Any] | None = None,
    *,
    where: str | None = None,
) -> Any:
    """Evaluate every ``${ }`` string in a value position, recursively through maps and arrays
    (a one-off walk; a value rendered again and again is compiled once by ``templates``)."""
    if isinstance(value, str):
        if is_expression(value):
            return compile_expression(value).evaluate(data, variables, where=where)
        return value
    if isinstance(value, dict):
        return {k: evaluate_value(v, data, variables, where=where) for k, v in value.items()}
    if isinstance(value, list):
        return [evaluate_value(v, data, variables, where=where) for v in value]
    return value


def iter_expressions(value: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """Every ``${ }`` string inside a value, with its JSON pointer (for validation)."""
    if isinstance(value, str):
        if is_expression(value):
            yield pointer, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from iter_expressions(item, f"{pointer}/{_escape(str(key))}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from iter_expressions(item, f"{pointer}/{index}")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
