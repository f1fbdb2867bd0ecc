"""Per-destination delivery lanes (issue 10, items 11 and 12): a webhook that hangs, answers 500
or closes the connection never delays a healthy one; any exception while sending is a failed
attempt with its reason; a webhook that heals clears its ``last_error``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emitflow.clock import VirtualClock
from emitflow.runtime.engine import Engine
from emitflow.runtime.settings import EngineSettings
from emitflow.runtime.subscriptions import source_emitter_id
from emitflow.runtime.webhooks import WebhookSettings
from tests.standins.server import serve

SOURCE = "https://t.example/lanes"


class Counter:
    """A webhook receiver that counts the events it got and answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.ids: list[str] = []
        self.status = status

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            await request.body()
            self.ids.append(request.headers.get("ce-id", ""))
            return Response(status_code=self.status)

        return Starlette(routes=[Route("/hook", receive, methods=["POST"])])


@pytest.fixture
def healthy() -> Iterator[tuple[Counter, str]]:
    counter = Counter()
    with serve(counter.app()) as url:
        yield counter, f"{url}/hook"


@pytest.fixture
def failing() -> Iterator[str]:
    with serve(Counter(500).app()) as url:
        yield f"{url}/hook"


class RawServer:
    """A TCP server that either holds every request unanswered until released, or closes
    each connection as soon as it is accepted."""

    def __init__(self, *, hang: bool) -> None:
        self.hang = hang
        self.held = 0
        self.release = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hook"

    async def __aexit__(self, *exc: object) -> None:
        self.release.set()
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.hang:
            self.held += 1
            await self.release.wait()
        writer.close()


def _events(count: int) -> list[dict[str, Any]]:
    return [
        {"specversion": "1.0", "id": f"e{i}", "source": SOURCE, "type": "t.lanes", "data": i}
        for i in range(count)
    ]


async def _deliver_all(engine: Engine, counter: Counter, count: int) -> float:
    started = time.perf_counter()
    await engine.ingest_many(_events(count))
    async with asyncio.timeout(120):
        while len(set(counter.ids)) < count:  # noqa: ASYNC110 - a receiver thread, with a deadline
            await asyncio.sleep(0.01)
    return time.perf_counter() - started


SETTINGS = WebhookSettings(max_attempts=50, timeout_seconds=60)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    settings = EngineSettings(webhooks=SETTINGS, timers=False, rescan_seconds=0.2)
    async with Engine.open(f"sqlite:///{tmp_path}/e.db", settings=settings) as opened:
        yield opened


@pytest.mark.slow  # waits out the broken webhooks' real timeouts (about 11 s)
async def test_a_healthy_webhook_is_not_delayed_by_broken_ones(
    engine: Engine, healthy: tuple[Counter, str], failing: str, tmp_path: Path
) -> None:
    counter, url = healthy
    emitter = source_emitter_id(SOURCE)
    # Alone first: the healthy webhook's own time for 1,000 events.
    settings = EngineSettings(webhooks=SETTINGS, timers=False, rescan_seconds=0.2)
    async with Engine.open(f"sqlite:///{tmp_path}/alone.db", settings=settings) as alone:
        solo = await alone.create_webhook(url)
        await alone.subscribe(emitter_id=emitter, listener_id=solo.id)
        alone_seconds = await _deliver_all(alone, counter, 1000)
    counter.ids.clear()

    hang, close = RawServer(hang=True), RawServer(hang=False)
    async with hang as hang_url, close as close_url:
        for target in (hang_url, failing, close_url, url):
            webhook = await engine.create_webhook(target)
            await engine.subscribe(emitter_id=emitter, listener_id=webhook.id)
        beside_seconds = await _deliver_all(engine, counter, 1000)
        # Structural: every event reached the healthy webhook while the hanging one still held
        # its requests unanswered (its timeout is 60 s), so nothing waited for it.
        assert hang.held >= 1 and not hang.release.is_set()
        failed = [w for w in await engine.webhooks() if w.url in (failing, close_url)]
        assert [w.state != "healthy" and bool(w.last_error) for w in failed] == [True, True]
    print(
        f"healthy webhook, 1,000 events: alone {alone_seconds:.2f} s, "
        f"beside broken ones {beside_seconds:.2f} s"
    )
    assert len(counter.ids) == len(set(counter.ids)) == 1000
    # A regression guard, not a speed figure: before per-destination lanes the healthy webhook
    # waited behind every hanging POST (40 events took 55 s); 2x its time alone plus slack for
    # a loaded machine still catches that.
    assert beside_seconds <= 2 * alone_seconds + 5


@pytest.fixture
async def virtual(tmp_path: Path) -> AsyncIterator[Engine]:
    quick = WebhookSettings(max_attempts=2, base_seconds=10, disable_after=5)
    settings = EngineSettings(clock=VirtualClock(), webhooks=quick, timers=False)
    async with Engine.open(f"sqlite:///{tmp_path}/v.db", settings=settings) as opened:
        yield opened


async def _attempted(engine: Engine, webhook_id: str, attempts: int) -> Any:
    async with asyncio.timeout(30):
        while True:
            (delivery,) = await engine.webhook_deliveries(webhook_id)
            if delivery.attempts >= attempts:
                return delivery
            await asyncio.sleep(0.005)


async def test_an_exception_while_sending_is_a_failed_attempt_then_a_dead_letter(
    virtual: Engine, healthy: tuple[Counter, str]
) -> None:
    counter, url = healthy
    clock = virtual.settings.clock
    assert isinstance(clock, VirtualClock)
    webhook = await virtual.create_webhook(url)
    await virtual.subscribe(emitter_id=source_emitter_id(SOURCE), listener_id=webhook.id)
    event = _events(1)[0] | {"datacontenttype": "text/plain; charset=\u20ac"}
    await virtual.ingest(event)
    await virtual.drain()
    await virtual.deliver_webhooks()
    first = await _attempted(virtual, webhook.id, 1)
    assert (first.status, first.attempts) == ("pending", 1)
    assert first.last_error is not None and "UnicodeEncodeError" in first.last_error
    clock.advance(10)
    await virtual.deliver_webhooks()
    dead = await _attempted(virtual, webhook.id, 2)
    assert (dead.status, dead.attempts) == ("dead", 2)
    assert counter.ids == []


async def test_a_webhook_that_heals_clears_its_last_error(
    virtual: Engine, healthy: tuple[Counter, str]
) -> None:
    counter, url = healthy
    clock = virtual.settings.clock
    assert isinstance(clock, VirtualClock)
    counter.status = 500
    webhook = await virtual.create_webhook(url)
    await virtual.subscribe(emitter_id=source_emitter_id(SOURCE), listener_id=webhook.id)
    await virtual.ingest(_events(1)[0])
    await virtual.drain()
    await virtual.deliver_webhooks()
    await _attempted(virtual, webhook.id, 1)
    # The attempt is recorded before the webhook's health: poll for the health too.
    async with asyncio.timeout(30):
        while (await virtual.get_webhook(webhook.id)).state == "healthy":  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    failing = await virtual.get_webhook(webhook.id)
    assert (failing.state, failing.last_error) == ("backing_off", "HTTP 500")
    counter.status = 200
    clock.advance(10)
    await virtual.deliver_webhooks()
    await _attempted(virtual, webhook.id, 2)
    async with asyncio.timeout(30):
        while (await virtual.get_webhook(webhook.id)).state != "healthy":  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    assert (await virtual.get_webhook(webhook.id)).last_error is None
