"""The built-in CESQL functions (spec §3.5) and how a call is dispatched by name and arity.

A function declares its parameter types; the call node casts each argument to its type before
the function runs, so the bodies below may rely on them (hence the ``cast`` calls, which only
inform the type checker). ``None`` as a parameter type means "any": the cast functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias, cast

from emitflow.cesql.failures import Errors, Failure, Value
from emitflow.cesql.values import INT_MAX, INT_MIN, to_bool_explicit, to_int, to_str

__all__ = ["BUILTINS", "Function", "resolve"]

Body: TypeAlias = Callable[[Sequence[Value], Errors, "int | None"], Value]

# The characters with the Unicode White_Space property: str.strip() would also remove the
# separators U+001C..U+001F, which the spec says TRIM must keep (they are control characters).
_WHITE_SPACE: Final = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Function:
    """One function overload: name, parameter types, variadic tail type and result type."""

    name: str
    params: tuple[type | None, ...]
    returns: type
    body: Body
    #: The type of every argument past ``params``; ``None`` makes the arity fixed.
    variadic: type | None = None

    def accepts(self, count: int) -> bool:
        """True when this overload takes ``count`` arguments."""
        fixed = len(self.params)
        return count == fixed or (self.variadic is not None and count > fixed)

    def signature(self) -> str:
        """How messages show this overload, e.g. ``LEFT(String, Integer)``."""
        names: dict[type | None, str] = {
            bool: "Boolean",
            int: "Integer",
            str: "String",
            None: "Any",
        }
        parts = [names[param] for param in self.params]
        if self.variadic is not None:
            parts.append(names[self.variadic] + "...")
        return f"{self.name}({', '.join(parts)})"


def _failed(errors: Errors, position: int | None, message: str) -> None:
    errors.append(Failure(kind="functionEvaluation", message=message, position=position))


def _length(args: Sequence[Value], errors: Errors, position: int | None) -> Value:
    return len(cast(str, args[0]))


def _concat(args: Sequence[Value], errors: Errors, position: int | None) -> Value:
    return "".join(cast(Sequence[str], args))


def _concat_ws(args: Sequence[Value], errors: Errors, position: int | None) -> Value:
    return cast(str, args[0]).join(cast(Sequence[str], args[1:]))


def _lower(args: Sequence[Value], errors: Errors, position: int | None) -> Value:
    return cast(str, args[0]).lower()


def _upper(args: Sequence[Value], errors: Errors, position: int | None) -> Value:
    return cast(str, args[0]).upper()


def _trim(args: Sequence[Value], errors: Errors, position: int | None) -> Value:
    return cast(str, args[0]).strip(_WHITE_SPACE)


def _left(args: Sequence[Value], errors: Errors, position: int | None) -> Value:
    text, count = cast(str, args[0]), cast(int, args[1])
    if count < 0:
        _failed(errors, position, f"LEFT needs a length of 0 or more, not {count}")
        return text
    return text[:count]


def _right(args: Sequence[Value], errors: Errors, position: int | None) -> Value:
    text, count = cast(str, args[0]), cast(int, args[1])
    if count < 0:
        _failed(errors, position, f"RIGHT needs a length of 0 or more, not {count}")
        return text
    return text[len(text) - count :] if count < len(text) else text


def _substring(args: Sequence[Value], errors: Errors, position: int | None) -> Value:
    text, start = cast(str, args[0]), cast(int, args[1])
    length = cast(int, args[2]) if len(args) > 2 else None
    size = len(text)
    if not -size <= start <= size:
        _failed(errors, position, f"SUBSTRING position {start} is outside -{size}..{size}")
        return ""
    if length is not None and length < 0:
        _failed(errors, position, f"SUBSTRING needs a length of 0 or more, not {length}")
        return ""
    if start == 0:
        return ""
    # 1-based from the start, or counted back from the end when negative.
    begin = start - 1 if start > 0 else size + start
    return text[begin:] if length is None else text[begin : begin + length]


def _abs(args: Sequence[Value], errors: Errors, position: int | None) -> Value:
    number = cast(int, args[0])
    if number == INT_MIN:
        errors.append(
            Failure(
                kind="math",
                message=f"ABS({INT_MIN}) overflows the 32-bit integer range; the result is "
                f"{INT_MAX}",
                position=position,
            )
        )
        return INT_MAX
    return abs(number)


def _int(args: Sequence[Value], errors: Errors, position: int | None) -> Value:
    return to_int(args[0], errors, position)


def _bool(args: Sequence[Value], errors: Errors, position: int | None) -> Value:
    return to_bool_explicit(args[0], errors, position)


def _string(args: Sequence[Value], errors: Errors, position: int | None) -> Value:
    return to_str(args[0])


def _define(*functions: Function) -> dict[str, tuple[Function, ...]]:
    table: dict[str, tuple[Function, ...]] = {}
    for function in functions:
        table[function.name] = (*table.get(function.name, ()), function)
    return table


#: Every built-in overload, by upper-case name.
BUILTINS: Final = _define(
    Function(name="LENGTH", params=(str,), returns=int, body=_length),
    Function(name="CONCAT", params=(), variadic=str, returns=str, body=_concat),
    Function(name="CONCAT_WS", params=(str,), variadic=str, returns=str, body=_concat_ws),
    Function(name="LOWER", params=(str,), returns=str, body=_lower),
    Function(name="UPPER", params=(str,), returns=str, body=_upper),
    Function(name="TRIM", params=(str,), returns=str, body=_trim),
    Function(name="LEFT", params=(str, int), returns=str, body=_left),
    Function(name="RIGHT", params=(str, int), returns=str, body=_right),
    Function(name="SUBSTRING", params=(str, int), returns=str, body=_substring),
    Function(name="SUBSTRING", params=(str, int, int), returns=str, body=_substring),
    Function(name="ABS", params=(int,), returns=int, body=_abs),
    Function(name="INT", params=(None,), returns=int, body=_int),
    Function(name="BOOL", params=(None,), returns=bool, body=_bool),
    Function(name="STRING", params=(None,), returns=str, body=_string),
)


def resolve(name: str, count: int) -> Function | Failure:
    """The overload of ``name`` taking ``count`` arguments, or a ``missingFunction`` failure."""
    overloads = BUILTINS.get(name.upper(), ())
    for function in overloads:
        if function.accepts(count):
            return function
    if overloads:
        known = ", ".join(function.signature() for function in overloads)
        message = f"{name} does not take {count} argument(s); it is {known}"
    else:
        message = f"there is no function {name}; the built-ins are {', '.join(sorted(BUILTINS))}"
    return Failure(kind="missingFunction", message=message)
