"""Webhook listeners: events POSTed as CloudEvents to a real local receiver, retries with
backoff on the injected clock, dead letters, health, and deliveries that survive a restart."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emitflow.clock import VirtualClock
from emitflow.errors import ConfigurationError, NotFoundError
from emitflow.runtime.engine import Engine
from emitflow.runtime.settings import EngineSettings
from emitflow.runtime.webhooks import WebhookSettings, masked_url
from tests.standins.server import serve

EMITTER = {
    "document": {"dsl": "1.0.0", "namespace": "t", "name": "emitter", "version": "1.0.0"},
    "do": [
        {
            "tell": {
                "emit": {
                    "event": {
                        "with": {
                            "source": "https://t.example/orders",
                            "type": "com.example.order.placed",
                            "subject": "order 7",
                            "data": {"order": 7},
                        }
                    }
                }
            }
        }
    ],
}


@dataclass
class Receiver:
    """A webhook receiver answering with the scripted statuses (then 200)."""

    statuses: list[int] = field(default_factory=list)
    got: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            body = await request.body()
            self.got.append({"headers": dict(request.headers), "body": body})
            status = self.statuses.pop(0) if self.statuses else 200
            return Response(status_code=status)

        return Starlette(routes=[Route("/hook", receive, methods=["POST"])])


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    scripted = Receiver()
    with serve(scripted.app()) as url:
        yield scripted, f"{url}/hook"


SETTINGS = WebhookSettings(max_attempts=3, base_seconds=10, factor=2, disable_after=3)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    settings = EngineSettings(clock=VirtualClock(), webhooks=SETTINGS, timers=False)
    async with Engine.open(f"sqlite:///{tmp_path}/e.db", settings=settings) as opened:
        yield opened


async def _emit_once(engine: Engine, webhook_id: str) -> None:
    emitter = await engine.deploy(EMITTER)
    await engine.subscribe(emitter_id=emitter.id, listener_id=webhook_id)
    await engine.start(emitter.id)
    await engine.drain()


async def _until(check: Any, within: float = 30.0) -> None:
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 - a receiver in another thread, with a deadline
            await asyncio.sleep(0.005)


async def _attempts(engine: Engine, webhook_id: str, count: int) -> None:
    async with asyncio.timeout(30):
        while True:
            (delivery,) = await engine.webhook_deliveries(webhook_id)
            if delivery.attempts >= count:
                return
            await asyncio.sleep(0.005)


async def test_binary_mode_posts_ce_headers_and_the_data(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    scripted, url = receiver
    webhook = await engine.create_webhook(url, name="orders")
    assert webhook.id.startswith("wh_")
    await _emit_once(engine, webhook.id)
    await _until(lambda: scripted.got)
    (request,) = scripted.got
    headers = request["headers"]
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-type"] == "com.example.order.placed"
    assert headers["ce-source"] == "https://t.example/orders"
    assert headers["ce-subject"] == "order%207"
    assert headers["content-type"] == "application/json"
    assert json.loads(request["body"]) == {"order": 7}
    await _until(lambda: True)
    (delivery,) = await engine.webhook_deliveries(webhook.id)
    assert delivery.status in {"pending", "delivered"}


async def test_structured_mode_posts_the_whole_event(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    scripted, url = receiver
    webhook = await engine.create_webhook(url, mode="structured")
    await _emit_once(engine, webhook.id)
    await _until(lambda: scripted.got)
    (request,) = scripted.got
    assert request["headers"]["content-type"] == "application/cloudevents+json"
    event = json.loads(request["body"])
    assert (event["type"], event["data"]) == ("com.example.order.placed", {"order": 7})


async def test_a_failure_is_retried_after_the_backoff_and_heals(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    scripted, url = receiver
    scripted.statuses = [500]
    webhook = await engine.create_webhook(url)
    await _emit_once(engine, webhook.id)
    await _until(lambda: len(scripted.got) == 1)

    async def backing_off() -> bool:
        return (await engine.get_webhook(webhook.id)).state == "backing_off"

    async with asyncio.timeout(30):
        while not await backing_off():  # noqa: ASYNC110 - the worker's write, with a deadline
            await asyncio.sleep(0.005)
    await _attempts(engine, webhook.id, 1)
    (pending,) = await engine.webhook_deliveries(webhook.id)
    assert (pending.status, pending.attempts, pending.last_error) == ("pending", 1, "HTTP 500")
    assert await engine.deliver_webhooks() == 0  # not due before the backoff
    clock = engine.settings.clock
    assert isinstance(clock, VirtualClock)
    clock.advance(10)
    await engine.deliver_webhooks()
    await _attempts(engine, webhook.id, 2)
    await _until(lambda: len(scripted.got) == 2)
    (delivered,) = await engine.webhook_deliveries(webhook.id)
    assert (delivered.status, delivered.attempts) == ("delivered", 2)
    async with asyncio.timeout(30):
        while (await engine.get_webhook(webhook.id)).state != "healthy":  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    assert (await engine.get_webhook(webhook.id)).failures == 0


async def test_the_last_failure_leaves_a_dead_letter_and_failures_disable(
    engine: Engine,
) -> None:
    clock = engine.settings.clock
    assert isinstance(clock, VirtualClock)
    # Nothing listens on port 9 of loopback: every attempt is a refused connection.
    webhook = await engine.create_webhook("http://127.0.0.1:9/hook")
    await _emit_once(engine, webhook.id)
    for attempt, delay in ((1, 0), (2, 10), (3, 20)):
        clock.advance(delay)
        await engine.deliver_webhooks()  # or the engine's worker does: either way, once
        await _attempts(engine, webhook.id, attempt)
    (dead,) = await engine.webhook_deliveries(webhook.id, status="dead")
    assert dead.attempts == 3
    assert dead.last_error is not None and "ConnectError" in dead.last_error
    async with asyncio.timeout(30):
        while (await engine.get_webhook(webhook.id)).state != "disabled":  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    assert (await engine.get_webhook(webhook.id)).failures == 3
    enabled = await engine.enable_webhook(webhook.id)
    assert (enabled.state, enabled.failures) == ("healthy", 0)


async def test_a_disabled_webhook_gets_dead_letters_not_calls(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    scripted, url = receiver
    webhook = await engine.create_webhook(url)
    from dataclasses import replace

    await engine.store.put_webhook(replace(webhook, state="disabled"))
    await _emit_once(engine, webhook.id)
    await engine.deliver_webhooks()
    async with asyncio.timeout(30):
        while not await engine.webhook_deliveries(webhook.id, status="dead"):  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    assert scripted.got == []


async def test_a_pending_delivery_survives_a_restart(
    tmp_path: Path, receiver: tuple[Receiver, str]
) -> None:
    scripted, url = receiver
    scripted.statuses = [503]
    clock = VirtualClock()
    settings = EngineSettings(clock=clock, webhooks=SETTINGS, timers=False)
    async with Engine.open(f"sqlite:///{tmp_path}/r.db", settings=settings) as first:
        webhook = await first.create_webhook(url)
        await _emit_once(first, webhook.id)
        await _until(lambda: len(scripted.got) == 1)
        # Closed once the failed attempt is recorded (closing during an attempt leaves the
        # delivery leased: it is tried again when the lease ends, which is another test).
        await _attempts(first, webhook.id, 1)
    clock.advance(10)
    async with Engine.open(f"sqlite:///{tmp_path}/r.db", settings=settings) as second:
        await _until(lambda: len(scripted.got) == 2)
        async with asyncio.timeout(30):
            while (await second.webhook_deliveries(webhook.id))[0].status != "delivered":  # noqa: ASYNC110
                await asyncio.sleep(0.005)


async def test_bad_urls_and_unknown_webhooks_are_refused(engine: Engine) -> None:
    with pytest.raises(ConfigurationError, match="http"):
        await engine.create_webhook("ftp://example.com/x")
    with pytest.raises(ConfigurationError, match="absolute"):
        await engine.create_webhook("/relative")
    emitter = await engine.deploy(EMITTER)
    with pytest.raises(NotFoundError, match="wh_nothing"):
        await engine.subscribe(emitter_id=emitter.id, listener_id="wh_nothing")


def test_urls_are_shown_masked() -> None:
    assert masked_url("https://bob:s3cret@h.example/p?token=abc&x=1") == (
        "https://bob:***@h.example/p?token=***&x=***"
    )
