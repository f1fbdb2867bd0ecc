"""``GET /v1/events/stream``: live events as SSE, heartbeats, resuming without gap or duplicate."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from emitflow.runtime.engine import Engine
from tests.integration.api.conftest import ADMIN_TOKEN
from tests.unit.runtime.fakes import eventually

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _event(n: int) -> dict[str, object]:
    return {"specversion": "1.0", "id": f"e{n}", "source": "/s", "type": "t.x", "data": {"n": n}}


async def _messages(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, str]]:
    message: dict[str, str] = {}
    async for line in lines:
        if line == "":
            if message:
                yield message
            message = {}
        elif line.startswith(":"):
            message.setdefault("comment", line[1:].strip())
        else:
            field, _, value = line.partition(":")
            message[field] = value.removeprefix(" ")


async def _read(
    url: str, count: int, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The first ``count`` events of a stream (comments skipped)."""
    got: list[dict[str, Any]] = []
    async with (
        httpx.AsyncClient(timeout=30) as http,
        http.stream(
            "GET", f"{url}/v1/events/stream", headers={**AUTH, **(headers or {})}
        ) as answer,
    ):
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        async for message in _messages(answer.aiter_lines()):
            if "data" in message:
                got.append({"id": message["id"], **json.loads(message["data"])})
                if len(got) == count:
                    return got
    return got


async def test_live_events_arrive(live_url: str, engine: Engine) -> None:
    import asyncio

    reader = asyncio.ensure_future(_read(live_url, 3))

    async def attached() -> bool:
        return engine.feed.readers > 0

    await eventually(attached, within=30)
    await engine.ingest_many([_event(n) for n in range(3)])
    got = await asyncio.wait_for(reader, 30)
    assert [item["event"]["id"] for item in got] == ["e0", "e1", "e2"]
    assert [item["id"] for item in got] == sorted(item["id"] for item in got)


async def test_resume_after_last_event_id_has_no_gap_and_no_duplicate(
    live_url: str, engine: Engine
) -> None:
    await engine.ingest_many([_event(n) for n in range(5)])
    await engine.drain()
    everything = await _read(live_url, 5, {"Last-Event-ID": "0-0"})
    assert [i["event"]["id"] for i in everything] == ["e0", "e1", "e2", "e3", "e4"]
    after_second = await _read(live_url, 3, {"Last-Event-ID": everything[1]["id"]})
    assert [i["event"]["id"] for i in after_second] == ["e2", "e3", "e4"]


async def test_a_quiet_stream_sends_heartbeats(live_url: str) -> None:
    async with (
        httpx.AsyncClient(timeout=30) as http,
        http.stream("GET", f"{live_url}/v1/events/stream", headers=AUTH) as answer,
    ):
        comments = []
        async for message in _messages(answer.aiter_lines()):
            comments.append(message.get("comment"))
            if "heartbeat" in comments:
                break
    assert "heartbeat" in comments


async def test_the_stream_needs_a_token(live_url: str) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.get(f"{live_url}/v1/events/stream")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"
