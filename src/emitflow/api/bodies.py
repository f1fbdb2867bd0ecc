"""``parse_json``: the one way the API reads a JSON request body.

Python's ``json`` module is lenient where JSON is not: it reads ``NaN``, ``Infinity`` and
``-Infinity``, turns ``1e400`` into an infinite float, keeps an escaped lone surrogate
(``"\\ud800"``) as a string no encoder can write, and nests until the interpreter's recursion
limit. Any of these reaching the store or a code step was a 500. Every route that takes JSON
(hooks, events in all three modes, run inputs, subscription filters, workflow documents) reads
its body here instead, and each of those inputs is a 400 in the API's error shape naming the
problem and its place (a JSON pointer, or the line and column):

- the body must be UTF-8;
- numbers must be finite 64-bit floats or integers in that range;
- strings and keys must be Unicode (an escaped surrogate must be half of a pair);
- nesting is bounded: ``MAX_JSON_DEPTH`` (64) levels of arrays and objects for data, the DSL's
  own bound for workflow documents.

The parse itself runs in C (the number checks are called per number token); nesting is
measured on the text with C-speed scans when it holds more brackets than the bound; the parsed
tree is walked, to name the place, only when the text is too deep or holds a surrogate escape.
Figures beside a bare ``json.loads`` are in BENCHMARKS.md (``bench_json_body``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from emitflow.errors import RequestError

__all__ = ["MAX_JSON_DEPTH", "JsonBodyError", "parse_json"]

#: How deeply arrays and objects may nest in a request's JSON data (the top level is 1).
MAX_JSON_DEPTH = 64

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(range(256)).translate(None, b"[]{}")
# Past this many digits an integer may not fit a double; shorter ones always do.
_SAFE_DIGITS = 308


class JsonBodyError(RequestError):
    """A request body that is not acceptable JSON. ``syntax`` is true when it is not JSON at
    all (a hook keeps such a body as text); false when it is JSON-like but refused."""

    def __init__(self, message: str, *, syntax: bool, details: Any = None) -> None:
        super().__init__(400, "invalid_json", message, details)
        self.syntax = syntax


class _Refused(ValueError):
    """A constant the lenient parser would accept but JSON cannot hold."""


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number; send a finite number, a string or null")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(_overflow(text))
    return value


def _int(text: str) -> int:
    if len(text) > _SAFE_DIGITS and not math.isfinite(float(text)):
        raise _Refused(_overflow(text))
    return int(text)


def _overflow(text: str) -> str:
    shown = text if len(text) <= 24 else f"{text[:20]}… ({len(text)} characters)"
    return f"the number {shown} overflows a 64-bit float; send it as a string"


def parse_json(
    body: bytes | str, *, what: str = "the body", max_depth: int = MAX_JSON_DEPTH
) -> Any:
    """The JSON value of a request body, or a ``JsonBodyError`` (400) naming what is wrong."""
    text = _text(body, what)
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except _Refused as exc:
        raise JsonBodyError(f"{what}: {exc}", syntax=False) from exc
    except json.JSONDecodeError as exc:
        raise JsonBodyError(
            f"{what} is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            syntax=True,
            details={"line": exc.lineno, "column": exc.colno},
        ) from exc
    except RecursionError as exc:
        raise JsonBodyError(_too_deep(what, "", max_depth), syntax=False) from exc
    except ValueError as exc:  # e.g. an integer past the interpreter's digit limit
        raise JsonBodyError(f"{what}: {exc}", syntax=False) from exc
    # The parse above runs in C; the tree is walked (to name the place) only when a scan of
    # the text finds a lone surrogate escape or nesting past the bound, which ordinary bodies
    # never have.
    surrogates = "\\u" in text and _SURROGATE_ESCAPE.search(text) is not None
    deep = text.count("[") + text.count("{") > max_depth and _nests_past(text, max_depth)
    if surrogates or deep:
        _Walk(what, max_depth, surrogates=surrogates).check(value)
    return value


def _text(body: bytes | str, what: str) -> str:
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonBodyError(
            f"{what} is not UTF-8 (byte {exc.start}); JSON is sent as UTF-8", syntax=True
        ) from exc


def _nests_past(text: str, limit: int) -> bool:
    """Whether the (valid) JSON text nests arrays and objects more than ``limit`` deep.

    Strings are blanked, everything but brackets dropped, and the innermost pairs removed
    once per level: C-speed scans, at most ``limit + 1`` of them.
    """
    brackets = _STRING.sub('""', text).encode().translate(None, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"").replace(b"{}", b"")
    return bool(brackets)


def _too_deep(what: str, pointer: str, max_depth: int) -> str:
    place = f" at {pointer}" if pointer else ""
    return (
        f"{what} nests arrays and objects more than {max_depth} levels deep{place}; "
        "flatten the data"
    )


class _Walk:
    """Finds the first value of a parsed body that breaks a rule, with its JSON pointer."""

    def __init__(self, what: str, max_depth: int, *, surrogates: bool) -> None:
        self._what = what
        self._max_depth = max_depth
        self._surrogates = surrogates

    def check(self, value: Any) -> None:
        # Iterative, so that the walk itself cannot hit the recursion limit.
        stack: list[tuple[Any, str, int]] = [(value, "", 1)]
        while stack:
            item, pointer, depth = stack.pop()
            if isinstance(item, dict | list):
                if depth > self._max_depth:
                    message = _too_deep(self._what, pointer, self._max_depth)
                    self._fail(message, pointer)
                pairs = item.items() if isinstance(item, dict) else enumerate(item)
                for key, child in pairs:
                    here = f"{pointer}/{_escape(str(key))}"
                    if isinstance(key, str):
                        self._string(key, here)
                    stack.append((child, here, depth + 1))
            elif isinstance(item, str):
                self._string(item, pointer)

    def _string(self, text: str, pointer: str) -> None:
        if self._surrogates and _SURROGATE.search(text) is not None:
            self._fail(
                f"{self._what} holds an unpaired surrogate escape at {pointer or '/'}: that is "
                "not Unicode text; escape a character outside the BMP as a surrogate pair",
                pointer,
            )

    def _fail(self, message: str, pointer: str) -> None:
        raise JsonBodyError(message, syntax=False, details={"path": pointer or "/"})


def _escape(key: str) -> str:
    shown = key.encode("utf-8", "backslashreplace").decode("utf-8")
    return shown.replace("~", "~0").replace("/", "~1")
