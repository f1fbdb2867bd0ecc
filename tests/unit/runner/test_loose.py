"""Loose evaluation mode: unwrapped strings in value positions tried as jq, else kept as text."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import httpx

from emitflow.runner import RunOptions
from emitflow.runner.context import NO_VARIABLES, Frame, Run
from emitflow.runner.evaluation import loose_renderer, renderer
from emitflow.runner.kinds import kinds
from tests.unit.runner.workflows import run, workflow

LOOSE = "evaluate: {mode: loose}\n"


def loose(text: str) -> str:
    """The workflow of ``text`` in loose mode."""
    return LOOSE + textwrap.dedent(text).strip("\n")


VALUES = """
do:
  - s:
      set:
        path: .a
        sum: 1 + 1
        number: '42'
        word: hello
        builtin: length
        env: env
        boolean: 'true'
        sentence: Hello World
        mime: application/json
        url: https://example.com/{id}
        blank: '  '
        failing: .a.b
        wrapped: '${ .a + "!" }'
        nested: {list: [.a, text, {deep: .n}]}
        .a: keys stay
"""


async def test_loose_mode_evaluates_what_is_jq_and_keeps_the_rest() -> None:
    result = await run(loose(VALUES), {"a": "x", "n": 3})
    assert result.status == "completed", result.error
    assert result.output == {
        "path": "x",
        "sum": 2,
        "number": 42,
        "word": "hello",  # jq would call an undefined hello/0: text
        "builtin": "length",  # a bare word is always text, builtin or not
        "env": "env",  # … so the process environment never leaks through a word
        "boolean": "true",
        "sentence": "Hello World",
        "mime": "application/json",
        "url": "https://example.com/{id}",
        "blank": "  ",
        "failing": ".a.b",  # compiles, but fails on a string: text
        "wrapped": "x!",
        "nested": {"list": ["x", "text", {"deep": 3}]},
        ".a": "keys stay",
    }


async def test_strict_mode_is_unchanged() -> None:
    result = await run(VALUES, {"a": "x", "n": 3})
    output = result.output
    assert output["path"] == ".a"
    assert output["sum"] == "1 + 1"
    assert output["failing"] == ".a.b"
    assert output["wrapped"] == "x!"
    assert output["nested"] == {"list": [".a", "text", {"deep": ".n"}]}


async def test_a_wrapped_expression_that_fails_still_faults_in_loose_mode() -> None:
    result = await run(loose("do:\n  - s: {set: {v: '${ .a.b }'}}"), {"a": "x"})
    assert result.status == "faulted"
    assert result.error is not None and result.error.type.endswith("/errors/expression")
    assert result.error.instance == "/do/0/s"


async def test_a_whole_set_text() -> None:
    result = await run(loose("do:\n  - s: {set: .a}"), {"a": [1]})
    assert result.output == [1]


async def test_loop_variables_in_loose_values() -> None:
    result = await run(
        loose(
            """
            do:
              - loop:
                  for: {in: .items}
                  do:
                    - acc: {set: {last: $item, total: (.total // 0) + $item}}
            """
        ),
        {"items": [1, 2, 3]},
    )
    assert result.output == {"last": 3, "total": 6}


async def test_an_undeclared_secret_in_loose_text_stays_text() -> None:
    result = await run(loose("do:\n  - s: {set: {v: $secrets.token}}"), secrets={"token": "t"})
    assert result.status == "completed", result.error
    assert result.output == {"v": "$secrets.token"}


async def test_loose_endpoint_and_body() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"echo": json.loads(request.content)})

    text = """
        do:
          - byExpression:
              call: http
              with: {method: post, endpoint: .url, body: {id: .id}}
              output: {as: $input}
          - byTemplate:
              call: http
              with: {method: post, endpoint: 'https://api.example.com/items/{id}', body: .}
        """
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        data = {"url": "https://api.example.com/by-url", "id": 7}
        result = await run(loose(text), data, http=client)
    assert result.status == "completed", result.error
    assert [str(r.url) for r in seen] == [
        "https://api.example.com/by-url",
        "https://api.example.com/items/7",
    ]
    assert json.loads(seen[0].content) == {"id": 7}
    assert result.output == {"echo": data}


def _frame(text: str) -> Frame:
    wf = workflow(text)
    return Frame(Run(wf, RunOptions(), "r_test", kinds()), wf.do[0], {}, NO_VARIABLES)


def test_each_mode_has_its_own_templates_for_one_value() -> None:
    value: dict[str, Any] = {"v": ".a"}
    frame = _frame("do:\n  - t: {set: {a: 1}}")
    assert renderer(value)({"a": 1}, frame) is value  # constant: the model value itself
    assert loose_renderer(value)({"a": 1}, frame) == {"v": 1}
    assert renderer(value)({"a": 1}, frame) is value


def test_the_run_picks_its_templates_once() -> None:
    assert _frame("do:\n  - t: {set: {a: 1}}").run.renderer is renderer
    assert _frame(loose("do:\n  - t: {set: {a: 1}}")).run.renderer is loose_renderer
