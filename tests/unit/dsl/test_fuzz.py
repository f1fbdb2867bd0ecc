"""Property tests: whatever the input, the loader answers a Workflow or a DocumentError."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emitflow.dsl import from_mapping, parse_workflow
from emitflow.dsl.model import Workflow
from emitflow.dsl.yaml import read_text
from emitflow.errors import DocumentError

#: Fuzzing and schemathesis take their time: left out of ``make test-fast``.
pytestmark = pytest.mark.slow

DOCUMENT = {"dsl": "1.0.3", "namespace": "fuzz", "name": "case", "version": "1.0.0"}

# Keys the builders know, so that generated structures reach deep into them.
KEYS = [
    *("call", "do", "emit", "for", "fork", "listen", "raise", "run", "set", "switch", "try"),
    *("wait", "with", "if", "input", "output", "export", "timeout", "then", "metadata"),
    *("catch", "errors", "as", "when", "exceptWhen", "retry", "event", "type", "source"),
    *("data", "each", "in", "at", "while", "branches", "compete", "to", "read", "foreach"),
    *("one", "any", "all", "until", "correlate", "from", "expect", "error", "status"),
    *("container", "script", "shell", "workflow", "image", "language", "code", "command"),
    *("arguments", "method", "endpoint", "uri", "authentication", "use", "basic", "bearer"),
    *("oauth2", "token", "username", "password", "document", "operationId", "schema"),
    *("after", "seconds", "days", "delay", "backoff", "constant", "limit", "jitter"),
    *("attempt", "count", "headers", "query", "body", "redirect", "name", "version"),
]
TEXTS = [
    *("http", "openapi", "grpc", "mcp", "a2a", "asyncapi", "end", "exit", "continue"),
    *("a", "b", "PT1S", "5s", "P1Y", "${ . }", "${ .a | }", "${ $secrets.k }", ".a", "*"),
    *("https://x/{id}", "not a uri", "orderResult", "length", "get", "data", "envelope"),
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(TEXTS),
    st.text(max_size=12),
)
keys = st.one_of(st.sampled_from(KEYS), st.sampled_from(TEXTS), st.text(max_size=8))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(keys, inner, max_size=5),
    ),
    max_leaves=40,
)
tasks = st.dictionaries(st.sampled_from(KEYS), values, min_size=1, max_size=4)
task_lists = st.lists(
    st.one_of(st.dictionaries(st.sampled_from(TEXTS), tasks, min_size=1, max_size=2), values),
    max_size=5,
)
documents = st.fixed_dictionaries(
    {"document": st.one_of(st.just(DOCUMENT), values), "do": st.one_of(task_lists, values)},
    optional={"use": values, "schedule": values, "input": values, "output": values},
)

FUZZ = settings(
    max_examples=int(os.environ.get("EMITFLOW_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _outcome(call: Callable[[], Workflow]) -> Workflow | DocumentError:
    try:
        return call()
    except DocumentError as exc:
        assert exc.problems
        for location, message in exc.problems:
            assert message and isinstance(location.pointer, str)
        return exc


@FUZZ
@given(st.text(max_size=400))
def test_any_text_gives_a_workflow_or_a_document_error(text: str) -> None:
    _outcome(lambda: parse_workflow(text, source="fuzz.yaml"))
    _outcome(lambda: parse_workflow(text, source="fuzz.json", format="json"))


@FUZZ
@given(
    st.lists(
        st.sampled_from(
            [
                "do:",
                "  - a:",
                "      ",
                "set:",
                "{",
                "}",
                "[",
                "]",
                ": ",
                "\t",
                "&x",
                "*x",
                "!!str",
                "'",
                '"',
                "\n",
                "- ",
                "#",
                "${ . }",
                "---",
                "? ",
                "|",
                ">",
            ]
        ),
        max_size=40,
    )
)
def test_yaml_like_text_gives_a_workflow_or_a_document_error(parts: list[str]) -> None:
    _outcome(lambda: parse_workflow("".join(parts)))


@FUZZ
@given(documents)
def test_any_structure_gives_a_workflow_or_a_document_error(document: dict[str, Any]) -> None:
    first = _outcome(lambda: from_mapping(document, source="body"))
    second = _outcome(lambda: parse_workflow(json.dumps(document), format="json"))
    # The same document, given as a mapping or as JSON text, gets the same verdict.
    assert type(first) is type(second)
    if isinstance(first, DocumentError) and isinstance(second, DocumentError):
        assert sorted(m for _, m in first.problems) == sorted(m for _, m in second.problems)


@FUZZ
@given(task_lists)
def test_any_task_list_gives_a_workflow_or_a_document_error(do: list[Any]) -> None:
    _outcome(lambda: from_mapping({"document": DOCUMENT, "do": do}))


RICH = """
document: {dsl: '1.0.3', namespace: fuzz, name: rich, version: '1.0.0'}
use:
  authentications:
    b: {basic: {username: u, password: p}}
    o: {oauth2: {authority: 'https://id.x', grant: client_credentials, client: {id: c}}}
  errors: {bad: {type: 'https://x/e', status: 400}}
  extensions: [{log: {extend: call, when: .debug, before: [{l: {set: {x: 1}}}]}}]
  functions: {greet: {set: {g: hi}}}
  retries: {again: {delay: PT1S, backoff: {linear: {}}, limit: {attempt: {count: 2}}}}
  secrets: [k]
  timeouts: {short: {after: {seconds: 5}}}
  catalogs: {hub: {endpoint: 'https://x/hub'}}
schedule: {every: PT1H, on: {any: [{with: {type: x}}], until: '.n > 1'}}
input: {from: .order, schema: {document: {type: object}}}
do:
  - http: {call: http, with: {method: get, endpoint: {uri: 'https://x', authentication: {use: b}}}}
  - api: {call: openapi, with: {document: {endpoint: 'https://x/o.json'}, operationId: op}}
  - rpc:
      call: grpc
      with: {proto: {endpoint: 'https://x/p'}, method: m, service: {name: s, host: h}}
  - mcp: {call: mcp, with: {method: tools/list, transport: {stdio: {command: x}}}}
  - fn: {call: greet, with: {a: 1}, then: loop}
  - loop: {for: {in: .items, each: i}, while: '. != null', do: [{s: {set: {v: '${ $i }'}}}]}
  - fork: {fork: {branches: [{a: {wait: PT1S}}, {b: {emit: {event: {with: {type: t}}}}}]}}
  - hear: {listen: {to: {one: {with: {type: t}, correlate: {c: {from: .id}}}}}, foreach: {do: []}}
  - fail: {if: .fail, raise: {error: bad}}
  - proc: {run: {container: {image: alpine, lifetime: {cleanup: eventually, after: PT1M}}}}
  - script: {run: {script: {language: python, code: x}}}
  - choose: {switch: [{a: {when: .a, then: fn}}, {b: {then: continue}}]}
  - guard:
      try: [{x: {wait: PT1S}}]
      catch: {errors: {with: {status: 500}}, retry: again, do: [{h: {set: {h: 1}}}], then: end}
      output: {as: result}
      export: {as: '$context'}
      timeout: short
"""


def _pointers(value: Any, pointer: str = "") -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = [()]
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        found.extend((str(key), *rest) for rest in _pointers(item))
    return found


def _replace(value: Any, path: tuple[str, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: _replace(v, rest, new) if k == head else v for k, v in value.items()}
    return [_replace(v, rest, new) if str(i) == head else v for i, v in enumerate(value)]


def test_the_rich_document_is_valid() -> None:
    assert len(parse_workflow(RICH).warnings) == 1  # the output.as shorthand on guard


RICH_DATA = read_text(RICH, source=None, format="yaml").data
RICH_PATHS = _pointers(RICH_DATA)


@FUZZ
@given(st.sampled_from(RICH_PATHS), values)
def test_any_part_of_a_rich_document_replaced_by_anything(path: tuple[str, ...], new: Any) -> None:
    _outcome(lambda: from_mapping(_replace(RICH_DATA, path, new)))
