"""A broker that goes away while 1,000 events are emitted, and comes back: every event
arrives, none twice after deduplication on ``source`` + ``id`` (JetStream dedupes by itself,
so on NATS none twice at all), in emit order; the engine kept running workflows meanwhile.

NATS and Redis: a server of the test's own on a free port, stopped and started again (the
shared ones are never touched). RabbitMQ and Mosquitto: a TCP proxy between emitflow and the
shared broker is cut (every connection dropped, new ones refused) and restored — an outage as
emitflow sees it, without stopping a broker others use.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import pytest

from emitflow.runtime.engine import Engine
from emitflow.runtime.settings import EngineSettings
from emitflow.runtime.subscriptions import source_emitter_id
from emitflow.runtime.webhooks import WebhookSettings
from tests.contract.brokers import StreamEntries, target
from tests.integration.brokers.outage import OwnServer, TcpProxy

TOTAL = 1000
SOURCE = "https://t.example/outage"
RETRY = WebhookSettings(
    base_seconds=0.05,
    factor=2,
    cap_seconds=0.5,
    max_attempts=100_000,
    disable_after=100_000,
    timeout_seconds=5,
    batch=100,
)
PASS = {
    "document": {"dsl": "1.0.0", "namespace": "t", "name": "pass", "version": "1.0.0"},
    "do": [{"keep": {"set": {"ok": True}}}],
}


def _events(start: int, stop: int) -> list[dict[str, Any]]:
    return [
        {"specversion": "1.0", "id": f"e{i:04d}", "source": SOURCE, "type": "t.outage", "data": i}
        for i in range(start, stop)
    ]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    settings = EngineSettings(
        webhooks=RETRY, timers=False, rescan_seconds=0.1, close_grace_seconds=0.05
    )
    async with Engine.open(f"sqlite:///{tmp_path}/o.db", settings=settings) as opened:
        yield opened


async def _until(check: Callable[[], Awaitable[bool]], within: float = 60.0) -> None:
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - another task's progress, with a deadline
            await asyncio.sleep(0.02)


async def _outage(
    engine: Engine,
    url: str,
    down: Callable[[], Awaitable[None]],
    up: Callable[[], Awaitable[None]],
) -> None:
    """Emit half, lose the broker once some arrived, emit the rest, bring it back, drain."""
    destination = await engine.create_webhook(url)
    await engine.subscribe(emitter_id=source_emitter_id(SOURCE), listener_id=destination.id)

    async def delivered(count: int) -> bool:
        found = await engine.webhook_deliveries(destination.id, status="delivered", limit=TOTAL)
        return len(found) >= count

    for start in range(0, TOTAL // 2, 50):
        await engine.ingest_many(_events(start, start + 50))
    await _until(lambda: delivered(100))
    await down()
    for start in range(TOTAL // 2, TOTAL, 50):
        await engine.ingest_many(_events(start, start + 50))

    async def failing() -> bool:
        return (await engine.get_webhook(destination.id)).state == "backing_off"

    await _until(failing)
    # The engine keeps serving while the broker is away.
    passing = await engine.deploy(PASS)
    run = await engine.start(passing.id)
    assert (await engine.wait(run.id)).status == "completed"
    await up()
    await _until(lambda: delivered(TOTAL), within=120)
    assert await engine.webhook_deliveries(destination.id, status="dead") == []

    async def healthy() -> bool:  # marked after the batch that ended the outage is stored
        return (await engine.get_webhook(destination.id)).state == "healthy"

    await _until(healthy)


def _check(ids: list[str], *, exact: bool) -> None:
    first = list(dict.fromkeys(ids))  # deduplicated on id (one source), first arrival kept
    assert first == [f"e{i:04d}" for i in range(TOTAL)]  # every one, in emit order
    if exact:
        assert len(ids) == TOTAL
    print(f"read {len(ids)} messages for {TOTAL} events ({len(ids) - TOTAL} duplicates)")


async def test_nats_outage(engine: Engine, tmp_path: Path) -> None:
    server = OwnServer("nats", tmp_path / "nats")
    await server.start()
    try:
        url = f"{server.url}?subject=o.{{type}}&stream=OUT"
        await _outage(engine, url, server.stop, server.start)
        import nats

        client = await nats.connect(server.url)
        try:
            sub = await client.jetstream().pull_subscribe("o.>", stream="OUT")
            ids: list[str] = []
            while len(ids) < TOTAL:
                for msg in await sub.fetch(200, timeout=5):
                    ids.append((msg.headers or {})["ce-id"])
            with contextlib.suppress(Exception):
                ids.extend((m.headers or {})["ce-id"] for m in await sub.fetch(10, timeout=0.5))
        finally:
            await client.close()
        _check(ids, exact=True)
    finally:
        await server.stop()


async def test_redis_outage(engine: Engine, tmp_path: Path) -> None:
    server = OwnServer("redis", tmp_path)
    await server.start()
    try:
        await _outage(engine, f"{server.url}/0?stream=out", server.stop, server.start)
        import redis.asyncio as aioredis

        client = aioredis.Redis(port=server.port)
        try:
            entries = cast(StreamEntries, await client.xrange("out"))
        finally:
            await client.aclose()
        _check([fields[b"id"].decode() for _, fields in entries], exact=False)
    finally:
        await server.stop()


@pytest.mark.parametrize(
    ("scheme", "port"),
    # MQTT's reconnect waits out the client's real back-off: about 11 s.
    [("amqp", 5672), pytest.param("mqtt", 1883, marks=pytest.mark.slow)],
)
async def test_proxied_outage(engine: Engine, scheme: str, port: int) -> None:
    async with target(scheme) as place:
        proxy = TcpProxy(port)
        await proxy.start()
        try:
            url = place.url.replace(f":{port}", f":{proxy.port}")
            await _outage(engine, url, proxy.cut, proxy.restore)
            ids = await place.read_ids(TOTAL)
        finally:
            await proxy.cut()
    _check(ids, exact=False)


async def test_a_nats_server_that_stops_answering_mid_batch_fails_the_batch_in_time(
    tmp_path: Path,
) -> None:
    """The driver never fails a publish whose PubAck does not come; ``ack_timeout`` does."""
    import signal

    from emitflow.brokers.factory import open_transport

    server = OwnServer("nats", tmp_path / "nats")
    await server.start()
    url = f"{server.url}?subject=h.{{type}}&stream=HANG&ack_timeout=0.5"
    transport = await open_transport(url)
    try:
        assert (await transport.publish(_events(0, 2))).count == 2
        assert server.process is not None
        server.process.send_signal(signal.SIGSTOP)  # connected, but no PubAck comes back
        stat = Path(f"/proc/{server.process.pid}/stat")
        try:
            await _until(lambda: _stopped(stat), within=10)
            acks = await asyncio.wait_for(transport.publish(_events(2, 12)), timeout=30)
        finally:
            server.process.send_signal(signal.SIGCONT)
        assert acks.count == 0
        assert acks.error is not None and "no PubAck within 0.5 s (ack_timeout)" in acks.error
    finally:
        await transport.close()
        await server.stop()


async def _stopped(stat: Path) -> bool:
    text = await asyncio.to_thread(stat.read_text)
    return text.rsplit(")", 1)[1].split()[0] == "T"


@pytest.mark.parametrize("value", ["soon", "0", "-1"])
async def test_a_bad_ack_timeout_is_named(value: str) -> None:
    from emitflow.brokers.nats import NatsTransport
    from emitflow.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=f"ack_timeout='{value}' is not a number"):
        NatsTransport(f"nats://127.0.0.1:4222?ack_timeout={value}")
