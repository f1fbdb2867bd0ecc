"""Reading YAML 1.2 and JSON text into plain data, keeping the line/column of every key and item.

ruamel.yaml's round-trip loader reads YAML 1.2, so ``on:`` stays the string ``"on"`` (PyYAML's
YAML 1.1 turns it into ``True``), and it records where each key and item starts. The loaded tree
is converted to plain ``dict``/``list``/``str``/``int``/``float``/``bool``/``None``; anything that
is not JSON (binary, custom tags, ``.nan``) is a problem with its place, never a stack trace.

A document libyaml reads as surely (``emitflow.dsl.libyaml``) is read by libyaml (about 20 times
faster for a small workflow); every other document, and every error, comes from ruamel.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from emitflow.dsl.bounds import MAX_DEPTH, MAX_VALUES, BoundedScanner, check_graph
from emitflow.dsl.context import child, describe
from emitflow.dsl.libyaml import read_fast
from emitflow.errors import DocumentError, Location

__all__ = ["MAX_DEPTH", "MAX_DOCUMENT_BYTES", "MAX_VALUES", "Loaded", "plain", "read_text"]

#: Documents larger than this are refused before parsing.
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024

Format = Literal["yaml", "json"]


class _Constructor(RoundTripConstructor):
    """Timestamps stay strings: JSON has no date type and YAML 1.2's core schema has none.

    The composed node graph is checked (tags, depth, alias expansion) before it is constructed.
    """

    source: str | None = None

    def construct_document(self, node: Any) -> Any:
        """The document's data, once its node graph is within bounds."""
        check_graph(node, self.source)
        return super().construct_document(node)


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_str)


@dataclass(frozen=True, slots=True)
class Loaded:
    """Plain data and the (line, column) of each JSON pointer, both 1-based."""

    data: Any
    positions: Mapping[str, tuple[int, int]] = field(default_factory=dict)


def _parser(source: str | None = None) -> YAML:
    yaml = YAML(typ="rt")
    yaml.Constructor = type("_Bound", (_Constructor,), {"source": source})
    yaml.Scanner = type("_BoundScanner", (BoundedScanner,), {"source": source})
    yaml.version = (1, 2)
    return yaml


def read_text(text: str, *, source: str | None, format: Format | None, fast: bool = True) -> Loaded:
    """Parse a whole document; ``DocumentError`` for syntax, size, or non-JSON values.

    ``fast``: YAML that libyaml reads as surely is read by libyaml; ``False``: always ruamel.
    """
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_DOCUMENT_BYTES:
        _fail(source, None, _too_large(size))
    if not text.strip():
        _fail(source, (1, 1), "the document is empty: a workflow needs 'document' and 'do'")
    positions: dict[str, tuple[int, int]] = {}
    if format == "json":
        node, positions = _load_json(text, source, fast=fast)
    else:
        read = read_fast(text) if fast else None
        if read is not None:
            return Loaded(*read)
        node = _load_yaml(text, source, json_like=format is None and text.lstrip()[:1] == "{")
    converter = _Converter(source, positions)
    data = converter.convert(node, "", 0)
    if converter.problems:
        raise DocumentError(converter.problems)
    return Loaded(data, converter.positions)


def plain(value: Any, *, source: str | None) -> Any:
    """Check that an already parsed value is plain JSON data and copy it; else DocumentError."""
    converter = _Converter(source)
    data = converter.convert(value, "", 0)
    if converter.problems:
        raise DocumentError(converter.problems)
    return data


def _too_large(size: int) -> str:
    limit = MAX_DOCUMENT_BYTES // (1024 * 1024)
    return (
        f"the document is {size / (1024 * 1024):.1f} MiB; emitflow refuses workflow documents "
        f"over {limit} MiB (split large data out of the definition)"
    )


def _fail(source: str | None, place: tuple[int, int] | None, message: str) -> NoReturn:
    line, column = place if place else (None, None)
    raise DocumentError([(Location(source, line, column, ""), message)])


def _load_yaml(text: str, source: str | None, *, json_like: bool) -> Any:
    try:
        return _parser(source).load(text)
    except DocumentError:
        raise
    except YAMLError as exc:
        if json_like:
            # The text looks like JSON: read it as JSON, whose message is the useful one.
            return _json_syntax(text, source)
        place, message = _yaml_problem(exc)
        _fail(source, place, message)
    except RecursionError:
        _fail(source, None, f"the document is nested too deeply (limit {MAX_DEPTH} levels)")
    except Exception as exc:
        # ruamel fails on some inputs with plain errors (a TypeError for a mapping used inside
        # a complex key): translated into the document's problem, not lost.
        message = (
            f"the YAML parser cannot read this document ({exc}); a workflow document is plain "
            "YAML 1.2 mappings, lists and scalars"
        )
        raise DocumentError([(Location(source), message)]) from exc


def _load_json(
    text: str, source: str | None, *, fast: bool
) -> tuple[Any, dict[str, tuple[int, int]]]:
    """The JSON data, and the line and column of its keys and items when they can be read."""
    data = _json_syntax(text, source)
    read = read_fast(text) if fast else None
    if read is not None and json.dumps(read[0]) == json.dumps(data):
        # JSON is YAML 1.2, and libyaml read the same data: its places are ruamel's.
        return data, read[1]
    try:
        # Reading the text again with ruamel gives every key's line and column.
        placed = _parser().load(text)
    except DuplicateKeyError as exc:
        place, message = _yaml_problem(exc)
        _fail(source, place, message)
    except Exception:
        # Valid JSON ruamel cannot read (tabs between tokens, very long keys): keep it, unplaced.
        return data, {}
    # ruamel only places the keys: it decodes some JSON escapes (surrogate pairs) wrongly.
    return data, _Converter(source).placed(placed)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _json_syntax(text: str, source: str | None) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        _fail(source, (exc.lineno, exc.colno), f"invalid JSON: {exc.msg}{_json_hint(exc.msg)}")
    except ValueError as exc:
        _fail(source, None, f"invalid JSON: {exc}")
    except RecursionError:
        _fail(source, None, f"the document is nested too deeply (limit {MAX_DEPTH} levels)")


def _json_hint(msg: str) -> str:
    if "property name" in msg:
        return " (JSON keys are double-quoted strings, and a trailing comma is not allowed)"
    if "delimiter" in msg:
        return " (items and members are separated by commas)"
    if "Extra data" in msg:
        return " (a JSON document is one value; wrap several in a list or object)"
    return ""


_DUPLICATE = re.compile(r'duplicate key "(.*?)"')


def _yaml_problem(exc: YAMLError) -> tuple[tuple[int, int] | None, str]:
    if not isinstance(exc, MarkedYAMLError):
        return None, f"invalid YAML: {str(exc).strip().splitlines()[0]}"
    mark = exc.problem_mark or exc.context_mark
    place = (mark.line + 1, mark.column + 1) if mark is not None else None
    problem = str(exc.problem or "").strip()
    if isinstance(exc, DuplicateKeyError):
        found = _DUPLICATE.search(problem)
        key = found.group(1) if found else "?"
        return place, (
            f"duplicate key '{key}': a key may appear only once in a mapping; "
            "remove or rename one of them"
        )
    if "'\\t'" in problem:
        return place, (
            "a tab character where YAML expects indentation or a token; YAML indents with "
            "spaces only: replace the tab with spaces"
        )
    context = str(exc.context or "").strip()
    return place, "invalid YAML: " + problem + (f" ({context})" if context else "")


class _Converter:
    """Walks a loaded tree into plain JSON data, recording positions and non-JSON values."""

    def __init__(
        self, source: str | None, positions: dict[str, tuple[int, int]] | None = None
    ) -> None:
        self.source = source
        self.positions: dict[str, tuple[int, int]] = dict(positions or {})
        self.problems: list[tuple[Location, str]] = []
        self._count = 0
        self._active: set[int] = set()

    def _problem(self, pointer: str, message: str) -> None:
        probe = pointer
        while probe not in self.positions and probe:
            probe = probe.rsplit("/", 1)[0]
        line, column = self.positions.get(probe, (None, None))
        self.problems.append((Location(self.source, line, column, pointer), message))

    def placed(self, node: Any) -> dict[str, tuple[int, int]]:
        """Only the positions of a loaded tree."""
        self.convert(node, "", 0)
        return self.positions

    def convert(self, value: Any, pointer: str, depth: int) -> Any:
        """The plain copy of ``value`` (problems recorded, never raised)."""
        self._count += 1
        if self._count > MAX_VALUES or depth > MAX_DEPTH:
            if self._count == MAX_VALUES + 1 or depth == MAX_DEPTH + 1:
                self._problem(pointer, _limit_message(depth))
            return None
        if isinstance(value, dict | list | tuple):
            if id(value) in self._active:
                message = "a YAML alias refers to a value that contains it; documents are trees"
                self._problem(pointer, message)
                return None
            self._active.add(id(value))
            try:
                if isinstance(value, dict):
                    return self._mapping(value, pointer, depth)
                return self._sequence(value, pointer, depth)
            finally:
                self._active.discard(id(value))
        return self._scalar(value, pointer)

    def _mapping(self, value: dict[Any, Any], pointer: str, depth: int) -> dict[str, Any]:
        if depth == 0:
            self._place("", value, None)
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                here = child(pointer, str(key))
                self._place(here, value, key)
                quote = f"; quote it: '{key}'" if isinstance(key, int | float) else ""
                self._problem(here, f"a mapping key must be a string, found {describe(key)}{quote}")
                continue
            here = child(pointer, key)
            self._place(here, value, key)
            name = self._text(key, here)
            if name is not None:
                out[name] = self.convert(item, here, depth + 1)
        return out

    def _sequence(self, value: list[Any] | tuple[Any, ...], pointer: str, depth: int) -> list[Any]:
        if depth == 0:
            self._place("", value, None)
        out: list[Any] = []
        for index, item in enumerate(value):
            here = child(pointer, index)
            self._place(here, value, index)
            out.append(self.convert(item, here, depth + 1))
        return out

    def _place(self, pointer: str, container: Any, key: Any) -> None:
        lc = getattr(container, "lc", None)
        if lc is None or pointer in self.positions:
            return
        if key is None:
            if lc.line is not None:
                self.positions[pointer] = (lc.line + 1, lc.col + 1)
            return
        # A mapping merged in (``<<: {…}``) may have no positions recorded.
        data = lc.data.get(key) if lc.data is not None else None
        if data:
            self.positions[pointer] = (data[0] + 1, data[1] + 1)

    def _text(self, value: str, pointer: str) -> str | None:
        if not _SURROGATE.search(value):
            return str(value)
        try:
            # A "\ud83d\ude00" escape pair is one character; join the halves.
            return value.encode("utf-16", "surrogatepass").decode("utf-16")
        except UnicodeDecodeError:
            self._problem(pointer, "this text holds an unpaired surrogate, which is not Unicode")
            return None

    def _scalar(self, value: Any, pointer: str) -> Any:
        if value is None or isinstance(value, bool):
            return value
        if type(value).__name__ == "ScalarBoolean":
            return bool(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                self._problem(pointer, f"{value} is not a JSON number; quote it if it is text")
                return None
            return float(value)
        if isinstance(value, str):
            return self._text(value, pointer)
        self._problem(pointer, _non_json(value))
        return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _limit_message(depth: int) -> str:
    if depth > MAX_DEPTH:
        return f"the document is nested too deeply (limit {MAX_DEPTH} levels)"
    return (
        f"the document expands to more than {MAX_VALUES} values (through YAML aliases); "
        "emitflow refuses it"
    )


def _non_json(value: Any) -> str:
    tag = getattr(value, "tag", None)
    tag_text = getattr(tag, "value", tag)
    if isinstance(value, bytes):
        return "binary values (!!binary) are not JSON; write the data as a base64 string"
    if tag_text:
        return f"the YAML tag '{tag_text}' is not supported: a workflow document is plain JSON data"
    return f"a {type(value).__name__} is not a JSON value; use strings, numbers, booleans, null"
