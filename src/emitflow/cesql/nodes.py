"""The CESQL syntax tree: frozen nodes the parser builds and the compiler turns into closures.

Every node records ``position``, the offset of the token that names it (an operator, a literal,
a name), so evaluation errors can say where they arose, and ``depth``, the height of its
subtree, which the parser bounds so that evaluating can never exhaust the stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal as Choice

from emitflow.cesql.failures import Value

__all__ = [
    "Attribute",
    "Binary",
    "BinaryOp",
    "Call",
    "Exists",
    "In",
    "Like",
    "Literal",
    "Logic",
    "LogicOp",
    "Negate",
    "Node",
    "Not",
]

BinaryOp = Choice["+", "-", "*", "/", "%", "=", "!=", "<>", "<", "<=", ">", ">="]
LogicOp = Choice["AND", "OR", "XOR"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    """Any node."""

    position: int
    depth: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Literal(Node):
    """A boolean, integer or string literal."""

    value: Value


@dataclass(frozen=True, slots=True, kw_only=True)
class Attribute(Node):
    """A context attribute or extension, by its lower-cased name."""

    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Exists(Node):
    """``EXISTS name``."""

    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Not(Node):
    """``NOT operand``."""

    operand: Node


@dataclass(frozen=True, slots=True, kw_only=True)
class Negate(Node):
    """``-operand`` (a minus sign before an integer literal is folded into the literal)."""

    operand: Node


@dataclass(frozen=True, slots=True, kw_only=True)
class Binary(Node):
    """An arithmetic or comparison operator."""

    op: BinaryOp
    left: Node
    right: Node


@dataclass(frozen=True, slots=True, kw_only=True)
class Logic(Node):
    """A run of AND/OR/XOR, left to right: ``first op1 x1 op2 x2 ...``.

    One node for the whole run, evaluated in a loop, so that a filter OR-ing hundreds of
    alternatives is neither deep to evaluate nor subject to the depth bound.
    """

    first: Node
    rest: tuple[tuple[LogicOp, Node], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Like(Node):
    """``operand [NOT] LIKE 'pattern'``; the pattern is always a string literal."""

    operand: Node
    pattern: str
    negated: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class In(Node):
    """``operand [NOT] IN (item, ...)``."""

    operand: Node
    items: tuple[Node, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Call(Node):
    """A function invocation, by its upper-cased name."""

    name: str
    args: tuple[Node, ...]
