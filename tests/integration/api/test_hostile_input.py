"""Hostile input, every route that takes it × every bad value: never a 5xx, nothing stored.

JSON bodies carrying what Python's lenient ``json`` reads but JSON (or the store) cannot hold —
``NaN``, ``Infinity``, ``-Infinity``, ``1e400``, an integer past a double's range, nesting past
``MAX_JSON_DEPTH``, lone surrogate escapes in values and keys — are a 400 in the API's error
shape, on the public hook, on ``POST /v1/events`` in all three modes, on run inputs,
subscription filters and JSON workflow documents. YAML documents with the same values (and
unknown tags) are a 422 naming the problem. Cursors that look like positions but which no
position can hold are a 400. Before this suite, each of these was a 500.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from emitflow.api.bodies import MAX_JSON_DEPTH
from emitflow.dsl.yaml import MAX_DEPTH as DOCUMENT_DEPTH
from emitflow.runtime.engine import Engine
from emitflow.store.records import EventQuery

_DOC = {
    "document": {"dsl": "1.0.0", "namespace": "t", "name": "target", "version": "1.0.0"},
    "do": [{"k": {"set": {"ok": True}}}],
}


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


#: Bad JSON values, as text to put where a value goes; ``{deep}`` is past the route's bound.
BAD_VALUES = {
    "nan": "NaN",
    "infinity": "Infinity",
    "minus_infinity": "-Infinity",
    "overflowing_float": "1e400",
    "overflowing_negative": "-1e400",
    "overflowing_integer": "9" * 400,
    "too_deep_arrays": "{deep_arrays}",
    "too_deep_objects": "{deep_objects}",
    "very_deep": _deep(100_000),
    "lone_high_surrogate": '"\\ud800"',
    "lone_low_surrogate": '"x\\udfff"',
    "surrogate_then_letter": '"\\ud83d\\u0041"',
    "surrogate_key": '{"\\udc00": 1}',
}

_CE = {"specversion": "1.0", "id": "hostile-1", "source": "/hostile", "type": "t"}
_CE_HEADERS = {"ce-id": "h-1", "ce-source": "/h", "ce-type": "t", "ce-specversion": "1.0"}


def _past_bound(value: str, route: str) -> str:
    # Workflow documents nest as deeply as the DSL allows (as from the CLI); data, 64 levels.
    bound = DOCUMENT_DEPTH if route.startswith("workflow") else MAX_JSON_DEPTH
    levels = bound + 1
    objects = '{"a":' * levels + "1" + "}" * levels
    return value.replace("{deep_arrays}", _deep(levels)).replace("{deep_objects}", objects)


def _event(value: str) -> str:
    return json.dumps(_CE)[:-1] + ', "data": ' + value + "}"


def _document(value: str) -> str:
    text = json.dumps(_DOC).replace('"name": "target"', '"name": "hostile"')
    return text.replace('{"ok": true}', '{"v": ' + value + "}")


Request = tuple[str, str, dict[str, str], str]

#: Every route that reads JSON, building its request around a bad value.
ROUTES: dict[str, Callable[[str], Request]] = {
    "hook_post": lambda v: ("POST", "/hooks/p_target", {}, '{"a": ' + v + "}"),
    "hook_put_bare": lambda v: ("PUT", "/hooks/p_target", {}, v),
    "events_structured": lambda v: (
        "POST",
        "/v1/events",
        {"content-type": "application/cloudevents+json"},
        _event(v),
    ),
    "events_batch": lambda v: (
        "POST",
        "/v1/events",
        {"content-type": "application/cloudevents-batch+json"},
        "[" + _event(v) + "]",
    ),
    "events_binary": lambda v: (
        "POST",
        "/v1/events",
        {**_CE_HEADERS, "content-type": "application/json"},
        v,
    ),
    "events_plain_json": lambda v: ("POST", "/v1/events", {}, _event(v)),
    "run_input": lambda v: ("POST", "/v1/workflows/p_target/runs", {}, '{"input": ' + v + "}"),
    "run_context": lambda v: (
        "POST",
        "/v1/workflows/p_target/runs",
        {},
        '{"context": {"c": ' + v + "}}",
    ),
    "subscription_filter": lambda v: (
        "POST",
        "/v1/subscriptions?emitter_id=p_target&listener_id=p_target",
        {},
        '{"filters": [{"exact": {"type": ' + v + "}}]}",
    ),
    "workflow_json": lambda v: ("POST", "/v1/workflows", {}, _document(v)),
    "workflow_wrapped": lambda v: (
        "POST",
        "/v1/workflows",
        {},
        '{"id": "p_other", "definition": ' + _document(v) + "}",
    ),
}


@pytest.fixture
async def target(engine: Engine) -> Engine:
    await engine.deploy(_DOC, id="p_target")
    return engine


async def _nothing_stored(engine: Engine) -> None:
    page = await engine.store.list_events(EventQuery(), limit=10)
    assert list(page.items) == [], "an event was stored from a refused request"
    runs = await engine.store.list_runs(workflow_id="p_target", limit=10)
    assert list(runs.items) == [], "a run was started by a refused request"
    assert await engine.store.list_subscriptions() == []
    assert [w.id for w in await engine.store.list_workflows()] == ["p_target"]


def _error(answer: httpx.Response) -> dict[str, Any]:
    assert answer.headers["content-type"].startswith("application/json"), answer.text
    error = answer.json()["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    return dict(error)


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize("value", sorted(BAD_VALUES))
async def test_bad_json_is_a_400_on_every_route(
    client: httpx.AsyncClient, target: Engine, route: str, value: str
) -> None:
    method, url, headers, text = ROUTES[route](_past_bound(BAD_VALUES[value], route))
    headers = {"content-type": "application/json", **headers}
    answer = await client.request(
        method, url, headers=headers, content=text.encode("utf-8", "surrogatepass")
    )
    assert answer.status_code == 400, answer.text
    error = _error(answer)
    assert error["code"] == "invalid_json"
    # The message can always be sent: no raw surrogate from the input comes back.
    answer.text.encode("utf-8")
    await _nothing_stored(target)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("NaN", "NaN is not a JSON number"),
        ("1e400", "overflows"),
        ('"\\ud800"', "unpaired surrogate escape at /input/a"),
        (_deep(MAX_JSON_DEPTH + 1), f"more than {MAX_JSON_DEPTH} levels deep at /input/a/0/"),
    ],
)
async def test_the_message_names_the_problem_and_its_place(
    client: httpx.AsyncClient, target: Engine, value: str, expected: str
) -> None:
    answer = await client.post(
        "/v1/workflows/p_target/runs", content='{"input": {"a": ' + value + "}}"
    )
    assert answer.status_code == 400
    assert expected in _error(answer)["message"]


async def test_json_at_the_bound_and_paired_surrogates_are_accepted(
    client: httpx.AsyncClient, target: Engine
) -> None:
    # The body itself is one level: the input may use the other MAX_JSON_DEPTH - 1.
    value = _deep(MAX_JSON_DEPTH - 1)
    body = '{"input": ' + value + ', "context": {"smile": "\\ud83d\\ude00"}}'
    answer = await client.post("/v1/workflows/p_target/runs", content=body)
    assert answer.status_code == 202, answer.text
    assert answer.json()["input"] == json.loads(value)
    event = _event('{"big": 1e300, "n": ' + "9" * 300 + ', "smile": "\\ud83d\\ude00"}')
    answer = await client.post(
        "/v1/events", content=event, headers={"content-type": "application/cloudevents+json"}
    )
    assert answer.status_code == 202, answer.text


async def test_five_hundred_nested_nots_are_a_400(
    client: httpx.AsyncClient, target: Engine
) -> None:
    nested: dict[str, Any] = {"exact": {"type": "x"}}
    for _ in range(500):
        nested = {"not": nested}
    answer = await client.post(
        "/v1/subscriptions?emitter_id=p_target&listener_id=p_target",
        json={"filters": [nested]},
    )
    assert answer.status_code == 400, answer.text
    assert "levels deep" in _error(answer)["message"]
    await _nothing_stored(target)


async def test_a_hook_body_that_is_not_json_stays_text(
    client: httpx.AsyncClient, target: Engine
) -> None:
    for body in (b"name=Yoda&x=1", b"\xff\xfe not utf-8", b"{broken"):
        answer = await client.post("/hooks/p_target", content=body)
        assert answer.status_code == 202, answer.text


@pytest.mark.parametrize(
    ("yaml", "expected"),
    [
        ("v: .nan", "nan is not a JSON number"),
        ("v: .inf", "inf is not a JSON number"),
        ('v: "\\ud800"', "surrogate"),
        ("v: !!python/object/apply:os.system ['true']", "python/object/apply"),
        ("v: " + "[" * 300 + "]" * 300, "deep"),
    ],
)
async def test_yaml_documents_with_bad_values_are_a_422(
    client: httpx.AsyncClient, target: Engine, yaml: str, expected: str
) -> None:
    document = (
        "document: {dsl: '1.0.0', namespace: t, name: y, version: '1.0.0'}\n"
        "do:\n  - k:\n      set:\n        " + yaml + "\n"
    )
    answer = await client.post(
        "/v1/workflows",
        content=document.encode("utf-8"),
        headers={"content-type": "application/yaml"},
    )
    assert answer.status_code == 422, answer.text
    error = _error(answer)
    assert error["code"] == "invalid_document"
    assert expected in json.dumps(error, ensure_ascii=False)
    await _nothing_stored(target)


#: Cursors the pattern admits but no stored position can hold (and the edges of the range).
OUT_OF_RANGE = ["9999999999999-0", "1-4194303", "1-1048576", "4398046511104-0"]
CURSOR_ROUTES = [
    ("GET", "/v1/events", "after"),
    ("GET", "/v1/events", "before"),
    ("GET", "/v1/workflows/p_target/event_summaries", "after"),
    ("GET", "/v1/workflows/p_target/event_summaries", "before"),
    ("GET", "/v1/sources/dc_x/event_summaries", "before"),
    ("GET", "/v1/sources/dc_x/event_summaries", "after"),
    ("DELETE", "/v1/sources/dc_x/events", "start_id"),
    ("DELETE", "/v1/sources/dc_x/events", "end_id"),
    ("GET", "/v1/events/stream", "after"),
]


@pytest.mark.parametrize("cursor", OUT_OF_RANGE)
@pytest.mark.parametrize(("method", "path", "name"), CURSOR_ROUTES)
async def test_cursors_no_position_can_hold_are_a_400(
    client: httpx.AsyncClient, target: Engine, method: str, path: str, name: str, cursor: str
) -> None:
    answer = await client.request(method, path, params={name: cursor})
    assert answer.status_code == 400, answer.text
    assert "largest a position holds" in _error(answer)["message"]


async def test_the_largest_position_is_a_valid_cursor(
    client: httpx.AsyncClient, target: Engine
) -> None:
    answer = await client.get("/v1/events", params={"after": "4398046511103-1048575"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == []
    last = await client.get("/v1/events/stream", headers={"Last-Event-ID": "1-1048576"})
    assert last.status_code == 400


@pytest.mark.parametrize(
    "url",
    ["/hooks/p_target?x=%ED%A0%80", "/hooks/p_%ED%A0%80", "/v1/workflows/p_%ED%A0%80"],
)
async def test_undecodable_paths_and_queries_are_not_a_5xx(
    client: httpx.AsyncClient, target: Engine, url: str
) -> None:
    answer = await client.post(url, content=b"{}") if "hooks" in url else await client.get(url)
    assert answer.status_code < 500, answer.text
