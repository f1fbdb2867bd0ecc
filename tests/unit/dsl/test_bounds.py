"""YAML bounds: foreign tags, depth and alias expansion are refused before construction."""

from __future__ import annotations

import tracemalloc

import pytest

from emitflow.dsl import parse_workflow
from emitflow.dsl.bounds import MAX_ALIAS_VALUES, MAX_DEPTH
from emitflow.errors import DocumentError

HEAD = "document: {dsl: '1.0.3', namespace: test, name: case, version: '1.0.0'}\n"


def problems(text: str) -> list[str]:
    with pytest.raises(DocumentError) as info:
        parse_workflow(text, source="w.yaml")
    return [f"{loc}: {msg}" for loc, msg in info.value.problems]


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ('a: !!python/object/apply:os.system ["echo hi"]\n', "!!python/object/apply:os.system"),
        ("a: !!python/name:os.system\n", "!!python/name:os.system"),
        ("a: !!omap [x: 1]\n", "!!omap"),
        ("a: !!set {x}\n", "!!set"),
        ("a: !Ref thing\n", "!Ref"),
    ],
)
def test_unknown_tags_are_named(text: str, tag: str) -> None:
    (message,) = problems(HEAD + text)
    assert f"w.yaml:2:4 at /: the YAML tag '{tag}' is not supported" in message


def test_plain_yaml_with_anchors_and_merges_still_loads() -> None:
    workflow = parse_workflow(
        HEAD + "do:\n  - a:\n      set: &s {x: 1, y: '2'}\n  - b:\n      set: {<<: *s, z: 3}\n"
    )
    assert workflow.raw["do"][1]["b"]["set"] == {"x": 1, "y": "2", "z": 3}


def test_nesting_past_the_documented_bound_is_refused() -> None:
    assert MAX_DEPTH == 64
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    (message, *_) = problems(HEAD + f"do: []\nx: {deep}\n")
    assert "nested too deeply (limit 64 levels)" in message
    shallow = "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2)
    (only,) = problems(HEAD + f"do: []\nx: {shallow}\n")
    assert "unknown key 'x'" in only


def test_deep_nesting_through_an_alias_is_refused() -> None:
    inner = "[" * 40 + "]" * 40
    text = HEAD + f"do: []\na: &a {inner}\nb: {'[' * 30}*a{']' * 30}\n"
    (message, *_) = problems(text)
    assert "nested too deeply" in message


def test_a_moderate_alias_expansion_is_refused() -> None:
    # 531,441 values: under the old 1,000,000 cap (accepted), over the alias bound now.
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 6)]
    (message,) = problems(HEAD + "do: []\n" + "\n".join(lines) + "\n")
    assert f"aliases add more than {MAX_ALIAS_VALUES:,} values" in message


def test_a_10_kb_alias_bomb_is_refused_without_expanding() -> None:
    # The hostile-input report's bomb: ~10 KB of text, 10**30 values once expanded.
    lines = ["a0: &a0 [" + ", ".join(["lol"] * 10) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 30)]
    text = HEAD + "do: []\n" + "\n".join(lines) * 1 + "\n" + "# pad\n" * 1200
    assert 9_000 < len(text) < 12_000
    tracemalloc.start()
    try:
        (message,) = problems(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "aliases expand it to" in message
    assert peak < 20 * 1024 * 1024  # it was 253 MB: the expansion is never built


def test_a_recursive_alias_is_refused() -> None:
    (message,) = problems(HEAD + "do: []\na: &a [1, *a]\n")
    assert "refers to a value that contains it" in message


def test_very_deep_nesting_is_refused_while_it_is_read() -> None:
    # 20,000 open brackets: ruamel's scanner slows with the square of the depth (10,000 took
    # 11 s); the refusal now comes from the scanner, placed at the 65th bracket.
    (message,) = problems(HEAD + "do: []\nx: " + "[" * 20_000 + "]" * 20_000 + "\n")
    assert message.startswith("w.yaml:3:68 at /: the document is nested too deeply")


def test_deep_block_indentation_is_refused() -> None:
    lines = [" " * level + f"k{level}:" for level in range(MAX_DEPTH + 5)]
    (message,) = problems(HEAD + "do: []\nx:\n" + "\n".join(" " + line for line in lines) + " 1\n")
    assert "nested too deeply" in message
