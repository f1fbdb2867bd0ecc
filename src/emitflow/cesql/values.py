"""CESQL values: 32-bit integers, attribute values as CESQL sees them, and the casts (§3.7)."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final, TypeAlias

from emitflow.cesql.failures import Errors, Failure, Value

__all__ = [
    "INT_MAX",
    "INT_MIN",
    "ZERO",
    "Cast",
    "checked",
    "from_attribute",
    "parse_integer",
    "to_bool",
    "to_bool_explicit",
    "to_int",
    "to_str",
]

INT_MIN: Final = -(2**31)
INT_MAX: Final = 2**31 - 1


#: A cast to one type: (value, error list, position) -> value of that type.
Cast: TypeAlias = Callable[[Value, Errors, "int | None"], Value]

#: The zero value of each type (§3.1): what an operator yields once an operand has failed.
ZERO: Final[dict[type, Value]] = {bool: False, int: 0, str: ""}

# ASCII digits only: int() would also take "1_000", " 7 " and non-ASCII digits such as "٣".
_INTEGER = re.compile(r"[+-]?[0-9]+")


def parse_integer(text: str) -> int | None:
    """The 32-bit integer ``text`` spells in base 10 (an optional sign, digits), else ``None``."""
    if _INTEGER.fullmatch(text) is None:
        return None
    number = int(text)
    return number if INT_MIN <= number <= INT_MAX else None


def checked(number: int, errors: Errors, position: int | None, what: str) -> int:
    """``number`` if it fits 32 bits; else the nearest bound and a math error.

    The spec only says what ABS does on overflow (the bound and a MathError); every other
    operation follows the same rule, so no result ever leaves the 32-bit range silently.
    """
    if INT_MIN <= number <= INT_MAX:
        return number
    bound = INT_MAX if number > INT_MAX else INT_MIN
    errors.append(
        Failure(
            kind="math",
            message=f"{what} overflows the 32-bit integer range; the result is {bound}",
            position=position,
        )
    )
    return bound


def to_int(value: Value, errors: Errors, position: int | None) -> int:
    """Cast to Integer: booleans to 1/0, strings parsed in base 10; else 0 and a cast error."""
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int):
        return value
    number = parse_integer(value)
    if number is None:
        errors.append(
            Failure(
                kind="cast",
                message=f"cannot cast String {value!r} to Integer: "
                "expected base-10 digits with an optional sign, within 32 bits",
                position=position,
            )
        )
        return 0
    return number


def to_bool(value: Value, errors: Errors, position: int | None) -> bool:
    """Cast to Boolean implicitly: "true"/"false" in any case; anything else is a cast error.

    Integers are refused here although ``BOOL(1)`` accepts them: the TCK makes ``NOT 10`` a
    cast error, so only the explicit ``BOOL()`` turns an Integer into a Boolean.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        reason = f"cannot cast String {value!r} to Boolean: expected 'true' or 'false'"
    else:
        reason = f"no implicit cast from Integer {value} to Boolean; use BOOL({value})"
    errors.append(Failure(kind="cast", message=reason, position=position))
    return False


def to_bool_explicit(value: Value, errors: Errors, position: int | None) -> bool:
    """Cast to Boolean as ``BOOL()`` does: integers are true unless 0."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value != 0
    return to_bool(value, errors, position)


def to_str(value: Value, errors: Errors | None = None, position: int | None = None) -> str:
    """Cast to String: booleans to ``true``/``false``, integers in base 10. Never fails."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return value


def from_attribute(raw: object) -> Value | None:
    """An attribute's value as CESQL sees it (others as CloudEvents text); ``None`` if absent."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        return bool(raw)
    if isinstance(raw, int):
        # CloudEvents integers are 32-bit; a wider one is kept as text rather than truncated.
        return int(raw) if INT_MIN <= raw <= INT_MAX else str(int(raw))
    if isinstance(raw, str):
        return str.__str__(raw)  # a plain str, even from a str-based enum
    if isinstance(raw, datetime):
        text = raw.isoformat()
        return text[:-6] + "Z" if raw.utcoffset() == timedelta(0) else text
    if isinstance(raw, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(raw)).decode("ascii")
    return str(raw)
