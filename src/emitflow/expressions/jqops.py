"""jq's values, operators and builtins on Python values, for the fast path (``fastpath``).

Each function either gives exactly jq's result or raises ``Unsupported`` (the caller then runs
the expression on jq): numbers are jq's doubles, so integers beyond 2^53 are left to jq, and an
integral result comes back as ``int`` as jq's do; comparisons across JSON types, type errors,
division by zero and non-finite results are left to jq too.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = [
    "EXACT",
    "Unsupported",
    "add",
    "arith",
    "compare",
    "equal",
    "index",
    "length",
    "number",
    "operand",
    "text",
    "truthy",
]

NUMBERS = (int, float)
#: Beyond this an int is not exactly a double: leave it to jq.
EXACT = 2**53
JSON_TYPES = (dict, list, str, int, float, bool, type(None))


class Unsupported(Exception):
    """This evaluation may not match jq's: run the text on jq instead."""


# --- values ----------------------------------------------------------------------------------


def number(value: float) -> int | float:
    """A number as jq hands it back: integral doubles come back as ints."""
    if not math.isfinite(value):
        raise Unsupported
    if value.is_integer() and abs(value) < 1e17:
        return int(value)
    return value


def operand(x: Any) -> bool:
    """True for a number jq holds exactly (no bools, no huge ints)."""
    t = type(x)
    if t is int:
        return bool(-EXACT < x < EXACT)
    return t is float


def truthy(x: Any) -> bool:
    return x is not None and x is not False


def equal(a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    if ta in NUMBERS and tb in NUMBERS:
        if not (operand(a) and operand(b)):
            raise Unsupported
        return bool(a == b)
    if ta is not tb:
        if ta not in JSON_TYPES or tb not in JSON_TYPES:
            raise Unsupported
        return False
    if ta is list:
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if ta is dict:
        return bool(a.keys() == b.keys()) and all(equal(a[k], b[k]) for k in a)
    if ta not in JSON_TYPES:
        raise Unsupported
    return bool(a == b)


def add(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    ta, tb = type(a), type(b)
    if ta is tb and ta in (str, list):
        return a + b
    if ta is dict and tb is dict:
        return {**a, **b}
    return arith(a, b, "+")


def arith(a: Any, b: Any, op: str) -> Any:
    if not (operand(a) and operand(b)):
        raise Unsupported
    if op == "+":
        r = a + b
    elif op == "-":
        r = a - b
    elif op == "*":
        r = a * b
    else:
        if b == 0:
            raise Unsupported
        r = a / b
    return number(float(r)) if type(r) is float or not -EXACT < r < EXACT else r


def compare(a: Any, b: Any, op: str) -> bool:
    ta, tb = type(a), type(b)
    if not ((operand(a) and operand(b)) or (ta is str and tb is str)):
        raise Unsupported
    if op == "<":
        return bool(a < b)
    if op == ">":
        return bool(a > b)
    if op == "<=":
        return bool(a <= b)
    return bool(a >= b)


def index(target: Any, key: Any) -> Any:
    tk = type(key)
    if isinstance(target, dict) and tk is str:
        return target.get(key)
    if isinstance(target, list) and tk is int:
        return target[key] if -len(target) <= key < len(target) else None
    if target is None and tk in (str, int):
        return None
    raise Unsupported


def length(x: Any) -> Any:
    if x is None:
        return 0
    if type(x) in (str, list, dict):
        return len(x)
    if operand(x):
        return abs(x)
    raise Unsupported


def text(x: Any) -> str:
    """``\\( )`` of a value, for the values whose jq text is certain."""
    if type(x) is str:
        return x
    if x is None or type(x) is bool:
        return json.dumps(x)
    if type(x) is int and -EXACT < x < EXACT:
        return str(x)
    raise Unsupported
