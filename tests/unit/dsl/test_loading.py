"""Loading: YAML 1.2 and JSON text, files and mappings, with every problem placed."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from emitflow.dsl import from_mapping, load_workflow, parse_workflow
from emitflow.dsl.yaml import MAX_DOCUMENT_BYTES
from emitflow.errors import DocumentError

HEAD = "document: {dsl: '1.0.3', namespace: test, name: case, version: '1.0.0'}\n"


def problems(
    text: str, *, source: str | None = None, format: Literal["yaml", "json"] | None = None
) -> list[str]:
    with pytest.raises(DocumentError) as info:
        parse_workflow(text, source=source, format=format)
    return [f"{loc}: {msg}" for loc, msg in info.value.problems]


def test_yaml_1_2_keeps_on_yes_and_version_strings() -> None:
    workflow = parse_workflow(
        HEAD + "schedule:\n  on: {one: {with: {type: com.x}}}\n"
        "do:\n  - a:\n      set: {flag: yes, off: no, n: 1, v: '1.0.3', when: 2025-01-01}\n"
    )
    assert "on" in workflow.raw["schedule"]
    assert workflow.schedule is not None and workflow.schedule.on is not None
    assert workflow.raw["do"][0]["a"]["set"] == {
        "flag": "yes",
        "off": "no",
        "n": 1,
        "v": "1.0.3",
        "when": "2025-01-01",
    }
    assert type(workflow.raw["do"][0]["a"]["set"]["n"]) is int
    assert workflow.document.dsl == "1.0.3"


def test_raw_is_plain_data() -> None:
    workflow = parse_workflow(HEAD + "do:\n  - a:\n      set: {x: 1.5, y: [true, null]}\n")
    value = workflow.raw["do"][0]["a"]["set"]
    assert type(value["x"]) is float and type(value["y"]) is list
    assert type(workflow.raw) is dict


def test_messages_name_file_line_column_pointer_and_the_fix() -> None:
    text = (
        HEAD + "do:\n  - a:\n      emit:\n        event:\n          with:\n            source: x\n"
    )
    (message,) = problems(text, source="order.yaml")
    assert message.startswith("order.yaml:6:11 at /do/0/a/emit/event/with: 'type' is required")
    assert "com.example.order.placed.v1" in message


def test_every_problem_is_reported_in_document_order() -> None:
    text = HEAD + "do:\n  - a:\n      wait: 5s\n  - b:\n      set: {}\n  - c:\n      then: 3\n"
    found = problems(text, source="w.yaml")
    assert [m.split(" at ")[0] for m in found] == ["w.yaml:4:7", "w.yaml:6:7", "w.yaml:7:5"]
    assert "'PT5S'" in found[0]


def test_json_text_by_format_and_by_suffix() -> None:
    text = (
        '{"document": {"dsl": "1.0.3", "namespace": "t", "name": "n", "version": "1.0.0"},\n'
        ' "do": [{"a": {"wait": "PT1S"}}]}'
    )
    assert parse_workflow(text, format="json").document.name == "n"
    assert parse_workflow(text, source="flow.json").do[0].name == "a"
    broken = text.replace('"PT1S"', '"1s"')
    (message,) = problems(broken, source="flow.json")
    assert message.startswith("flow.json:2:16 at /do/0/a/wait:")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"document": {"dsl": "1.0.3",}}', "1:30 at /: invalid JSON: Expecting property name"),
        ('{"document": {}', "invalid JSON: Expecting ',' delimiter"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": 1} {"b": 2}', "a JSON document is one value"),
        ('{"a": 1, "a": 2}', "1:10 at /: duplicate key 'a'"),
    ],
)
def test_json_syntax_errors_read_like_json(text: str, expected: str) -> None:
    (message,) = problems(text, format="json")
    assert expected in message


def test_json_looking_text_without_a_format_gets_a_json_message() -> None:
    (message,) = problems('{"document": {"dsl": "1.0.3",}')
    assert "invalid JSON" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("document:\n\tdsl: '1.0.3'\n", "w.yaml:2:1 at /: a tab character"),
        ("document: {}\ndocument: {}\n", "w.yaml:2:1 at /: duplicate key 'document'"),
        ("do: [a, b\n", "w.yaml:2:1 at /: invalid YAML: expected ',' or ']'"),
        ("a: 1\n---\nb: 2\n", "expected a single document"),
        ("a: *nothing\n", "found undefined alias"),
        ("", "w.yaml:1:1 at /: the document is empty"),
        ("# only a comment\n", "w.yaml:1:1 at /: the document is empty"),
        ("- a\n- b\n", "a workflow document is a mapping with 'document' and 'do'"),
        ("just text\n", "found the string 'just text'"),
        ("a: !custom x\n", "the YAML tag '!custom' is not supported"),
        ("a: !!binary aGk=\n", "binary values (!!binary) are not JSON"),
        ("a: .nan\n", "nan is not a JSON number"),
        ("? [a]\n: 1\n", "a mapping key must be a string"),
        ("1: x\n", "quote it: '1'"),
    ],
)
def test_bad_yaml_gets_a_placed_message(text: str, expected: str) -> None:
    (message, *_) = problems(text, source="w.yaml")
    assert expected in message


def test_too_large_documents_are_refused_before_parsing() -> None:
    (message,) = problems("a: " + "x" * MAX_DOCUMENT_BYTES, source="big.yaml")
    assert "refuses workflow documents over 5 MiB" in message


def test_deep_nesting_is_refused() -> None:
    (message, *_) = problems(HEAD + "do: " + "[" * 300 + "]" * 300 + "\n")
    assert "nested too deeply" in message


def test_alias_bombs_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    (message, *_) = problems("\n".join(lines) + "\n")
    assert "aliases expand it to 123,456,797 values" in message


def test_load_workflow_reads_files(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(HEAD + "do:\n  - a:\n      wait: PT1S\n", encoding="utf-8")
    workflow = load_workflow(path)
    assert workflow.source == str(path)
    assert workflow.qualified_name == "test/case:1.0.0"
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_workflow(bom).do[0].name == "a"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.yaml", None, "cannot read the file"),
        ("latin1.yaml", b"a: \xe9t\xe9\n", "not UTF-8 text"),
        ("folder", "dir", "this is a folder"),
        ("bad.json", b'{"a": }', "bad.json:1:7 at /: invalid JSON"),
    ],
)
def test_load_workflow_problems(tmp_path: Path, name: str, content: object, expected: str) -> None:
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(DocumentError) as info:
        load_workflow(path)
    assert expected in info.value.render()
    assert str(path) in info.value.render()


def test_load_workflow_refuses_huge_files(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"#" * (MAX_DOCUMENT_BYTES + 1))
    with pytest.raises(DocumentError, match="refuses workflow documents over 5 MiB"):
        load_workflow(path)


def test_from_mapping_validates_parsed_bodies() -> None:
    body = {
        "document": {"dsl": "1.0.3", "namespace": "t", "name": "n", "version": "1.0.0"},
        "do": [{"a": {"set": {"x": 1}}}],
    }
    workflow = from_mapping(body, source="POST /v1/workflows")
    assert workflow.do[0].reference == "/do/0/a"
    assert workflow.do[0].line is None
    assert workflow.raw == body and workflow.raw is not body


def test_from_mapping_rejects_values_that_are_not_json() -> None:
    body: dict[str, object] = {"document": {1: 2}, "do": [], "x": float("inf"), "y": {1, 2}}
    with pytest.raises(DocumentError) as info:
        from_mapping(body, source="body")
    text = info.value.render()
    assert "body at /document/1: a mapping key must be a string" in text
    assert "body at /x: inf is not a JSON number" in text
    assert "body at /y: a set is not a JSON value" in text


def test_from_mapping_rejects_cycles() -> None:
    body: dict[str, object] = {"document": {}}
    body["do"] = [body]
    with pytest.raises(DocumentError, match="contains it"):
        from_mapping(body)


def test_parse_workflow_rejects_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="format"):
        parse_workflow("a: 1", format="toml")  # type: ignore[arg-type]
