"""The libyaml path reads every document exactly as the ruamel path does, or leaves it to ruamel.

``read_text(..., fast=False)`` is the reference (ruamel alone). For every document here the fast
path must give the same data (the same types too: ``1``, ``1.0`` and ``True`` differ) and the
same positions, or raise the same problems, since each document it is unsure of, and every
error, goes to ruamel.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emitflow.dsl import bounds, libyaml
from emitflow.dsl.libyaml import read_fast
from emitflow.dsl.yaml import Loaded, read_text
from emitflow.errors import DocumentError
from tests.conftest import ROOT, require_spec

pytestmark = pytest.mark.skipif(not libyaml.available(), reason="PyYAML was built without libyaml")

HEAD = "document: {dsl: '1.0.3', namespace: test, name: case, version: '1.0.0'}\n"


def typed(value: Any) -> Any:
    """``value`` with every scalar's type beside it (``1 == 1.0 == True`` in Python)."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


def outcome(text: str, *, fast: bool) -> Any:
    """What reading ``text`` gives: typed data and positions, or the problems raised."""
    try:
        loaded = read_text(text, source="w.yaml", format=None, fast=fast)
    except DocumentError as exc:
        return ("error", exc.problems)
    return ("loaded", typed(loaded.data), dict(loaded.positions))


def assert_same(text: str) -> None:
    """The fast and the reference path agree on ``text``."""
    assert outcome(text, fast=True) == outcome(text, fast=False)


# --- documents that exist -------------------------------------------------------------------


def _repository_documents() -> list[Path]:
    found = [*ROOT.glob("examples/**/*.yaml"), *ROOT.glob("examples/**/*.yml")]
    found += [*ROOT.glob("tests/standins/documents/**/*.yaml")]
    return sorted(found)


@pytest.mark.parametrize("path", _repository_documents(), ids=lambda p: p.name)
def test_repository_documents_read_alike(path: Path) -> None:
    text = path.read_text(encoding="utf-8-sig")
    assert_same(text)
    assert read_fast(text) is not None  # plain YAML: the fast path takes it


def _gherkin_docstrings(feature: Path) -> list[str]:
    """The YAML in a feature file's ``\"\"\"`` blocks, dedented as pytest-bdd gives it."""
    blocks = re.findall(r'^([ \t]*)"""[a-z]*\n(.*?)^[ \t]*"""', feature.read_text(), re.M | re.S)
    return [textwrap.dedent(body) for _, body in blocks]


def test_spec_documents_read_alike() -> None:
    ctk = require_spec("ctk")
    texts = [
        doc for feature in sorted(ctk.glob("*.feature")) for doc in _gherkin_docstrings(feature)
    ]
    assert len(texts) >= 21  # a workflow per scenario, and some inputs
    spec = ctk.parent
    texts += [path.read_text(encoding="utf-8") for path in sorted(spec.glob("**/*.yaml"))]
    taken = 0
    for text in texts:
        assert_same(text)
        taken += read_fast(text) is not None
    assert taken > len(texts) // 2


# --- generated documents --------------------------------------------------------------------

#: Plain scalars in every YAML 1.2 core form, the YAML 1.1 words 1.2 reads as text, and text.
PLAIN = [
    *("on", "On", "ON", "off", "Off", "yes", "Yes", "no", "NO", "y", "n", "Y"),
    *("true", "True", "TRUE", "false", "False", "FALSE", "tRUE"),
    *("null", "Null", "NULL", "~", "nULL"),
    *("0", "-0", "+0", "7", "+12", "-12", "017", "0o17", "0O17", "0x1F", "0x1f", "0b101", "0b2"),
    *("1_000", "1__0", "_1", "190:20:30", "12:30", "1,000"),
    *("1.5", "-1.5", "+1.5", "1.", "-0.0", ".5", "-.5", "1e3", "1E3", "1e+3", "-1.5e-3", "1.5E+3"),
    *("1e999", "-1e999", "1_0.5", "1.5_5", ".inf", "-.inf", "+.inf", ".Inf", ".INF", ".nan"),
    *(".NaN", ".NAN", "nan", "inf", "0x", "1e", "e3"),
    *("2024-01-01", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2002-1-1"),
    *("=", "<<", "-", "a-b", "x y", "${ .a }", "${ .a != 1 }", "https://x/y?a=b#c", "a:b"),
    *("é", "日本語", "😀", "x#y", "a,b", "a]b", "@x", "`x", "%x", "?x", "!x", "&x", "*x", "|x"),
]
WORDS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-/ ]{0,12}", fullmatch=True)
UNICODE = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)
SCALARS = st.recursive(
    st.one_of(
        st.sampled_from(PLAIN).map(lambda v: ("plain", v)),
        WORDS.map(lambda v: ("plain", v)),
        UNICODE.map(lambda v: ("single", v)),
        UNICODE.map(lambda v: ("double", v)),
        st.lists(WORDS, min_size=1, max_size=3).map(lambda v: ("block", v)),
    ),
    lambda inner: st.one_of(
        st.dictionaries(st.one_of(WORDS, st.sampled_from(PLAIN)), inner, max_size=4).map(
            lambda v: ("map", v)
        ),
        st.lists(inner, max_size=4).map(lambda v: ("seq", v)),
    ),
    max_leaves=20,
)


class Writer:
    """Writes a generated tree as YAML text, the styles drawn as it goes."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw

    def scalar(self, kind: str, value: Any, indent: int) -> str:
        if kind == "plain":
            return str(value)
        if kind == "single":
            return "'" + str(value).replace("'", "''") + "'"
        if kind == "double":
            return json.dumps(value, ensure_ascii=self.draw(st.booleans()))
        style = self.draw(st.sampled_from(["|", "|-", "|+", ">", ">-", ">+"]))
        pad = " " * (indent + 2)
        return style + "\n" + "\n".join(pad + line for line in value)

    def flow(self, node: tuple[str, Any]) -> str:
        kind, value = node
        if kind == "map":
            pairs = (f"{self.key(k)}: {self.flow(v)}" for k, v in value.items())
            return "{" + ", ".join(pairs) + "}"
        if kind == "seq":
            return "[" + ", ".join(self.flow(item) for item in value) + "]"
        if kind == "block":
            return json.dumps("\n".join(value))
        return self.scalar(kind, value, 0)

    def key(self, key: str) -> str:
        return json.dumps(key) if self.draw(st.booleans()) else key

    def comment(self) -> str:
        return "  # note: a, b" if self.draw(st.integers(0, 4)) == 0 else ""

    def block(self, node: tuple[str, Any], indent: int) -> list[str]:
        """Lines of ``node`` as the value of a block collection at ``indent``."""
        kind, value = node
        pad = " " * indent
        if kind not in ("map", "seq") or not value or self.draw(st.integers(0, 3)) == 0:
            return [pad + self.inline(node, indent)]
        lines: list[str] = []
        if self.draw(st.integers(0, 5)) == 0:
            lines.append(pad + "# a comment line")
        if kind == "map":
            for key, item in value.items():
                lines += self.entry(pad + self.key(key) + ":", item, indent)
        else:
            for item in value:
                lines += self.entry(pad + "-", item, indent)
        return lines

    def entry(self, head: str, item: tuple[str, Any], indent: int) -> list[str]:
        kind, value = item
        if kind in ("map", "seq") and value and self.draw(st.booleans()):
            return [head + self.comment(), *self.block(item, indent + 2)]
        return [head + " " + self.inline(item, indent) + self.comment()]

    def inline(self, node: tuple[str, Any], indent: int) -> str:
        kind, value = node
        if kind in ("map", "seq"):
            return self.flow(node)
        return self.scalar(kind, value, indent)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A YAML document from a generated tree, in mixed styles (some invalid: that is fine)."""
    tree = draw(SCALARS)
    writer = Writer(draw)
    start = draw(st.sampled_from(["", "---\n", "# top comment\n"]))
    end = draw(st.sampled_from(["\n", "", "\n...\n", "\n\n# end\n"]))
    return start + "\n".join(writer.block(tree, 0)) + end


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_documents_read_alike(text: str) -> None:
    assert_same(text)


@pytest.mark.parametrize("scalar", PLAIN)
@pytest.mark.parametrize("place", ["value", "item", "flow"])
def test_every_plain_scalar_form_reads_alike(scalar: str, place: str) -> None:
    text = {"value": "x: {}\n", "item": "x:\n  - {}\n", "flow": "x: [{}, 1]\n"}[place]
    assert_same(text.format(scalar))


#: Block scalars with indentation indicators and chomping, folded plain and quoted lines, every
#: escape, flow forms, explicit keys, document markers, non-ASCII columns, edge numbers.
TRICKY = [
    "a: |2\n    x\n   y\n",
    "a: |2-\n   x\n  \n",
    "a: >1\n  x\n y\n",
    "a: |+\n  x\n\n\nb: 1\n",
    "a: >\n  x\n\n   y\n  z\n\n",
    "a: >-\n  x\n   y\n  z\n",
    "a: plain\n  continued\n   more\n",
    'a: "x\n  y\\\n  z"\n',
    "a: 'x\n\n  y'\n",
    'a: "\\x41\\u00e9\\U0001F600\\N\\_\\L\\P\\e\\0\\a\\b\\v\\f\\ \\/"\n',
    "- a\n-\n- - b\n  - c\n",
    "a:\n- 1\n- 2\n",
    "a: [1, [2, {b: c}], {}]\n",
    "{a: 1, b: [x, y]}\n",
    "a: b #c\n#d\ne: f\n",
    "? a\n: b\n",
    "a: {b: }\n",
    "a: [b, ]\n",
    "a: {? b}\n",
    "a: [b: c]\n",
    "a: [b: c, d]\n",
    "'a': \"b\"\n",
    "a: !!null\n",
    "a: -\n",
    "a: - b\n",
    "a: ]\n",
    "a:    \n  b\n",
    "a: b\n...\n",
    "--- a\n",
    "--- |\n  x\n",
    'a: "\u00e9"\n\u00e9: [\u00e9, x]\n',
    "a: 1 # x\n  # y\nb: 2\n",
    "a:\n  - b: 1\n    c: 2\n  - d\n",
    "a: x: y\n",
    "a: {x: y\n  , z: w}\n",
    "a: [x\n  , y]\n",
    "a: >\n\n  x\n",
    "a: |\n\n\n  x\n",
    "a: |-\n",
    "a: >\n",
    "a: |\nb: 1\n",
    "x: 'it''s'\n",
    "k: 2001-12-14t21:59:43.10-05:00\n",
    "k: 0001-01-01\n",
    "k: 1.0e+3\n",
    "k: 1e-3\n",
    "k: 00\n",
    "k: +0.0\n",
    "k: 99999999999999999999999\n",
    "k: 1.7976931348623157e309\n",
    "k: 'ab\n  '\n",
    'k: "a\\tb"\n',
    "k: [a, b]: c\n",
    "a: &x\n",
    "a: b\n \n c: d\n",
]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_forms_read_alike(text: str) -> None:
    assert_same(text)


def test_the_fast_path_keeps_yaml_1_2_words_and_numbers() -> None:
    read = read_fast("on: yes\nOff: No\nn: 017\nf: 1.50\nt: 2024-01-01\nb: true\nz: ~\n")
    assert read is not None
    data, positions = read
    assert typed(data) == typed(
        {"on": "yes", "Off": "No", "n": 17, "f": 1.5, "t": "2024-01-01", "b": True, "z": None}
    )
    assert positions["/t"] == (5, 1)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\r\nb: 2\r\n",
        "a:\tb\n",
        "a: |\n  x\u2028y\n",
        "a: \x07\n",
        "a: 1\n---\nb: 2\n",
        "%YAML 1.1\n---\non: yes\n",
        "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
        "a: !!str 1\n",
        "a: ! 1\n",
        "a: &x [1]\nb: *x\n",
        "a: &x 1\n",
        "a: {b: 1}\nc: {<<: {b: 2}}\n",
        "a: 1\na: 2\n",
        "1: a\n",
        "? [a]\n: b\n",
        "a: .nan\n",
        "a: 0x1F\n",
        'a: "\\ud83d"\n',
        "",
        "# only a comment\n",
    ],
)
def test_what_the_fast_path_is_unsure_of_goes_to_ruamel(text: str) -> None:
    assert read_fast(text) is None
    if text.strip():
        assert_same(text)


# --- errors and hostile documents: the ruamel path's messages, unchanged ----------------------


def problems(text: str) -> list[str]:
    with pytest.raises(DocumentError) as info:
        read_text(text, source="w.yaml", format=None)
    return [f"{loc}: {msg}" for loc, msg in info.value.problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\na: 2\n", "w.yaml:2:1 at /: duplicate key 'a'"),
        ("a: !!binary aGk=\n", "w.yaml:1:4 at /: binary values (!!binary) are not JSON"),
        ("a: !Ref x\n", "w.yaml:1:4 at /: the YAML tag '!Ref' is not supported"),
        ("a: .nan\n", "w.yaml:1:1 at /a: nan is not a JSON number; quote it if it is text"),
        ("1: a\n", "w.yaml:1:1 at /1: a mapping key must be a string, found the number 1"),
        ("a:\n\t- b\n", "w.yaml:2:1 at /: a tab character where YAML expects indentation"),
        ("a: [1, 2\n", "w.yaml:2:1 at /: invalid YAML: expected ',' or ']', but got '<stream"),
        ("a: b: c\n", "w.yaml:1:5 at /: invalid YAML: mapping values are not allowed here"),
    ],
)
def test_errors_keep_the_ruamel_message_and_place(text: str, expected: str) -> None:
    assert read_fast(text) is None
    (message, *_) = problems(text)
    assert message.startswith(expected)
    assert outcome(text, fast=True) == outcome(text, fast=False)


def test_deep_flow_nesting_is_left_to_ruamel_at_once() -> None:
    # libyaml stops at its own nesting limit (1,000) and the composer at 64 levels: the ruamel
    # scanner then refuses the 65th bracket, as before.
    text = HEAD + "do: []\nx: " + "[" * 10_000 + "]" * 10_000 + "\n"
    assert read_fast(text) is None
    (message,) = problems(text)
    assert message.startswith("w.yaml:3:68 at /: the document is nested too deeply")


def test_deep_block_nesting_is_left_to_ruamel() -> None:
    lines = [" " * level + f"k{level}:" for level in range(80)]
    text = HEAD + "do: []\nx:\n" + "\n".join(" " + line for line in lines) + " 1\n"
    assert read_fast(text) is None
    assert "nested too deeply" in problems(text)[0]


def test_an_alias_bomb_is_left_to_ruamel() -> None:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * 10) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 30)]
    text = HEAD + "do: []\n" + "\n".join(lines) + "\n"
    assert read_fast(text) is None
    assert "aliases expand it to" in problems(text)[0]


def test_the_fast_path_holds_its_graph_to_the_same_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    # check_graph runs on the fast path's graph: past its value bound (lowered here, so that
    # the test need not write a million values), the document goes to ruamel.
    text = "a: [" + ", ".join(["1"] * 20) + "]\n"
    assert read_fast(text) is not None
    monkeypatch.setattr(bounds, "MAX_VALUES", 10)
    assert read_fast(text) is None


def test_a_loaded_document_is_the_same_value_type() -> None:
    loaded = read_text(HEAD + "do: []\n", source=None, format=None)
    assert isinstance(loaded, Loaded)
    assert loaded.positions["/do"] == (2, 1)


# --- JSON text: its places come from the fast path when it reads the same data ----------------


def json_outcome(text: str, *, fast: bool) -> Any:
    """``outcome`` for a document given as JSON."""
    try:
        loaded = read_text(text, source="w.json", format="json", fast=fast)
    except DocumentError as exc:
        return ("error", exc.problems)
    return ("loaded", typed(loaded.data), dict(loaded.positions))


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | UNICODE,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(UNICODE, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    JSON_VALUES,
    st.sampled_from([None, 2, "\t"]),
    st.booleans(),
)
def test_generated_json_reads_alike(value: Any, indent: int | str | None, ascii: bool) -> None:
    text = json.dumps({"document": value, "do": [value]}, indent=indent, ensure_ascii=ascii)
    assert json_outcome(text, fast=True) == json_outcome(text, fast=False)


@pytest.mark.parametrize("path", _repository_documents(), ids=lambda p: p.name)
def test_repository_documents_as_json_read_alike(path: Path) -> None:
    data = read_text(path.read_text(encoding="utf-8-sig"), source=None, format=None).data
    for indent in (None, 2):
        text = json.dumps(data, indent=indent, ensure_ascii=False)
        assert json_outcome(text, fast=True) == json_outcome(text, fast=False)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',
        '{"a": "\\ud83d\\ude00"}',
        '{"a": "\\/"}',
        '{"a": 1e400}',
        '{"a": [1, 2,]}',
        '{"a":\t1}',
        '{"a": 1.0, "b": -0, "c": 1E+2}',
    ],
)
def test_json_edge_cases_read_alike(text: str) -> None:
    assert json_outcome(text, fast=True) == json_outcome(text, fast=False)
