"""The Python fast path agrees with jq on every text it accepts, and declines the rest."""

from __future__ import annotations

from typing import Any

import jq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emitflow.expressions import compile_expression
from emitflow.expressions.fastpath import Unsupported, compile_fast

DATA: Any = {
    "a": {"b": 1, "c": [1, 2, 3], "s": "x"},
    "n": 5,
    "f": 1.5,
    "z": 0,
    "t": True,
    "no": False,
    "nil": None,
    "s": "hello",
    "u": "héllo ✓",
    "items": [{"id": 1}, {"id": 2}],
    "colors": ["red"],
    "big": 2**60,
    "user": {"firstName": "John", "lastName": "Doe"},
    "k": "a",
}
VARS = {"item": 3, "index": 0, "input": {"color": "yellow"}, "x": None, "str": "v"}

SUPPORTED = [
    ".",
    ".a",
    ".a.b",
    ".a.c[1]",
    ".a.c[-1]",
    ".a.c[10]",
    '.["a"]',
    '.a["b"]',
    ".[.k]",
    ".missing",
    ".missing.deeper",
    ".nil.x",
    '."a".b',
    "1",
    "1.0",
    "-1",
    "1.5e3",
    ".5",
    '"plain"',
    '"esc\\n\\u00e9\\"q"',
    '"Hello \\(.user.firstName) \\(.user.lastName)!"',
    '"n=\\(.n) t=\\(.t) nil=\\(.nil)"',
    '"nested \\("inner \\(.s)")"',
    "true",
    "false",
    "null",
    "$item",
    "$input.color",
    "$x",
    ".n + 1",
    ".n - 1",
    ".n * 2",
    ".n / 2",
    ".f * 2",
    ".f + .n",
    "1 / 3",
    "-1 + 2",
    "1 - -1",
    "-.n",
    ".nil + 1",
    "1 + .nil",
    '.colors + ["green"]',
    '.missing + ["x"]',
    '.s + " world"',
    ".a + {d: 1}",
    "{a: 1} + {a: 2, b: 3}",
    "(.total // 0) + $item",
    ".missing // 7",
    ".no // 8",
    ".n // 9",
    ".nil // .no // 10",
    '.s == "hello"',
    '.s != "hello"',
    ".n == 5.0",
    ".t == 1",
    '.a == {b: 1, c: [1, 2, 3], s: "x"}',
    ".items == [{id: 1}, {id: 2}]",
    ".n < 6",
    ".n >= 5",
    '.s < "z"',
    ".n > 2 and .t",
    ".no or .nil",
    ".no or .n",
    ".t and .nil",
    ".t | not",
    ".nil | not",
    ".s | length",
    ".a.c | length",
    ".a | length",
    ".nil | length",
    "-3 | length",
    ".a | .b",
    ".a.c | .[0]",
    "[]",
    "[1, .n, .s]",
    "[ $input, .n ]",
    "[.a.c | .[0]]",
    "{}",
    "{a: 1}",
    "{a: .n, b: .s}",
    "{n}",
    "{$item}",
    '{"x y": 1}',
    '{"k\\(.n)": 1}',
    "{(.k): 2}",
    "{if: 1, then: 2}",
    "{a: .a | .b}",
    "{a: -1}",
    "{ colors: (.colors + [ $item ]), indexes: (.processed.indexes + [ $index ]) }",
    "{a: {b: [1, {c: .n}]}}",
    ".items[1].id",
    "$input | .color",
]

DECLINED = [
    ".[]",
    ".a[]",
    ".[1:2]",
    ".a?",
    "..",
    ".a | map(. + 1)",
    "if .t then 1 else 2 end",
    ". as $v | $v",
    "reduce .[] as $x (0; . + $x)",
    "1, 2",
    ".n % 2",
    "@base64",
    "$__loc__",
    "$ENV",
    ".a |= 1",
    ".a = 1",
    "# comment",
    "tostring",
    "keys",
    "try .a catch 1",
    "10000000000000000000",
    "1e1000",
    # jq refuses these texts: the fast path must not accept them in its place.
    '"\\ud800"',
    '"a\\udc00b"',
    "\u0663",  # ARABIC-INDIC DIGIT THREE: str.isdigit() says yes, jq says no
    ".a + \u0663",
    "\u00b2",
]

DIFFERENT_AT_RUNTIME = [
    ".s.x",
    ".n + .s",
    ".s - 1",
    ".n / 0",
    ".big + 1",
    ".a < 1",
    ".t | length",
    '"\\(.a)"',
    '"\\(.f)"',
    ".s[0]",
    ".a.c[.n + 0.5]",
]


def _jq(text: str) -> Any:
    names = sorted(VARS)
    pattern = ", ".join(f"{n}: ${n}" for n in names)
    program = jq.compile(f". as [$__d, {{{pattern}}}] | $__d | ({text})")
    return program.input_value([DATA, VARS]).first()


@pytest.mark.parametrize("text", SUPPORTED)
def test_agrees_with_jq(text: str) -> None:
    fast = compile_fast(text)
    assert fast is not None, f"{text!r} should be in the subset"
    ours = fast(DATA, VARS)
    theirs = _jq(text)
    assert ours == theirs
    assert type(ours) is type(theirs) or {type(ours), type(theirs)} <= {int, float}


@pytest.mark.parametrize("text", DECLINED)
def test_declines_what_it_does_not_do(text: str) -> None:
    assert compile_fast(text) is None


@pytest.mark.parametrize("text", DIFFERENT_AT_RUNTIME)
def test_hands_doubtful_cases_back_to_jq(text: str) -> None:
    fast = compile_fast(text)
    assert fast is not None
    with pytest.raises(Unsupported):
        fast(DATA, VARS)


def test_paths_share_structure_instead_of_copying() -> None:
    fast = compile_fast(".items")
    assert fast is not None
    assert fast(DATA, VARS) is DATA["items"]


#: Pieces of jq text, valid and not, for random texts the fast path may accept.
_PIECES = [
    *(".", ".a", ".if", ".and", '."b"', "$x", "$input", "$__loc__", "1", ".5", "1.", "1e3"),
    *('"s"', '"\\(.a)"', '"\\n"', '"\\ud800"', '"\\ud83d\\ude00"', '"', "\\", "\u0663"),
    *("true", "null", "not", "length", "and", "or", "if", "as", "foo", "a"),
    *("|", "//", "==", "<=", "+", "-", "*", "/", "(", ")", "[", "]", "{", "}", ",", ":", " "),
]


@pytest.mark.slow
@settings(max_examples=3000, deadline=None)
@given(pieces=st.lists(st.sampled_from(_PIECES), min_size=1, max_size=9))
def test_what_the_fast_path_accepts_jq_compiles(pieces: list[str]) -> None:
    # The jq program of a fast text is compiled only when first needed, so the fast path's
    # subset must be valid jq: a text it accepts must not be an error that jq would report.
    text = "".join(pieces)
    if compile_fast(text) is None:
        return
    expression = compile_expression(text)
    assert expression.fast is not None
    expression._jq_program()  # raises jq's ValueError for a text jq refuses
