"""Compiled CESQL expressions and the three entry points: ``compile``, ``evaluate``, ``matches``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from emitflow.cesql.compiler import Run, build
from emitflow.cesql.failures import Failure, Result
from emitflow.cesql.nodes import Node
from emitflow.cesql.parser import parse
from emitflow.errors import CesqlParseError

__all__ = ["Expression", "compile", "evaluate", "matches"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Expression:
    """A compiled CESQL expression: immutable, reusable, safe to share between threads."""

    text: str
    tree: Node = field(repr=False)
    #: The compiled closure, ``run(attributes, errors) -> value``; ``evaluate`` wraps it.
    run: Run = field(repr=False, compare=False)

    def __str__(self) -> str:
        return self.text

    def evaluate(self, event: Mapping[str, object]) -> Result:
        """The value and the errors of this expression on ``event``'s attributes; never raises."""
        errors: list[Failure] = []
        try:
            value = self.run(event, errors)
        except Exception as exc:
            # Evaluation itself is total; only a broken attribute mapping gets here, and the
            # spec's GenericError is how that is reported (the contract is never to raise).
            errors.append(Failure(kind="generic", message=f"reading the event failed: {exc!r}"))
            return Result(value=False, errors=tuple(errors))
        return Result(value=value, errors=tuple(errors))

    def matches(self, event: Mapping[str, object]) -> bool:
        """True only when the expression is ``true`` on ``event`` without any error (§1.2).

        Evaluation already stops at the first error ("fail fast", §4.1), so this costs no more
        than ``evaluate``.
        """
        errors: list[Failure] = []
        try:
            value = self.run(event, errors)
        except Exception:
            _log.warning(
                "CESQL filter %r could not read the event; treating it as no match",
                self.text,
                exc_info=True,
            )
            return False
        return value is True and not errors


def _build(text: str) -> Expression | Failure:
    tree = parse(text)
    if isinstance(tree, Failure):
        return tree
    try:
        run = build(tree)
    except RecursionError:
        # The parser bounds the tree's depth; this only fires on a caller's nearly full stack.
        return Failure(kind="parse", message=f"{text!r} nests too deeply to compile here")
    return Expression(text=text, tree=tree, run=run)


# ``evaluate`` and ``matches`` given text: a service filters with a handful of texts, again and
# again, and an Expression is immutable, so sharing one is safe.
_cached = lru_cache(maxsize=512)(_build)


# Shadows the builtin within this module only; INTERFACE.md fixes the public name.
def compile(text: str) -> Expression:
    """Compile CESQL ``text``; raises ``CesqlParseError`` saying where and what was expected."""
    compiled = _build(text)
    if isinstance(compiled, Failure):
        raise CesqlParseError(compiled.message)
    return compiled


def _expression(expression: str | Expression) -> Expression | Failure:
    if isinstance(expression, Expression):
        return expression
    if isinstance(expression, str):
        return _cached(expression)
    return Failure(
        kind="generic",
        message=f"expected CESQL text or a compiled Expression, not {type(expression).__name__}",
    )


def evaluate(expression: str | Expression, event: Mapping[str, object]) -> Result:
    """Evaluate an expression (text or compiled) on an event's attributes; never raises.

    Text that does not parse gives ``false`` and a ``parse`` error instead of raising.
    """
    compiled = _expression(expression)
    if isinstance(compiled, Failure):
        return Result(value=False, errors=(compiled,))
    return compiled.evaluate(event)


def matches(expression: str | Expression, event: Mapping[str, object]) -> bool:
    """Use an expression as a filter: true only for a ``true`` result without any error."""
    compiled = _expression(expression)
    return not isinstance(compiled, Failure) and compiled.matches(event)
