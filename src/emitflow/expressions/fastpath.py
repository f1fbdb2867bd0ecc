"""A Python evaluator for the everyday subset of jq, tried before the ``jq`` package.

Calling jq serialises its whole input to JSON and parses the result back, so ``${ .items }`` on
a 10,000-item input costs milliseconds however little it reads. Most workflow expressions are
paths, literals, object/array construction, arithmetic, comparisons, ``//`` and string
interpolation; this module evaluates those in Python on the objects as they are (results share
structure with the input, which emitflow never mutates).

Two rules keep it exact:
- a text outside the subset does not parse here (``compile_fast`` answers ``None``) and always
  runs on jq;
- at run time, anything whose jq result could differ (a type error, a huge integer, a
  non-finite number) raises ``Unsupported`` and the caller re-runs the text on jq, which gives
  the real result or the real error message.
Numbers follow jq's doubles: an integral arithmetic result comes back as ``int``, as jq's do.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from emitflow.expressions import jqops
from emitflow.expressions.jqops import Unsupported

__all__ = ["Fast", "Unsupported", "compile_fast"]

#: A compiled expression: ``(data, variables) -> value``; variables answer ``.get(name)``.
Fast = Callable[[Any, Any], Any]


class _NotSubset(Exception):
    """The text is outside the subset (raised while parsing only)."""


# --- lexing ----------------------------------------------------------------------------------

_OPS = ("//", "==", "!=", "<=", ">=", "|", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]")
_OPS2 = ("{", "}", ",", ":")
_ASSIGN = ("|=", "+=", "-=", "*=", "/=", "//=", "%=", "?//")
_IDENT_START = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_DIGITS = "0123456789"  # ASCII only: str.isdigit() takes other scripts' digits, jq does not
_NUMBER = _DIGITS + "."
_IDENT = _IDENT_START + _DIGITS

Token = tuple[str, Any]
_SURROGATE = re.compile("[\ud800-\udfff]")


def _lex(text: str, i: int = 0, nested: bool = False) -> tuple[list[Token], int]:
    """Tokens up to the end (or, when ``nested``, up to the ``)`` closing an interpolation)."""
    tokens: list[Token] = []
    depth = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
        elif c == '"':
            parts, i = _lex_string(text, i + 1)
            tokens.append(("str", parts))
        elif c == ".":
            i = _lex_dot(text, i, tokens)
        elif c in _DIGITS:
            i = _lex_number(text, i, tokens)
        elif c == "$" or c in _IDENT_START:
            i = _lex_word(text, i, tokens)
        elif nested and c == ")" and depth == 0:
            return tokens, i + 1
        else:
            op = _operator(text, i)
            depth += {"(": 1, ")": -1}.get(op, 0)
            tokens.append(("op", op))
            i += len(op)
    if nested:
        raise _NotSubset
    return tokens, i


def _lex_dot(text: str, i: int, tokens: list[Token]) -> int:
    """``.``, ``.name``, ``."name"``, or a number such as ``.5``."""
    after = text[i + 1] if i + 1 < len(text) else ""
    if after and after in _IDENT_START:
        j = _ident_end(text, i + 1)
        tokens.append(("field", text[i + 1 : j]))
        return j
    if after == '"':
        parts, j = _lex_string(text, i + 2)
        if len(parts) != 1 or not isinstance(parts[0], str):
            raise _NotSubset
        tokens.append(("field", parts[0]))
        return j
    if after and after in _DIGITS:
        return _lex_number(text, i, tokens)
    if after == ".":
        raise _NotSubset  # recursive descent '..'
    tokens.append(("dot", None))
    return i + 1


def _lex_word(text: str, i: int, tokens: list[Token]) -> int:
    """``$name`` or an identifier (keywords included)."""
    if text[i] == "$":
        j = _ident_end(text, i + 1)
        name = text[i + 1 : j]
        if not name or name.startswith("__") or name == "ENV":
            raise _NotSubset
        tokens.append(("var", name))
        return j
    j = _ident_end(text, i)
    if text.startswith("::", j):
        raise _NotSubset
    tokens.append(("ident", text[i:j]))
    return j


def _operator(text: str, i: int) -> str:
    if any(text.startswith(op, i) for op in _ASSIGN):
        raise _NotSubset
    op = next((op for op in _OPS if text.startswith(op, i)), None)
    if op is None and text[i] in _OPS2:
        op = text[i]
    if op is None:
        raise _NotSubset  # '#', '@', '?', '%', ';', '=' …
    return op


def _ident_end(text: str, i: int) -> int:
    while i < len(text) and text[i] in _IDENT:
        i += 1
    return i


def _lex_number(text: str, i: int, tokens: list[Token]) -> int:
    j = i
    while j < len(text) and text[j] in _NUMBER:
        j += 1
    if j < len(text) and text[j] in "eE":
        k = j + 1
        if k < len(text) and text[k] in "+-":
            k += 1
        if k < len(text) and text[k] in _DIGITS:
            j = k
            while j < len(text) and text[j] in _DIGITS:
                j += 1
    try:
        value = float(text[i:j])
    except ValueError:
        raise _NotSubset from None
    if not math.isfinite(value) or abs(value) >= jqops.EXACT:
        raise _NotSubset  # jq keeps such literals' text; leave them to it
    tokens.append(("num", jqops.number(value)))
    return j


def _lex_string(text: str, i: int) -> tuple[list[Any], int]:
    """A string literal from after its opening quote: literal pieces and interpolated tokens."""
    parts: list[Any] = []
    start = i
    while i < len(text):
        c = text[i]
        if c == '"':
            parts.append(_decode(text[start:i]))
            return [p for p in parts if p != ""], i + 1
        if c == "\\" and text.startswith("\\(", i):
            parts.append(_decode(text[start:i]))
            inner, i = _lex(text, i + 2, nested=True)
            parts.append(inner)
            start = i
        elif c == "\\":
            i += 2
        else:
            i += 1
    raise _NotSubset


def _decode(raw: str) -> str:
    try:
        value = str(json.loads(f'"{raw}"'))
    except ValueError:
        raise _NotSubset from None
    if _SURROGATE.search(value):
        raise _NotSubset  # a lone surrogate escape: jq refuses the text, so it must see it
    return value


# --- parsing into closures -------------------------------------------------------------------


class _Parser:
    """Recursive descent over the tokens, with jq's precedences; builds closures."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self, kind: str, value: Any = None) -> bool:
        if self.i >= len(self.tokens):
            return False
        k, v = self.tokens[self.i]
        return k == kind and (value is None or v == value)

    def accept(self, kind: str, value: Any = None) -> bool:
        if self.peek(kind, value):
            self.i += 1
            return True
        return False

    def expect(self, kind: str, value: Any = None) -> Any:
        if not self.peek(kind, value):
            raise _NotSubset
        self.i += 1
        return self.tokens[self.i - 1][1]

    def whole(self) -> Fast:
        fn = self.pipe()
        if self.i != len(self.tokens):
            raise _NotSubset
        return fn

    def pipe(self) -> Fast:
        left = self.alternative()
        if self.accept("op", "|"):
            right = self.pipe()
            return lambda d, v: right(left(d, v), v)
        return left

    def alternative(self) -> Fast:
        left = self.disjunction()
        if self.accept("op", "//"):
            right = self.alternative()

            def alt(d: Any, v: Any) -> Any:
                x = left(d, v)
                return x if jqops.truthy(x) else right(d, v)

            return alt
        return left

    def disjunction(self) -> Fast:
        fn = self.conjunction()
        while self.accept("ident", "or"):
            a, b = fn, self.conjunction()
            fn = _or(a, b)
        return fn

    def conjunction(self) -> Fast:
        fn = self.comparison()
        while self.accept("ident", "and"):
            a, b = fn, self.comparison()
            fn = _and(a, b)
        return fn

    def comparison(self) -> Fast:
        left = self.additive()
        for op in ("==", "!=", "<", ">", "<=", ">="):
            if self.accept("op", op):
                return _binary(left, self.additive(), op)
        return left

    def additive(self) -> Fast:
        fn = self.multiplicative()
        while self.peek("op", "+") or self.peek("op", "-"):
            op = self.expect("op")
            fn = _binary(fn, self.multiplicative(), op)
        return fn

    def multiplicative(self) -> Fast:
        fn = self.unary()
        while self.peek("op", "*") or self.peek("op", "/"):
            op = self.expect("op")
            fn = _binary(fn, self.unary(), op)
        return fn

    def unary(self) -> Fast:
        if self.accept("op", "-"):
            inner = self.unary()
            return lambda d, v: jqops.arith(0, inner(d, v), "-")
        return self.postfix()

    def postfix(self) -> Fast:
        fn = self.primary()
        while True:
            if self.peek("field"):
                fn = _then_field(fn, self.expect("field"))
            elif self.accept("dot"):
                self.expect("op", "[")
                fn = _then_index(fn, self.bracket())
            elif self.accept("op", "["):
                fn = _then_index(fn, self.bracket())
            else:
                return fn

    def bracket(self) -> Fast:
        key = self.pipe()
        self.expect("op", "]")
        return key

    def primary(self) -> Fast:
        if self.i >= len(self.tokens):
            raise _NotSubset
        kind, value = self.tokens[self.i]
        self.i += 1
        if kind == "dot":
            if self.accept("op", "["):
                return _then_index(_identity, self.bracket())
            return _identity
        if kind == "field":
            return _path((value,))
        if kind == "num":
            return _constant(value)
        if kind == "str":
            return self.string(value)
        if kind == "var":
            return lambda d, v: v.get(value)
        if kind == "ident":
            return self.word(value)
        if value == "(":
            inner = self.pipe()
            self.expect("op", ")")
            return inner
        if value == "[":
            return self.array()
        if value == "{":
            return self.obj()
        raise _NotSubset

    def word(self, name: str) -> Fast:
        if name in ("true", "false", "null"):
            return _constant({"true": True, "false": False, "null": None}[name])
        if self.peek("op", "("):
            raise _NotSubset  # a function call with arguments
        if name == "not":
            return lambda d, v: not jqops.truthy(d)
        if name == "length":
            return lambda d, v: jqops.length(d)
        raise _NotSubset

    def string(self, parts: list[Any]) -> Fast:
        pieces: list[Any] = []
        for part in parts:
            if isinstance(part, str):
                pieces.append(part)
            else:
                pieces.append(_Parser(part).whole())
        if all(isinstance(p, str) for p in pieces):
            return _constant("".join(pieces))
        frozen = tuple(pieces)
        return lambda d, v: "".join(p if type(p) is str else jqops.text(p(d, v)) for p in frozen)

    def array(self) -> Fast:
        if self.accept("op", "]"):
            return lambda d, v: []
        first = self.alternative()
        if self.accept("op", "|"):
            rest = self.pipe()
            self.expect("op", "]")
            return lambda d, v: [rest(first(d, v), v)]
        items = [first]
        while self.accept("op", ","):
            items.append(self.alternative())
        self.expect("op", "]")
        frozen = tuple(items)
        return lambda d, v: [f(d, v) for f in frozen]

    def obj(self) -> Fast:
        entries: list[tuple[Any, Fast]] = []
        if not self.accept("op", "}"):
            entries.append(self.entry())
            while self.accept("op", ","):
                entries.append(self.entry())
            self.expect("op", "}")
        frozen = tuple(entries)
        if all(type(k) is str for k, _ in frozen):
            return lambda d, v: {k: f(d, v) for k, f in frozen}
        return lambda d, v: {_key(k, d, v): f(d, v) for k, f in frozen}

    def entry(self) -> tuple[Any, Fast]:
        if self.i >= len(self.tokens):
            raise _NotSubset
        kind, value = self.tokens[self.i]
        self.i += 1
        if kind == "var":
            if self.peek("op", ":"):
                raise _NotSubset
            return value, lambda d, v: v.get(value)
        if kind == "ident":
            if not self.accept("op", ":"):
                return value, _path((value,))
            return value, self.entry_value()
        key: Any
        if kind == "str":
            plain = all(isinstance(p, str) for p in value)
            key = "".join(value) if plain else self.string(value)
        elif (kind, value) == ("op", "("):
            key = self.pipe()
            self.expect("op", ")")
        else:
            raise _NotSubset
        self.expect("op", ":")
        return key, self.entry_value()

    def entry_value(self) -> Fast:
        """jq allows only a term (or a pipe of terms, or ``-term``) as an object value."""
        if self.accept("op", "-"):
            inner = self.postfix()
            fn: Fast = lambda d, v: jqops.arith(0, inner(d, v), "-")  # noqa: E731
        else:
            fn = self.postfix()
        if self.accept("op", "|"):
            left, right = fn, self.entry_value()
            return lambda d, v: right(left(d, v), v)
        return fn


def _key(key: Any, d: Any, v: Any) -> str:
    if type(key) is str:
        return key
    value = key(d, v)
    if type(value) is not str:
        raise Unsupported
    return value


def _identity(d: Any, v: Any) -> Any:
    return d


def _constant(value: Any) -> Fast:
    return lambda d, v: value


def _path(names: tuple[str, ...]) -> Fast:
    if len(names) == 1:
        name = names[0]

        def field(d: Any, v: Any) -> Any:
            if isinstance(d, dict):
                return d.get(name)
            if d is None:
                return None
            raise Unsupported

        return field

    def path(d: Any, v: Any) -> Any:
        for name in names:
            if isinstance(d, dict):
                d = d.get(name)
            elif d is None:
                return None
            else:
                raise Unsupported
        return d

    return path


def _then_field(fn: Fast, name: str) -> Fast:
    step = _path((name,))
    return lambda d, v: step(fn(d, v), v)


def _then_index(fn: Fast, key: Fast) -> Fast:
    # jq evaluates the index on the same input as the indexed term, not on its result.
    return lambda d, v: jqops.index(fn(d, v), key(d, v))


def _or(a: Fast, b: Fast) -> Fast:
    return lambda d, v: jqops.truthy(a(d, v)) or jqops.truthy(b(d, v))


def _and(a: Fast, b: Fast) -> Fast:
    return lambda d, v: jqops.truthy(a(d, v)) and jqops.truthy(b(d, v))


def _binary(a: Fast, b: Fast, op: str) -> Fast:
    if op == "+":
        return lambda d, v: jqops.add(a(d, v), b(d, v))
    if op in ("-", "*", "/"):
        return lambda d, v: jqops.arith(a(d, v), b(d, v), op)
    if op == "==":
        return lambda d, v: jqops.equal(a(d, v), b(d, v))
    if op == "!=":
        return lambda d, v: not jqops.equal(a(d, v), b(d, v))
    return lambda d, v: jqops.compare(a(d, v), b(d, v), op)


@lru_cache(maxsize=8192)
def compile_fast(text: str) -> Fast | None:
    """The Python evaluator of a jq text (without ``${ }``), or ``None`` when outside the subset."""
    try:
        tokens, _ = _lex(text)
        return _Parser(tokens).whole()
    except (_NotSubset, RecursionError):
        return None
