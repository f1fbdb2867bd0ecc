"""What an evaluation reports besides its value: the CESQL error values and the result pair.

CESQL errors are values, not exceptions: an expression always yields a value, and the errors met
on the way travel beside it (spec §3.3). A :class:`Failure` is one such error; only ``compile``
raises, and only :class:`~emitflow.errors.CesqlParseError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from emitflow.errors import CesqlError, CesqlParseError

__all__ = ["Errors", "Failure", "Kind", "Result", "Value", "describe_position"]

#: A CESQL value: the spec's Boolean, 32-bit Integer and String.
Value: TypeAlias = bool | int | str

#: The error types every CESQL engine must report (spec §3.3), spelled as the TCK spells them.
Kind: TypeAlias = Literal[
    "parse",
    "math",
    "cast",
    "missingFunction",
    "functionEvaluation",
    "missingAttribute",
    "generic",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """One CESQL error value: its kind, a readable message and where in the expression it arose."""

    kind: Kind
    message: str
    #: 0-based character offset in the expression text, when known.
    position: int | None = None

    def __str__(self) -> str:
        return self.message

    def to_exception(self) -> CesqlError:
        """This failure as an exception to raise (a ``CesqlParseError`` for ``parse``)."""
        if self.kind == "parse":
            return CesqlParseError(self.message)
        return CesqlError(f"{self.kind}: {self.message}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """The outcome of an evaluation: its value and the errors met, in order.

    The first error winds evaluation up (each enclosing operator takes its zero value), so
    ``errors`` holds that error and any the same operator met alongside it, as the spec's
    fail-fast mode (§4.1) reports.
    """

    value: Value
    errors: tuple[Failure, ...] = ()

    @property
    def error(self) -> Failure | None:
        """The first error met, or ``None`` when the evaluation was clean."""
        return self.errors[0] if self.errors else None

    @property
    def ok(self) -> bool:
        """True when no error was met."""
        return not self.errors


#: Where evaluation puts the errors it meets, in order. The first one winds evaluation up: every
#: operator still running sees the list is no longer empty and yields its zero value.
Errors: TypeAlias = "list[Failure]"


def describe_position(text: str, position: int) -> str:
    """``column 5`` for one-line text, ``line 2, column 3`` otherwise (both 1-based)."""
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    if "\n" not in text:
        return f"column {column}"
    return f"line {line}, column {column}"
