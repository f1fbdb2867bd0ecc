"""The CESQL parser: a hand-written recursive-descent parser producing :mod:`nodes` trees.

Hand-written rather than ``lark`` because the grammar is small and its awkward corners are
easier to get exactly right in code than in a grammar file: a sign that belongs to an integer
literal (``-2147483648`` is valid, ``2147483648`` is not), ``NOT`` that is either a prefix or
part of ``NOT LIKE``/``NOT IN``, a LIKE pattern that must be a literal. It also gives errors
that name the position and what was expected, and it parses a filter in tens of microseconds.

Precedence, tightest first (spec §3.6), equal levels left to right:

    function call, literal, attribute, EXISTS name, ( expression )
    NOT x, -x
    x [NOT] LIKE 'p', x [NOT] IN (a, b, ...)
    * / %
    + -
    = != <> < <= > >=
    AND OR XOR   (one level, as the spec lists them: ``a OR b AND c`` is ``(a OR b) AND c``)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, NoReturn, TypeAlias, cast

from emitflow.cesql.failures import Failure, describe_position
from emitflow.cesql.lexer import SyntaxProblem, Token, tokenize
from emitflow.cesql.nodes import (
    Attribute,
    Binary,
    BinaryOp,
    Call,
    Exists,
    In,
    Like,
    Literal,
    Logic,
    LogicOp,
    Negate,
    Node,
    Not,
)
from emitflow.cesql.values import INT_MAX, INT_MIN

__all__ = ["MAX_DEPTH", "MAX_NESTING", "parse"]

#: The deepest syntax tree accepted; evaluation recurses once per level.
MAX_DEPTH: Final = 128
#: The deepest nesting of parentheses and prefix operators; parsing recurses ~7 times per level.
MAX_NESTING: Final = 64

_COMPARISON: Final = frozenset({"=", "!=", "<>", "<", "<=", ">", ">="})
_ADDITIVE: Final = frozenset({"+", "-"})
_MULTIPLICATIVE: Final = frozenset({"*", "/", "%"})
_LOGIC: Final = frozenset({"AND", "OR", "XOR"})
_ATTRIBUTE_NAME: Final = re.compile(r"[A-Za-z0-9]+")
_FUNCTION_NAME: Final = re.compile(r"[A-Za-z][A-Za-z_]*")

_Rule: TypeAlias = Callable[[], Node]


def parse(text: str) -> Node | Failure:
    """The syntax tree of ``text``, or a ``parse`` failure saying where and what was expected."""
    try:
        return _Parser(text).expression()
    except SyntaxProblem as problem:
        return Failure(kind="parse", message=_message(text, problem), position=problem.position)
    except RecursionError:
        # The nesting bound keeps parsing shallow; this only fires when the caller's own stack
        # is already nearly full, and a too-deep expression is still the expression's fault.
        deep = SyntaxProblem(0, "the expression nests too deeply to parse here")
        return Failure(kind="parse", message=_message(text, deep), position=0)


def _message(text: str, problem: SyntaxProblem) -> str:
    shown = text if len(text) <= 120 else text[:117] + "..."
    where = describe_position(text, problem.position)
    return f"invalid CESQL expression {shown!r}: at {where}, {problem.message}"


class _Parser:
    __slots__ = ("index", "nesting", "text", "tokens")

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.nesting = 0

    # --- token plumbing -------------------------------------------------------------------

    def peek(self) -> Token:
        return self.tokens[self.index]  # never past the end token: advance() stops there

    def peek_next(self) -> Token:
        return self.tokens[min(self.index + 1, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def at(self, kind: str, *values: str) -> bool:
        token = self.tokens[self.index]
        return token.kind == kind and (not values or token.value in values)

    def expect_op(self, symbol: str, what: str) -> Token:
        if not self.at("op", symbol):
            self.fail(self.peek(), what)
        return self.advance()

    def fail(self, token: Token, expected: str) -> NoReturn:
        raise SyntaxProblem(token.position, f"expected {expected}, found {token.describe()}")

    def deeper(self, position: int, *children: Node) -> int:
        depth = 1 + max(child.depth for child in children)
        if depth > MAX_DEPTH:
            raise SyntaxProblem(
                position, f"the expression nests more than {MAX_DEPTH} operations deep"
            )
        return depth

    def enter(self, token: Token) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise SyntaxProblem(
                token.position,
                f"parentheses and prefix operators nest more than {MAX_NESTING} deep",
            )

    # --- grammar, loosest first -----------------------------------------------------------

    def expression(self) -> Node:
        node = self.logic()
        if not self.at("end"):
            self.fail(self.peek(), "an operator or the end of the expression")
        return node

    def logic(self) -> Node:
        first = self.comparison()
        rest: list[tuple[LogicOp, Node]] = []
        while self.at("keyword", *_LOGIC):
            op = cast(LogicOp, self.advance().value)
            rest.append((op, self.comparison()))
        if not rest:
            return first
        depth = self.deeper(first.position, first, *(node for _, node in rest))
        return Logic(position=first.position, depth=depth, first=first, rest=tuple(rest))

    def comparison(self) -> Node:
        node = self.additive()
        while self.at("op", *_COMPARISON):
            node = self.binary(node, self.advance(), self.additive)
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.at("op", *_ADDITIVE):
            node = self.binary(node, self.advance(), self.multiplicative)
        return node

    def multiplicative(self) -> Node:
        node = self.postfix()
        while self.at("op", *_MULTIPLICATIVE):
            node = self.binary(node, self.advance(), self.postfix)
        return node

    def binary(self, left: Node, op: Token, operand: _Rule) -> Node:
        right = operand()
        depth = self.deeper(op.position, left, right)
        symbol = cast(BinaryOp, op.value)
        return Binary(position=op.position, depth=depth, op=symbol, left=left, right=right)

    def postfix(self) -> Node:
        node = self.unary()
        while True:
            token = self.peek()
            if token.kind != "keyword":
                return node
            following = self.peek_next()
            negated = token.value == "NOT" and following.kind == "keyword"
            negated = negated and following.value in ("LIKE", "IN")
            if negated:
                self.advance()
                token = following
            if token.value == "LIKE":
                node = self.like(node, self.advance(), negated)
            elif token.value == "IN":
                node = self.in_set(node, self.advance(), negated)
            else:
                return node

    def like(self, operand: Node, keyword: Token, negated: bool) -> Node:
        pattern = self.peek()
        if pattern.kind != "str":
            # The spec makes a non-literal pattern a parse error, not a cast.
            self.fail(pattern, "a string literal pattern after LIKE")
        self.advance()
        depth = self.deeper(keyword.position, operand)
        return Like(
            position=keyword.position,
            depth=depth,
            operand=operand,
            pattern=pattern.value,
            negated=negated,
        )

    def in_set(self, operand: Node, keyword: Token, negated: bool) -> Node:
        self.enter(self.expect_op("(", "'(' to open the set after IN"))
        items = [self.logic()]
        while self.at("op", ","):
            self.advance()
            items.append(self.logic())
        self.nesting -= 1
        self.expect_op(")", "',' or ')' to close the set")
        depth = self.deeper(keyword.position, operand, *items)
        return In(
            position=keyword.position,
            depth=depth,
            operand=operand,
            items=tuple(items),
            negated=negated,
        )

    def unary(self) -> Node:
        token = self.peek()
        if token.kind == "keyword" and token.value == "NOT":
            self.advance()
            self.enter(token)
            operand = self.unary()
            self.nesting -= 1
            return Not(
                position=token.position, depth=self.deeper(token.position, operand), operand=operand
            )
        if token.kind == "op" and token.value == "-":
            self.advance()
            if self.at("int"):
                # Folded so that the literal's range is checked with its sign: -2147483648.
                return self.integer(self.advance(), -1, token.position)
            self.enter(token)
            operand = self.unary()
            self.nesting -= 1
            depth = self.deeper(token.position, operand)
            return Negate(position=token.position, depth=depth, operand=operand)
        return self.primary()

    def primary(self) -> Node:
        token = self.advance()
        if token.kind == "int":
            return self.integer(token, 1, token.position)
        if token.kind == "str":
            return Literal(position=token.position, value=token.value)
        if token.kind == "word":
            return self.name(token)
        if token.kind == "keyword":
            return self.keyword(token)
        if token.kind == "op" and token.value == "+":
            # A sign is part of the integer literal (there is no unary plus): "+5", not "+ 5".
            digits = self.peek()
            if digits.kind == "int" and digits.position == token.position + 1:
                return self.integer(self.advance(), 1, token.position)
        if token.kind == "op" and token.value == "(":
            self.enter(token)
            node = self.logic()
            self.nesting -= 1
            where = describe_position(self.text, token.position)
            self.expect_op(")", f"')' to close the '(' at {where}")
            return node
        self.fail(token, "an expression")

    def keyword(self, token: Token) -> Node:
        if token.value in ("TRUE", "FALSE"):
            return Literal(position=token.position, value=token.value == "TRUE")
        if token.value == "EXISTS":
            name = self.peek()
            if name.kind in ("word", "int") and _ATTRIBUTE_NAME.fullmatch(name.text):
                self.advance()
                return Exists(position=token.position, name=name.text.lower())
            self.fail(name, "an attribute name after EXISTS")
        self.fail(token, "an expression")

    def integer(self, token: Token, sign: int, position: int) -> Node:
        digits = token.text.lstrip("0") or "0"
        # Bounding the digit count first keeps int() away from enormous inputs.
        value = sign * int(digits) if len(digits) <= 10 else None
        if value is None or not INT_MIN <= value <= INT_MAX:
            raise SyntaxProblem(
                position,
                f"integer literal {'-' if sign < 0 else ''}{token.text} is outside the 32-bit "
                f"range {INT_MIN}..{INT_MAX}",
            )
        return Literal(position=position, value=value)

    def name(self, token: Token) -> Node:
        if self.at("op", "("):
            if not _FUNCTION_NAME.fullmatch(token.text):
                raise SyntaxProblem(
                    token.position,
                    f"{token.text!r} is not a valid function name: "
                    "use a letter then letters or underscores",
                )
            return self.call(token)
        if not _ATTRIBUTE_NAME.fullmatch(token.text):
            raise SyntaxProblem(
                token.position,
                f"{token.text!r} is not a valid attribute name: use letters and digits only",
            )
        return Attribute(position=token.position, name=token.text.lower())

    def call(self, name: Token) -> Node:
        opening = self.advance()
        self.enter(opening)
        args: list[Node] = []
        if not self.at("op", ")"):
            args.append(self.logic())
            while self.at("op", ","):
                self.advance()
                args.append(self.logic())
        self.nesting -= 1
        self.expect_op(")", f"',' or ')' to close the arguments of {name.text}")
        depth = self.deeper(name.position, *args) if args else 1
        return Call(position=name.position, depth=depth, name=name.text.upper(), args=tuple(args))
