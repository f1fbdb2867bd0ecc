"""``POST /v1/events``: attributes the CloudEvents spec forbids are 400s naming the attribute;
binary data is accepted in every mode and read back byte for byte."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest
from cloudevents.v1.conversion import to_binary, to_structured
from cloudevents.v1.http import CloudEvent as SdkEvent

from emitflow.api import ApiSettings, create_app
from emitflow.runtime.engine import Engine
from tests.integration.api.conftest import ADMIN_TOKEN

STRUCTURED = {"Content-Type": "application/cloudevents+json"}
BASE = {"specversion": "1.0", "source": "/tests/ingest", "type": "com.example.ingest"}
BLOB = bytes(range(256)) + b"\x00\xff\xfe not utf-8 \x80"


def _event(**attributes: Any) -> dict[str, Any]:
    return {**BASE, "id": "e-1", **attributes}


@pytest.mark.parametrize(
    ("attributes", "named"),
    [
        ({"time": "yesterday"}, "'time'"),
        ({"time": "2026-13-40T25:00:00Z"}, "'time'"),
        ({"time": "2026-01-31 12:00:00"}, "'time'"),
        ({"dataschema": "not a uri"}, "'dataschema'"),
        ({"dataschema": "schemas/order.json"}, "'dataschema'"),
        ({"averyveryverylongextensionname": "x"}, "'averyveryverylongextensionname'"),
        ({"Upper": "x"}, "'Upper'"),
        ({"id": ""}, "'id'"),
        ({"id": 42}, "'id'"),
        ({"emitflowhops": -1}, "'emitflowhops'"),
        ({"emitflowhops": 10**12}, "'emitflowhops'"),
        ({"emitflowhops": "lots"}, "'emitflowhops'"),
        ({"emitflowhops": True}, "'emitflowhops'"),
    ],
)
async def test_invalid_attributes_are_400_naming_them(
    client: httpx.AsyncClient, attributes: dict[str, Any], named: str
) -> None:
    answer = await client.post("/v1/events", json=_event(**attributes), headers=STRUCTURED)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_event"
    assert named in error["message"]


@pytest.mark.parametrize(
    "headers",
    [
        {"ce-emitflowhops": "-3"},
        {"ce-emitflowhops": "99999999999999999999"},
        {"ce-time": "2026-01-31"},
        {"ce-thisextensionnameistoolong": "1"},
    ],
)
async def test_binary_mode_attributes_are_checked_too(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    base = {f"ce-{k}": v for k, v in _event().items()}
    answer = await client.post(
        "/v1/events", content=b"{}", headers={**base, "Content-Type": "application/json", **headers}
    )
    assert answer.status_code == 400, answer.text
    (name,) = (key[3:] for key in headers)
    assert f"'{name}'" in answer.json()["error"]["message"]


async def test_a_valid_event_with_extensions_and_hops_is_accepted(
    client: httpx.AsyncClient,
) -> None:
    event = _event(
        time="2026-01-31T12:00:00.5+01:00",
        dataschema="https://example.com/schemas/order.json",
        emitflowhops=3,
        tenant="acme",
        data={"ok": True},
    )
    answer = await client.post("/v1/events", json=event, headers=STRUCTURED)
    assert answer.status_code == 202, answer.text


async def _stored(client: httpx.AsyncClient, event_id: str) -> dict[str, Any]:
    """The stored event, once the dispatcher has logged it (polled with a deadline)."""
    async with asyncio.timeout(30):
        while True:
            page = (await client.get("/v1/events", params={"source": BASE["source"]})).json()
            found = [item for item in page["data"] if item["event"]["id"] == event_id]
            if found:
                event: dict[str, Any] = found[0]["event"]
                return event
            await asyncio.sleep(0.01)


async def test_structured_data_base64_is_kept_byte_for_byte(client: httpx.AsyncClient) -> None:
    encoded = base64.b64encode(BLOB).decode()
    event = _event(id="b64", datacontenttype="application/octet-stream", data_base64=encoded)
    answer = await client.post("/v1/events", json=event, headers=STRUCTURED)
    assert answer.status_code == 202, answer.text
    stored = await _stored(client, "b64")
    assert "data" not in stored
    assert base64.b64decode(stored["data_base64"]) == BLOB


async def test_both_data_and_data_base64_is_a_400(client: httpx.AsyncClient) -> None:
    event = _event(data={"a": 1}, data_base64="AAE=")
    answer = await client.post("/v1/events", json=event, headers=STRUCTURED)
    assert answer.status_code == 400
    assert "'data_base64'" in answer.json()["error"]["message"]


async def test_bad_base64_is_a_400(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v1/events", json=_event(data_base64="%%%"), headers=STRUCTURED)
    assert answer.status_code == 400
    assert "'data_base64'" in answer.json()["error"]["message"]


@pytest.mark.parametrize("media", ["application/octet-stream", "image/png", "text/plain"])
async def test_binary_mode_keeps_any_body(client: httpx.AsyncClient, media: str) -> None:
    event_id = f"bin-{media.replace('/', '-')}"
    headers = {f"ce-{k}": v for k, v in _event(id=event_id).items()}
    answer = await client.post(
        "/v1/events", content=BLOB, headers={**headers, "Content-Type": media}
    )
    assert answer.status_code == 202, answer.text
    stored = await _stored(client, event_id)
    assert stored["datacontenttype"] == media
    assert base64.b64decode(stored["data_base64"]) == BLOB


async def test_binary_text_stays_text(client: httpx.AsyncClient) -> None:
    headers = {f"ce-{k}": v for k, v in _event(id="text").items()}
    body = "héllo wörld".encode()
    answer = await client.post(
        "/v1/events", content=body, headers={**headers, "Content-Type": "text/plain; charset=utf-8"}
    )
    assert answer.status_code == 202, answer.text
    stored = await _stored(client, "text")
    assert stored["data"].encode() == body


@pytest.mark.parametrize("mode", ["binary", "structured"])
async def test_the_cloudevents_sdk_round_trips_bytes(client: httpx.AsyncClient, mode: str) -> None:
    sdk_event = SdkEvent(
        {
            "type": "com.example.sdk",
            "source": BASE["source"],
            "id": f"sdk-{mode}",
            "datacontenttype": "application/octet-stream",
        },
        BLOB,
    )
    headers, body = (to_binary if mode == "binary" else to_structured)(sdk_event)
    answer = await client.post("/v1/events", content=body, headers=dict(headers))
    assert answer.status_code == 202, answer.text
    stored = await _stored(client, f"sdk-{mode}")
    assert base64.b64decode(stored["data_base64"]) == BLOB
    assert stored["type"] == "com.example.sdk"


async def test_a_binary_source_event_in_event_summaries(client: httpx.AsyncClient) -> None:
    headers = {f"ce-{k}": v for k, v in _event(id="summary").items()}
    answer = await client.post(
        "/v1/events",
        content=BLOB,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )
    emitter = answer.json()["data"][0]["emitter_id"]
    await _stored(client, "summary")
    page = (await client.get(f"/v1/sources/{emitter}/event_summaries?expand=event")).json()
    (item,) = [i for i in page["data"] if i["metadata"]["emit_id"] == "summary"]
    assert base64.b64decode(item["event"]) == BLOB
    assert item["metadata"]["encoding"] == "base64"


async def test_a_client_gone_before_its_body_is_an_info_line(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    # The ASGI app directly: the body never comes, the client has disconnected.
    app = create_app(engine, ApiSettings(admin_token=ADMIN_TOKEN))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/events",
        "raw_path": b"/v1/events",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"emitflow.test"),
            (b"authorization", f"Bearer {ADMIN_TOKEN}".encode()),
            (b"content-type", b"application/cloudevents+json"),
            (b"content-length", b"100"),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    with caplog.at_level(logging.INFO, logger="emitflow.api"):
        await app(scope, receive, send)  # raises nothing: the server logs no traceback
    assert [r.levelno for r in caplog.records] == [logging.INFO]
    assert "disconnected" in caplog.records[0].getMessage()
    assert caplog.records[0].exc_info is None
    assert sent[0]["status"] == 499
    assert not (await engine.events(None, event_name=None)).items
