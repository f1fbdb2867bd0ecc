"""The 32-bit integer operators: results that leave the range, and division by zero, are math
errors (spec §3.4.2); the value returned alongside is the nearest bound, or 0 for division."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeAlias

from emitflow.cesql.failures import Errors, Failure
from emitflow.cesql.values import INT_MAX, INT_MIN, checked

__all__ = ["ARITHMETIC", "Arithmetic"]

#: (left, right, error sink, operator position) -> result.
Arithmetic: TypeAlias = Callable[[int, int, Errors, int], int]


def _add(a: int, b: int, errors: Errors, position: int) -> int:
    result = a + b
    if INT_MIN <= result <= INT_MAX:
        return result
    return checked(result, errors, position, f"{a} + {b}")


def _subtract(a: int, b: int, errors: Errors, position: int) -> int:
    result = a - b
    if INT_MIN <= result <= INT_MAX:
        return result
    return checked(result, errors, position, f"{a} - {b}")


def _multiply(a: int, b: int, errors: Errors, position: int) -> int:
    result = a * b
    if INT_MIN <= result <= INT_MAX:
        return result
    return checked(result, errors, position, f"{a} * {b}")


def _by_zero(a: int, symbol: str, errors: Errors, position: int) -> int:
    errors.append(
        Failure(kind="math", message=f"division by zero in {a} {symbol} 0", position=position)
    )
    return 0


def _divide(a: int, b: int, errors: Errors, position: int) -> int:
    """Truncating division (toward 0), unlike Python's ``//``, which floors."""
    if b == 0:
        return _by_zero(a, "/", errors, position)
    quotient = abs(a) // abs(b)
    if (a < 0) != (b < 0):
        return -quotient
    # Only INT_MIN / -1 can overflow.
    return quotient if quotient <= INT_MAX else checked(quotient, errors, position, f"{a} / {b}")


def _modulo(a: int, b: int, errors: Errors, position: int) -> int:
    """The remainder with the sign of ``a``, unlike Python's ``%``, which follows ``b``."""
    if b == 0:
        return _by_zero(a, "%", errors, position)
    remainder = abs(a) % abs(b)
    return -remainder if a < 0 else remainder


ARITHMETIC: Final[dict[str, Arithmetic]] = {
    "+": _add,
    "-": _subtract,
    "*": _multiply,
    "/": _divide,
    "%": _modulo,
}
