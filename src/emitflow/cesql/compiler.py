"""Compiles a syntax tree into a tree of closures once; evaluating is then one call.

Each closure takes the event's attributes and the error list and returns a value. Casts happen
at run time, since attribute types are only known then; everything that depends on the tree
alone (the operator, the function overload, the LIKE matcher, a set of literals) is decided
here, never per evaluation.

Errors (spec §3.3). The node that meets an error records it and returns the value the spec
gives it (``5 / 0`` is 0, ``LEFT('abc', -2)`` is ``'abc'``, ``NOT 10`` is true). From then on
evaluation winds up: each enclosing operator, seeing the error list no longer empty after an
operand, returns its zero value without evaluating anything else. So ``1 / missing`` is 0 with
a missing-attribute error and no math error (§3.2), ``true AND (1 != 1 / 0)`` is false (the
TCK), and evaluation is "fail fast" (§4.1) at no extra cost. A missing attribute on its own
has no type to take a zero value from, so it is false (§3.2).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Final, TypeAlias

from emitflow.cesql.arithmetic import ARITHMETIC, Arithmetic
from emitflow.cesql.calls import call_run
from emitflow.cesql.failures import Errors, Failure, Value
from emitflow.cesql.like import Matcher, like_matcher
from emitflow.cesql.logic import logic_run
from emitflow.cesql.membership import comparable, in_run
from emitflow.cesql.nodes import (
    Attribute,
    Binary,
    Call,
    Exists,
    In,
    Like,
    Literal,
    Logic,
    Negate,
    Node,
    Not,
)
from emitflow.cesql.values import INT_MIN, checked, from_attribute, to_bool, to_int, to_str

__all__ = ["Event", "Run", "build"]

Event: TypeAlias = Mapping[str, object]
#: A compiled node.
Run: TypeAlias = Callable[[Event, Errors], Value]

# A valid event always has these, so EXISTS on them is true without looking (§3.4.4).
_REQUIRED: Final = frozenset({"id", "source", "specversion", "type"})

_ORDER: Final[dict[str, Callable[[int, int], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def build(node: Node) -> Run:
    """The closure that evaluates ``node``."""
    match node:
        case Literal():
            return _constant(node.value)
        case Attribute():
            return _attribute(node)
        case Exists():
            return _exists(node)
        case Not():
            return _not(node)
        case Negate():
            return _negate(node)
        case Binary():
            return _binary(node)
        case Logic():
            first = (build(node.first), node.first.position)
            return logic_run(first, tuple((op, build(x), x.position) for op, x in node.rest))
        case Like():
            return _like(node)
        case In():
            items = tuple((build(item), item.position) for item in node.items)
            return in_run(build(node.operand), items, node)
        case Call():
            args = tuple((build(arg), arg.position) for arg in node.args)
            return call_run(node.name, args, node.position)
    raise TypeError(f"not a CESQL syntax node: {node!r}")


def _constant(value: Value) -> Run:
    def run(event: Event, errors: Errors) -> Value:
        return value

    return run


def _missing(node: Attribute) -> Failure:
    return Failure(
        kind="missingAttribute",
        message=f"the event has no attribute {node.name!r}",
        position=node.position,
    )


def _attribute(node: Attribute) -> Run:
    name, failure = node.name, _missing(node)

    def run(event: Event, errors: Errors) -> Value:
        raw = event.get(name)
        if type(raw) is str:
            return raw
        value = from_attribute(raw)
        if value is None:
            errors.append(failure)
            return False
        return value

    return run


def _exists(node: Exists) -> Run:
    if node.name in _REQUIRED:
        return _constant(True)
    name = node.name

    def run(event: Event, errors: Errors) -> Value:
        return event.get(name) is not None

    return run


def _not(node: Not) -> Run:
    operand, position = build(node.operand), node.operand.position

    def run(event: Event, errors: Errors) -> Value:
        value = operand(event, errors)
        if errors:
            return False
        # A failed cast gives false, so NOT 10 is true with a cast error (the TCK).
        return not (value if type(value) is bool else to_bool(value, errors, position))

    return run


def _negate(node: Negate) -> Run:
    operand, position, at = build(node.operand), node.operand.position, node.position

    def run(event: Event, errors: Errors) -> Value:
        value = operand(event, errors)
        if errors:
            return 0
        number = value if type(value) is int else to_int(value, errors, position)
        return -number if number != INT_MIN else checked(-number, errors, at, f"-({number})")

    return run


def _binary(node: Binary) -> Run:
    if node.op in ARITHMETIC:
        return _arithmetic(node, ARITHMETIC[node.op])
    if node.op in _ORDER:
        return _ordering(node, _ORDER[node.op])
    if isinstance(node.right, Literal):
        return _equals_constant(node, node.right.value)
    return _equality(node)


def _arithmetic(node: Binary, apply: Arithmetic) -> Run:
    left, right = build(node.left), build(node.right)
    left_at, right_at, at = node.left.position, node.right.position, node.position

    def run(event: Event, errors: Errors) -> Value:
        x = left(event, errors)
        if errors:
            return 0
        y = right(event, errors)
        if errors:
            return 0
        a = x if type(x) is int else to_int(x, errors, left_at)
        b = y if type(y) is int else to_int(y, errors, right_at)
        return apply(a, b, errors, at)

    return run


def _ordering(node: Binary, compare: Callable[[int, int], bool]) -> Run:
    left, right = build(node.left), build(node.right)
    left_at, right_at = node.left.position, node.right.position

    def run(event: Event, errors: Errors) -> Value:
        x = left(event, errors)
        if errors:
            return False
        y = right(event, errors)
        if errors:
            return False
        a = x if type(x) is int else to_int(x, errors, left_at)
        b = y if type(y) is int else to_int(y, errors, right_at)
        return compare(a, b)

    return run


def _equality(node: Binary) -> Run:
    """``=``, ``!=``, ``<>``: the right operand's type picks the overload, so ``x`` is cast."""
    left, right, left_at = build(node.left), build(node.right), node.left.position
    negated = node.op != "="

    def run(event: Event, errors: Errors) -> Value:
        x = left(event, errors)
        if errors:
            return False
        y = right(event, errors)
        if errors:
            return False
        same = x if type(x) is type(y) else comparable(x, type(y), errors, left_at)
        return same is not None and (same == y) != negated

    return run


def _equals_constant(node: Binary, constant: Value) -> Run:
    """Equality with a literal on the right, the shape of most filters; the cast is known."""
    negated, target = node.op != "=", type(constant)
    if isinstance(node.left, Attribute) and isinstance(constant, str):
        return _attribute_equals_text(node.left, constant, negated)
    left, left_at = build(node.left), node.left.position

    def run(event: Event, errors: Errors) -> Value:
        x = left(event, errors)
        if errors:
            return False
        same = x if type(x) is target else comparable(x, target, errors, left_at)
        return same is not None and (same == constant) != negated

    return run


def _attribute_equals_text(node: Attribute, constant: str, negated: bool) -> Run:
    """``name = 'text'`` reading the attribute itself: one call fewer on the commonest test."""
    name, failure = node.name, _missing(node)

    def run(event: Event, errors: Errors) -> Value:
        raw = event.get(name)
        if type(raw) is str:
            return (raw == constant) != negated
        value = from_attribute(raw)
        if value is None:
            errors.append(failure)
            return False
        return (to_str(value) == constant) != negated

    return run


def _like(node: Like) -> Run:
    match, negated = like_matcher(node.pattern), node.negated
    if isinstance(node.operand, Attribute):
        return _attribute_like(node.operand, match, negated)
    operand = build(node.operand)

    def run(event: Event, errors: Errors) -> Value:
        value = operand(event, errors)
        if errors:
            return False
        return match(value if type(value) is str else to_str(value)) != negated

    return run


def _attribute_like(node: Attribute, match: Matcher, negated: bool) -> Run:
    """``name LIKE 'pattern'`` reading the attribute itself, the other staple of filters."""
    name, failure = node.name, _missing(node)

    def run(event: Event, errors: Errors) -> Value:
        raw = event.get(name)
        if type(raw) is str:
            return match(raw) != negated
        value = from_attribute(raw)
        if value is None:
            errors.append(failure)
            return False
        return match(to_str(value)) != negated

    return run
