"""``x [NOT] IN (a, b, ...)`` (spec §3.4.5) and the cast shared with ``=``.

Each item is cast to the type of ``x`` (§3.7's special rule for IN), then compared as ``=``
compares. A set of literals is cast once, at compile time, into a frozenset per type of ``x``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, TypeAlias

from emitflow.cesql.failures import Errors, Failure, Value
from emitflow.cesql.nodes import In, Literal
from emitflow.cesql.values import Cast, to_bool, to_int, to_str

__all__ = ["CASTS", "comparable", "in_run"]

_Run: TypeAlias = Callable[[Mapping[str, object], Errors], Value]

#: The implicit cast to each type (§3.7).
CASTS: Final[dict[type, Cast]] = {bool: to_bool, int: to_int, str: to_str}


def comparable(value: Value, target: type, errors: Errors, position: int) -> Value | None:
    """``value`` cast to ``target`` for ``=`` or ``IN``; ``None`` (and a cast error) if it fails.

    A failed cast makes the comparison false, as §3.7 ends a failed resolution of ``=`` ("a
    CastError and the result is false"), rather than comparing the cast's zero value, which
    would make ``'abc' = 0`` true. Callers check their operands first, so ``errors`` is
    empty on entry and anything in it afterwards is this cast's.
    """
    cast = CASTS[target](value, errors, position)
    return None if errors else cast


def in_run(operand: _Run, items: tuple[tuple[_Run, int], ...], node: In) -> _Run:
    """The closure evaluating ``node`` from its compiled operand and items."""
    negated = node.negated
    literals = _literal_sets(node)

    def run(event: Mapping[str, object], errors: Errors) -> Value:
        value = operand(event, errors)
        if errors:
            return False
        members = literals.get(type(value))
        if members is not None:
            return (value in members) != negated
        found = _scan(value, items, event, errors)
        return not errors and found != negated

    return run


def _literal_sets(node: In) -> dict[type, frozenset[Value]]:
    """For a set of literals, its members cast to each type, where every cast succeeds."""
    values = [item.value for item in node.items if isinstance(item, Literal)]
    if len(values) != len(node.items):
        return {}
    sets: dict[type, frozenset[Value]] = {}
    for target, cast in CASTS.items():
        failures: list[Failure] = []
        members = frozenset(cast(value, failures, None) for value in values)
        if not failures:  # otherwise the failing cast is reported at run time, in order
            sets[target] = members
    return sets


def _scan(
    value: Value, items: tuple[tuple[_Run, int], ...], event: Mapping[str, object], errors: Errors
) -> bool:
    """Whether an item equals ``value``, item by item; stops at a match or an error."""
    target = type(value)
    for item, position in items:
        member = item(event, errors)
        if errors:
            return False
        same = member if type(member) is target else comparable(member, target, errors, position)
        if same is None:
            return False
        if same == value:
            return True
    return False
