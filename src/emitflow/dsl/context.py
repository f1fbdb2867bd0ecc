"""The validation context: where each problem is, and typed readers that report what is wrong.

Builders never raise on a bad document: they ask the context for a field, the context records
a problem (with the JSON pointer, and the line/column the loader kept) and answers ``None``, and
the builder carries on, so one pass finds every problem in the document.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from emitflow.errors import ExpressionError, Location
from emitflow.expressions import compile_expression

__all__ = ["Context", "Reference", "child", "describe", "did_you_mean", "in_order"]

Positions = Mapping[str, tuple[int, int]]


def child(pointer: str, token: str | int) -> str:
    """The JSON pointer of ``token`` under ``pointer`` (RFC 6901 escaping)."""
    text = str(token).replace("~", "~0").replace("/", "~1")
    return f"{pointer}/{text}"


def describe(value: object) -> str:
    """A short phrase naming a value's JSON type, for 'found …' in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` when a choice is close to ``word``, else ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


@dataclass(frozen=True, slots=True)
class Reference:
    """A name the document uses that must be defined under ``use`` (``kind`` is its section)."""

    kind: str
    name: str
    pointer: str


class Context:
    """Collects problems and warnings while a document is turned into the model."""

    def __init__(self, source: str | None, positions: Positions) -> None:
        self.source = source
        self.positions = positions
        self.problems: list[tuple[Location, str]] = []
        self.findings: list[tuple[Location, str]] = []
        self.expressions: list[tuple[str, str]] = []
        self.references: list[Reference] = []
        # Values that are data, not DSL: a schema's document, metadata, tags.
        self.opaque: set[str] = set()
        self._compiled: set[str] = set()
        # The rules of the DSL version the document declares (set once 'document' is read).
        self.arguments_map = False
        # (pointer, name): a loop or catch variable bound for the expressions under pointer.
        self.bindings: list[tuple[str, str]] = []

    # --- reporting ---------------------------------------------------------------------------

    def location(self, pointer: str) -> Location:
        """The place of ``pointer``: its own line/column, or its nearest placed ancestor's."""
        probe = pointer
        while probe not in self.positions and probe:
            probe = probe.rsplit("/", 1)[0]
        line, column = self.positions.get(probe, (None, None))
        return Location(self.source, line, column, pointer)

    def error(self, pointer: str, message: str) -> None:
        """Record a problem that makes the document invalid."""
        self.problems.append((self.location(pointer), message))

    def warn(self, pointer: str, message: str) -> None:
        """Record a non-fatal finding."""
        self.findings.append((self.location(pointer), message))

    @property
    def warnings(self) -> tuple[str, ...]:
        """The findings in document order, each prefixed with its place."""
        return tuple(f"{loc}: {msg}" for loc, msg in in_order(self.findings))

    def refer(self, kind: str, name: str, pointer: str) -> None:
        """Note a use of ``use.<kind>.<name>``, checked once the whole document is read."""
        self.references.append(Reference(kind, name, pointer))

    # --- expressions -------------------------------------------------------------------------

    def expression(self, pointer: str, text: str) -> bool:
        """Compile a field that is always a jq expression (``${ }`` optional); False if bad."""
        if pointer in self._compiled:
            return True
        self._compiled.add(pointer)
        try:
            compile_expression(text)
        except ExpressionError as exc:
            self.error(pointer, _expression_message(text, exc.reason))
            return False
        self.expressions.append((pointer, text))
        return True

    # --- structure ---------------------------------------------------------------------------

    def mapping(self, value: object, pointer: str, what: str) -> dict[str, Any] | None:
        """``value`` when it is an object, else a problem and None."""
        if isinstance(value, dict):
            return value
        found = describe(value)
        self.error(pointer, f"{what} must be an object (a mapping of keys to values), not {found}")
        return None

    def keys(
        self,
        obj: Mapping[str, Any],
        pointer: str,
        what: str,
        allowed: Collection[str],
        required: Mapping[str, str] | Collection[str] = (),
    ) -> None:
        """Report unknown keys (with a 'did you mean') and missing required ones.

        ``required`` may map a key to a hint saying what it is for.
        """
        for key in obj:
            if key not in allowed:
                listed = ", ".join(sorted(allowed))
                self.error(
                    child(pointer, key),
                    f"unknown key '{key}' in {what}{did_you_mean(key, allowed)} "
                    f"(allowed here: {listed})",
                )
        for key in required:
            if key not in obj:
                hint = required[key] if isinstance(required, Mapping) else ""
                message = f"'{key}' is required in {what}"
                self.error(pointer, message + (f": {hint}" if hint else ""))

    def exactly_one(
        self, obj: Mapping[str, Any], pointer: str, what: str, options: Collection[str]
    ) -> str | None:
        """The one key of ``options`` present in ``obj``; a problem if none or several."""
        present = [key for key in obj if key in options]
        if len(present) == 1:
            return present[0]
        names = ", ".join(f"'{name}'" for name in options)
        if not present:
            self.error(pointer, f"{what} needs exactly one of {names}; found none")
        else:
            found = " and ".join(f"'{name}'" for name in present)
            self.error(pointer, f"{what} takes exactly one of {names}; found {found}")
        return None

    # --- typed fields ------------------------------------------------------------------------

    def string(self, obj: Mapping[str, Any], pointer: str, key: str, hint: str = "") -> str | None:
        """An optional string field."""
        if key not in obj:
            return None
        value = obj[key]
        if isinstance(value, str):
            return value
        self._wrong(pointer, key, "a string", value, hint)
        return None

    def boolean(self, obj: Mapping[str, Any], pointer: str, key: str, default: bool) -> bool:
        """An optional boolean field."""
        value = obj.get(key, default)
        if isinstance(value, bool):
            return value
        self._wrong(pointer, key, "true or false", value)
        return default

    def integer(
        self,
        obj: Mapping[str, Any],
        pointer: str,
        key: str,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int | None:
        """An optional integer field, within bounds when given."""
        if key not in obj:
            return None
        value = obj[key]
        if not isinstance(value, int) or isinstance(value, bool):
            self._wrong(pointer, key, "an integer", value)
            return None
        low = minimum if minimum is not None else value
        high = maximum if maximum is not None else value
        if not low <= value <= high:
            message = f"'{key}' must be between {low} and {high}, found {value}"
            self.error(child(pointer, key), message)
            return None
        return value

    def choice(
        self, obj: Mapping[str, Any], pointer: str, key: str, choices: Collection[str], default: str
    ) -> str:
        """An optional string field limited to ``choices``."""
        value = obj.get(key, default)
        if isinstance(value, str) and value in choices:
            return value
        listed = ", ".join(f"'{c}'" for c in choices)
        extra = did_you_mean(value, choices) if isinstance(value, str) else ""
        found = describe(value)
        self.error(child(pointer, key), f"'{key}' must be one of {listed}, found {found}{extra}")
        return default

    def strings(self, obj: Mapping[str, Any], pointer: str, key: str) -> list[str] | None:
        """An optional list-of-strings field."""
        if key not in obj:
            return None
        value = obj[key]
        if not isinstance(value, list):
            self._wrong(pointer, key, "a list of strings", value)
            return None
        here = child(pointer, key)
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.error(child(here, index), f"expected a string, found {describe(item)}")
                return None
        return value

    def mapping_field(
        self, obj: Mapping[str, Any], pointer: str, key: str
    ) -> dict[str, Any] | None:
        """An optional object field (no constraint on its content)."""
        if key not in obj:
            return None
        value = obj[key]
        if isinstance(value, dict):
            return value
        self._wrong(pointer, key, "an object", value)
        return None

    def string_map(self, obj: Mapping[str, Any], pointer: str, key: str) -> dict[str, Any] | None:
        """An optional object whose values are all strings (headers, environment, …)."""
        value = self.mapping_field(obj, pointer, key)
        if value is None:
            return None
        here = child(pointer, key)
        for name, item in value.items():
            if not isinstance(item, str):
                self.error(
                    child(here, name),
                    f"'{name}' must be a string, found {describe(item)}"
                    + (f"; quote it: '{item}'" if isinstance(item, int | float) else ""),
                )
        return value

    def _wrong(self, pointer: str, key: str, expected: str, value: object, hint: str = "") -> None:
        message = f"'{key}' must be {expected}, found {describe(value)}"
        self.error(child(pointer, key), message + (f": {hint}" if hint else ""))


def in_order(entries: Iterable[tuple[Location, str]]) -> list[tuple[Location, str]]:
    """By place in the file (unplaced last), each entry once."""
    unique = list(dict.fromkeys(entries))
    return sorted(unique, key=lambda e: (e[0].line is None, e[0].line or 0, e[0].column or 0))


def _expression_message(text: str, reason: str) -> str:
    reason = reason.removeprefix("jq: error: ").rstrip(": ")
    message = f"invalid jq expression {text!r}: {reason}"
    inner = text.strip()
    if inner.startswith("${") and inner.count("${") > 1:
        message += (
            "; a string is an expression only as a whole '${ … }': to mix text and values use "
            'jq interpolation, e.g. ${ "order \\(.id) for \\(.name)" }'
        )
    return message
