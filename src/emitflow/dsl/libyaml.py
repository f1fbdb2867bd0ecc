"""The fast way to read a YAML document: libyaml's C parser, composed into ruamel's node graph.

ruamel.yaml's scanner and composer are pure Python: 1.5 ms for a six-line workflow, more than a
whole deploy should cost. libyaml (PyYAML's ``_yaml`` extension) parses the same text into
events in C; they are composed here into the node graph ruamel would compose, resolved with
ruamel's own YAML 1.2 resolver (``on`` and ``yes`` stay strings, timestamps are strings), and
``check_graph`` holds it to the same bounds.

This path only takes what it is sure to read exactly as the ruamel path does: plain mappings,
lists and scalars, string keys once each, numbers written in decimal. Anything else (a tag, an
anchor or alias, a merge key ``<<``, a directive, several documents, tabs or unusual line
breaks, a number ruamel would read its own way, any parser error) returns ``None``: the caller
reads the text with ruamel, whose messages and places stay the reference for every error.
"""

from __future__ import annotations

import functools
import math
import re
from types import ModuleType
from typing import Any

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tag import Tag

from emitflow.dsl.bounds import MAX_DEPTH, check_graph
from emitflow.dsl.context import child

__all__ = ["available", "read_fast"]

Positions = dict[str, tuple[int, int]]

_CORE = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (
    _CORE + name for name in ("str", "int", "float", "bool", "null")
)
#: Plain scalars ruamel reads as strings: text, and timestamps (the DSL has no date type).
_TEXT = frozenset({_STR, _CORE + "timestamp"})
_SCALAR_TAGS = {name: Tag(suffix=name) for name in (_STR, _INT, _FLOAT, _BOOL, _NULL)}
_STR_TAG = _SCALAR_TAGS[_STR]
_SEQ_TAG = Tag(suffix=_CORE + "seq")
_MAP_TAG = Tag(suffix=_CORE + "map")
#: Numbers whose value is what Python's ``int``/``float`` make of the text, as ruamel's are;
#: other forms (``0x1F``, ``0o17``, ``1_000``, ``.5``, ``.inf``) are left to ruamel.
_DECIMAL = re.compile(r"[-+]?[0-9]+")
_FLOATING = re.compile(r"[-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?")
#: Characters the two parsers may treat differently (tabs, line breaks other than ``\n``, a
#: byte order mark inside the text, text ruamel's reader refuses, surrogates): ruamel reads them.
_UNSURE_TEXT = re.compile(
    "[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
#: The ASCII characters this path reads (the same test for ASCII text, at C speed).
_ASCII_SURE = bytes([0x0A, *range(0x20, 0x7F)])
_SURROGATE = re.compile("[\ud800-\udfff]")
#: ruamel's YAML 1.2 implicit resolvers: first character → [(tag, pattern)].
_RESOLVERS: dict[Any, list[tuple[str, Any]]] = VersionedResolver(version=(1, 2)).versioned_resolver


@functools.cache
def _libyaml() -> tuple[type[Any], ModuleType] | None:
    """libyaml's parser and PyYAML's event classes, imported when first needed (``import
    yaml`` takes about 10 ms, which a command that reads no YAML need not pay)."""
    try:
        from yaml import events
        from yaml._yaml import CParser
    except ImportError:  # PyYAML without libyaml: every document takes the ruamel path
        return None
    return CParser, events


class _Unsure(Exception):
    """The document is left to the ruamel path."""


def available() -> bool:
    """Whether libyaml is installed (PyYAML built with its C extension)."""
    return _libyaml() is not None


def read_fast(text: str) -> tuple[Any, Positions] | None:
    """The plain data and positions the ruamel path would give, or ``None`` to take that path."""
    found = _libyaml()
    if found is None or _unsure_text(text):
        return None
    parser_class, events = found
    parser = parser_class(text)
    try:
        root = _compose(parser, events)
        check_graph(root, None)
        return _plain(root)
    except Exception:
        # Anything this path cannot read (a parser error, a refused graph, a form left to
        # ruamel) is read again by ruamel, which raises the error with its message and place.
        return None
    finally:
        parser.dispose()


def _unsure_text(text: str) -> bool:
    if text.isascii():
        return bool(text.encode("ascii").translate(None, _ASCII_SURE))
    return _UNSURE_TEXT.search(text) is not None


def _compose(parser: Any, events: ModuleType) -> Node:
    """The single document's node graph, built from libyaml's events without recursion."""
    _expect(parser.get_event(), events.StreamStartEvent)
    start = parser.get_event()
    _expect(start, events.DocumentStartEvent)
    if start.version is not None or start.tags:
        raise _Unsure("directive")
    scalar, sequence, mapping = (
        events.ScalarEvent,
        events.SequenceStartEvent,
        events.MappingStartEvent,
    )
    ends = (events.SequenceEndEvent, events.MappingEndEvent)
    root: Node | None = None
    stack: list[Node] = []
    while root is None:
        event = parser.get_event()
        kind = type(event)
        if kind is scalar:
            node: Node = _scalar(event)
        elif kind is sequence or kind is mapping:
            if event.anchor is not None or event.tag is not None:
                raise _Unsure("anchor or tag")
            if len(stack) >= MAX_DEPTH:
                raise _Unsure("deep")  # stop reading: ruamel refuses it with its own message
            if kind is sequence:
                stack.append(SequenceNode(_SEQ_TAG, [], event.start_mark))
            else:
                stack.append(MappingNode(_MAP_TAG, [], event.start_mark))
            continue
        elif kind in ends:
            node = stack.pop()
            node.end_mark = event.end_mark
        else:
            raise _Unsure(kind.__name__)  # an alias
        if not stack:
            root = node
        elif type(stack[-1]) is SequenceNode:
            stack[-1].value.append(node)
        else:
            _add(stack[-1], node)
    _expect(parser.get_event(), events.DocumentEndEvent)
    _expect(parser.get_event(), events.StreamEndEvent)
    return root


def _expect(event: Any, kind: type) -> None:
    if not isinstance(event, kind):
        raise _Unsure(type(event).__name__)


def _scalar(event: Any) -> ScalarNode:
    if event.anchor is not None or event.tag is not None:
        raise _Unsure("anchor or tag")
    plain, quoted = event.implicit
    if plain:
        tag = _SCALAR_TAGS.get(_resolve(event.value))
        if tag is None:
            raise _Unsure("a merge key or '='")
    elif quoted:
        tag = _STR_TAG
    else:
        raise _Unsure("non-specific tag")
    return ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)


@functools.lru_cache(maxsize=4096)
def _resolve(value: str) -> str:
    """The tag of a plain scalar, found as ``VersionedResolver.resolve`` finds it (keys and
    words repeat from one document to the next: cached)."""
    for tag, pattern in _RESOLVERS.get(value[:1], []) + _RESOLVERS.get(None, []):
        if pattern.match(value):
            return _STR if tag in _TEXT else str(tag)
    return _STR


def _add(mapping: Node, node: Node) -> None:
    """A key waits in the mapping's list until its value comes."""
    pairs: list[Any] = mapping.value
    if pairs and not isinstance(pairs[-1], tuple):
        pairs[-1] = (pairs[-1], node)
        return
    if node.ctag is not _STR_TAG:  # a collection, a number, null…
        raise _Unsure("a key that is not a string")
    pairs.append(node)


def _plain(root: Node) -> tuple[Any, Positions]:
    positions: Positions = {}
    if not isinstance(root, ScalarNode):
        positions[""] = _place(root)
    return _value(root, "", positions), positions


def _place(node: Node) -> tuple[int, int]:
    mark = node.start_mark
    return mark.line + 1, mark.column + 1


def _value(node: Node, pointer: str, positions: Positions) -> Any:
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for key_node, item in node.value:
            key = _text(key_node.value)
            if key in out:
                raise _Unsure("duplicate key")  # ruamel names it
            here = child(pointer, key)
            positions[here] = _place(key_node)
            out[key] = _value(item, here, positions)
        return out
    if isinstance(node, SequenceNode):
        items: list[Any] = []
        for index, item in enumerate(node.value):
            here = child(pointer, index)
            positions[here] = _place(item)
            items.append(_value(item, here, positions))
        return items
    return _scalar_value(node)


def _scalar_value(node: Node) -> Any:
    tag, text = node.ctag.suffix, node.value  # one of _SCALAR_TAGS
    if tag == _STR:
        return _text(text)
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return text in ("true", "True", "TRUE")
    if tag == _INT and _DECIMAL.fullmatch(text):
        return int(text)
    if tag == _FLOAT and _FLOATING.fullmatch(text):
        number = float(text)
        if math.isfinite(number):
            return number
    raise _Unsure(f"{tag} {text!r}")


def _text(value: str) -> str:
    if _SURROGATE.search(value):
        raise _Unsure("surrogate")
    return value
