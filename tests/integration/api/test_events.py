"""``POST /v1/events`` in the three modes of the HTTP binding, and ``GET /v1/events``."""

from __future__ import annotations

import json
from typing import Any

import httpx

from emitflow.runtime.engine import Engine
from emitflow.runtime.subscriptions import source_emitter_id

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"


def _event(n: int, **extra: object) -> dict[str, object]:
    return {
        "specversion": "1.0",
        "id": f"e{n}",
        "source": "/orders",
        "type": "com.example.order.placed",
        "data": {"n": n},
        **extra,
    }


async def _stored(
    client: httpx.AsyncClient, engine: Engine, **params: str | int
) -> list[dict[str, Any]]:
    await engine.drain()
    answer = await client.get("/v1/events", params=params)
    assert answer.status_code == 200, answer.text
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


async def test_binary_mode(client: httpx.AsyncClient, engine: Engine) -> None:
    answer = await client.post(
        "/v1/events",
        content=b'{"total": 12}',
        headers={
            "ce-specversion": "1.0",
            "ce-id": "b1",
            "ce-source": "/shop%20one",
            "ce-type": "com.example.paid",
            "ce-subject": "order-7",
            "Content-Type": "application/json",
        },
    )
    assert answer.status_code == 202, answer.text
    (accepted,) = answer.json()["data"]
    assert accepted == {
        "id": "b1",
        "source": "/shop one",
        "emitter_id": source_emitter_id("/shop one"),
    }
    (item,) = await _stored(client, engine)
    assert item["event"]["data"] == {"total": 12}
    assert item["event"]["subject"] == "order-7"
    assert item["emitter_id"].startswith("dc_")


async def test_structured_mode(client: httpx.AsyncClient, engine: Engine) -> None:
    answer = await client.post(
        "/v1/events", content=json.dumps(_event(1)), headers={"Content-Type": STRUCTURED}
    )
    assert answer.status_code == 202, answer.text
    (item,) = await _stored(client, engine)
    assert item["event"]["id"] == "e1"


async def test_batch_mode_is_all_or_nothing(client: httpx.AsyncClient, engine: Engine) -> None:
    bad = [_event(1), {"specversion": "1.0", "id": "x", "type": "t"}]
    refused = await client.post(
        "/v1/events", content=json.dumps(bad), headers={"Content-Type": BATCH}
    )
    assert refused.status_code == 400
    assert "event #1" in refused.json()["error"]["message"]
    assert "source" in refused.json()["error"]["message"]
    assert await _stored(client, engine) == []
    good = [_event(1), _event(2), _event(3)]
    answer = await client.post(
        "/v1/events", content=json.dumps(good), headers={"Content-Type": BATCH}
    )
    assert answer.status_code == 202
    assert [i["event"]["id"] for i in await _stored(client, engine)] == ["e3", "e2", "e1"]


async def test_a_request_without_an_event_names_the_modes(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/v1/events", content=b"hello", headers={"Content-Type": "text/plain"}
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_event"
    assert "ce-id" in answer.json()["error"]["message"]


async def test_an_event_over_the_size_limit_is_refused(client: httpx.AsyncClient) -> None:
    big = _event(1, data={"blob": "x" * (300 * 1024)})
    answer = await client.post(
        "/v1/events", content=json.dumps(big), headers={"Content-Type": STRUCTURED}
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "event_too_large"


async def test_list_filters_and_pages(client: httpx.AsyncClient, engine: Engine) -> None:
    events = [_event(n, subject="a" if n % 2 else "b") for n in range(1, 6)]
    await client.post("/v1/events", content=json.dumps(events), headers={"Content-Type": BATCH})
    odd = await _stored(client, engine, subject="a")
    assert [i["event"]["id"] for i in odd] == ["e5", "e3", "e1"]
    first = (await client.get("/v1/events", params={"limit": 2})).json()
    assert [i["event"]["id"] for i in first["data"]] == ["e5", "e4"]
    rest = await client.get(
        "/v1/events", params={"limit": 2, "before": first["page_info"]["end_cursor"]}
    )
    assert [i["event"]["id"] for i in rest.json()["data"]] == ["e3", "e2"]
    bad = await client.get("/v1/events", params={"before": "yesterday"})
    assert bad.status_code == 400
    assert "before" in bad.json()["error"]["message"]


async def test_ingested_events_reach_a_subscribed_listener(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    listener = await engine.deploy(
        {
            "document": {"dsl": "1.0.0", "namespace": "t", "name": "listener", "version": "1.0.0"},
            "do": [{"keep": {"set": {"got": "${ .[0].data.n }"}}}],
        }
    )
    emitter_id = source_emitter_id("/orders")
    subscribed = await client.post(
        "/v1/subscriptions", params={"emitter_id": emitter_id, "listener_id": listener.id}
    )
    assert subscribed.status_code == 200, subscribed.text
    await client.post(
        "/v1/events", content=json.dumps(_event(7)), headers={"Content-Type": STRUCTURED}
    )
    await engine.drain()
    runs = (await client.get(f"/v1/workflows/{listener.id}/runs")).json()["data"]
    assert [run["output"] for run in runs] == [{"got": 7}]
