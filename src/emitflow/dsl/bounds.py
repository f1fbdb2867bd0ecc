"""The bounds a YAML document's node graph must keep before anything is built from it.

ruamel composes a document into a graph of nodes first, where an alias is the very node its
anchor names; only construction copies it out. Checking the graph before construction costs one
pass over the distinct nodes, so a small file whose aliases expand into millions of values
("billion laughs"), a deep nesting, or a tag that would build something other than JSON data is
refused in a few milliseconds, never after expanding it.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.nodes import MappingNode, Node, SequenceNode
from ruamel.yaml.scanner import RoundTripScanner

from emitflow.errors import DocumentError, Location

__all__ = ["MAX_ALIAS_VALUES", "MAX_DEPTH", "MAX_VALUES", "BoundedScanner", "check_graph"]

#: Deeper nesting is refused (documented in the README; real workflows stay far below).
MAX_DEPTH = 64
#: A document may hold at most this many values once its aliases are expanded.
MAX_VALUES = 1_000_000
#: Aliases may add at most this many values to a document (their expansion beyond the text).
MAX_ALIAS_VALUES = 100_000

_CORE = "tag:yaml.org,2002:"
#: The YAML 1.2 core schema's tags (timestamps are read as strings, ``<<`` merges maps).
_ALLOWED = frozenset(
    _CORE + name for name in ("map", "seq", "str", "int", "float", "bool", "null", "timestamp")
) | {_CORE + "merge"}


class BoundedScanner(RoundTripScanner):
    """ruamel's scanner, stopping at the first bracket or indentation past ``MAX_DEPTH``.

    The scanner's cost grows with the square of the open flow levels (10,000 nested ``[`` took
    11 s), so a deep document is refused while it is read, before the graph exists.
    """

    source: str | None = None

    def fetch_flow_collection_start(self, TokenClass: Any, to_push: str) -> None:
        """Open a ``[`` or ``{``, unless it is one level too many."""
        if len(self.flow_context) >= MAX_DEPTH:
            self._too_deep()
        super().fetch_flow_collection_start(TokenClass, to_push)

    def add_indent(self, column: int) -> bool:
        """Open an indentation level, unless it is one level too many."""
        if len(self.indents) >= MAX_DEPTH:
            self._too_deep()
        return bool(super().add_indent(column))

    def _too_deep(self) -> None:
        mark = self.reader.get_mark()
        raise DocumentError(
            [
                (
                    Location(self.source, mark.line + 1, mark.column + 1, ""),
                    f"the document is nested too deeply (limit {MAX_DEPTH} levels); flatten it, "
                    "or move deep data out of the definition",
                )
            ]
        )


def check_graph(root: Node, source: str | None) -> None:
    """``DocumentError`` when the graph has a foreign tag, is too deep, or expands too far."""
    walk = _Walk(source)
    size, _ = walk.measure(root, 0)
    added = size - len(walk.sizes)
    if added > MAX_ALIAS_VALUES or size > MAX_VALUES:
        walk.refuse(
            root,
            f"the document's YAML aliases expand it to {size:,} values ({added:,} more than it "
            f"writes out); emitflow refuses documents whose aliases add more than "
            f"{MAX_ALIAS_VALUES:,} values: write the repeated parts out, or move the data "
            "out of the definition",
        )


class _Walk:
    """One pass over the distinct nodes, each measured once (aliases share their node)."""

    def __init__(self, source: str | None) -> None:
        self.source = source
        self.sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded values, height)
        self._active: set[int] = set()

    def measure(self, node: Node, depth: int) -> tuple[int, int]:
        """(values once expanded, height) of ``node``, which sits ``depth`` levels down."""
        known = self.sizes.get(id(node))
        if known is not None:
            if depth + known[1] > MAX_DEPTH:
                self._too_deep(node)
            return known
        if depth > MAX_DEPTH:
            self._too_deep(node)
        self._tag(node)
        if not isinstance(node, MappingNode | SequenceNode):
            self.sizes[id(node)] = (1, 0)
            return 1, 0
        if id(node) in self._active:
            self.refuse(node, "a YAML alias refers to a value that contains it (a cycle)")
        self._active.add(id(node))
        total, height = 1, 0
        for item in _children(node):
            size, below = self.measure(item, depth + 1)
            total += size
            height = max(height, below + 1)
        self._active.discard(id(node))
        self.sizes[id(node)] = (total, height)
        return total, height

    def _tag(self, node: Node) -> None:
        tag: Any = node.tag
        text = str(getattr(tag, "value", tag) or "")
        if not text or text in _ALLOWED:
            return
        shown = "!!" + text[len(_CORE) :] if text.startswith(_CORE) else text
        if shown == "!!binary":
            message = "binary values (!!binary) are not JSON; write the data as a base64 string"
        else:
            message = (
                f"the YAML tag '{shown}' is not supported: a workflow document is plain JSON "
                "data (mappings, lists, strings, numbers, booleans, null); remove the tag"
            )
        self.refuse(node, message)

    def _too_deep(self, node: Node) -> None:
        self.refuse(
            node,
            f"the document is nested too deeply (limit {MAX_DEPTH} levels); flatten it, or move "
            "deep data out of the definition",
        )

    def refuse(self, node: Node, message: str) -> None:
        """Stop with ``message`` placed at ``node``."""
        mark = node.start_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise DocumentError([(Location(self.source, line, column, ""), message)])


def _children(node: MappingNode | SequenceNode) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    return [part for pair in node.value for part in pair]
