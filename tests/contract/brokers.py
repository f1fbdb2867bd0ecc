"""Plain clients that read back what a transport published, one per broker, and the URLs of
unique (per test) subjects, streams, queues and topics on the shared loopback brokers."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.http import HTTPMessage, from_http_event

from tests.conftest import require_service

PORTS = {"nats": 4222, "redis": 6379, "amqp": 5672, "mqtt": 1883}
SERVICES = {"nats": "nats", "redis": "redis", "amqp": "rabbitmq", "mqtt": "mosquitto"}


@dataclass
class Target:
    """A unique place on one broker: the destination URL, and a reader of what arrived."""

    scheme: str
    url: str
    name: str

    async def read(self, count: int) -> list[BaseCloudEvent]:
        """The first ``count`` events published there, parsed by the ``cloudevents`` SDK."""
        reader = _READERS[self.scheme]
        async with asyncio.timeout(20):
            return await reader(self, count)

    async def read_ids(self, distinct: int) -> list[str]:
        """Event ids in arrival order, duplicates included, until ``distinct`` different ones
        arrived (after an outage a broker may hold an event twice)."""
        ids: list[str] = []
        async with asyncio.timeout(60):
            while len(set(ids)) < distinct:
                if self.scheme == "mqtt":  # the collector keeps everything: read it all again
                    ids = [e.get_id() for e in await _mqtt_read(self, 0, everything=True)]
                    await asyncio.sleep(0.01)
                else:  # a queue: each read takes what it returns
                    missing = distinct - len(set(ids))
                    ids += [e.get_id() for e in await _READERS[self.scheme](self, missing)]
        return ids


def unique() -> str:
    return uuid.uuid4().hex[:10]


@asynccontextmanager
async def target(scheme: str, mode: str = "binary") -> AsyncIterator[Target]:
    """A fresh subject/stream/queue/topic on the shared broker, removed afterwards."""
    require_service(SERVICES[scheme], port=PORTS[scheme])
    name = unique()
    if scheme == "nats":
        url = f"nats://127.0.0.1:4222?subject=t{name}.{{type}}&stream=T{name}"
    elif scheme == "redis":
        url = f"redis://127.0.0.1:6379/0?stream=t{name}"
    elif scheme == "amqp":
        url = f"amqp://guest:guest@127.0.0.1:5672/?exchange=t{name}&routing_key={{type}}"
    else:
        url = f"mqtt://127.0.0.1:1883?topic=t{name}/{{type}}"
    found = Target(scheme=scheme, url=url, name=name)
    try:
        if scheme in _PREPARE:
            await _PREPARE[scheme](found)
        yield found
    finally:
        await _CLEAN[scheme](found)


# --- NATS ----------------------------------------------------------------------------------


async def _nats_read(t: Target, count: int) -> list[BaseCloudEvent]:
    import nats

    client = await nats.connect("nats://127.0.0.1:4222")
    try:
        sub = await client.jetstream().pull_subscribe(f"t{t.name}.>", stream=f"T{t.name}")
        got: list[BaseCloudEvent] = []
        while len(got) < count:
            for msg in await sub.fetch(count - len(got), timeout=5):
                headers = {k.lower(): v for k, v in (msg.headers or {}).items()}
                got.append(from_http_event(HTTPMessage(headers=headers, body=msg.data)))
                await msg.ack()
        return got
    finally:
        await client.close()


async def _nats_clean(t: Target) -> None:
    import nats

    client = await nats.connect("nats://127.0.0.1:4222")
    try:
        with contextlib.suppress(Exception):  # the stream was never created
            await client.jetstream().delete_stream(f"T{t.name}")
    finally:
        await client.close()


# --- Redis ---------------------------------------------------------------------------------

#: XRANGE's answer on a client without ``decode_responses``: bytes names and values. redis's
#: stubs type it for both modes at once (``bytes | str``, entries and fields Optional).
StreamEntries = list[tuple[bytes, dict[bytes, bytes]]]


def sdk_from_fields(fields: dict[str, Any]) -> BaseCloudEvent:
    """Attribute fields (bare names) and a ``data`` body, read by the SDK's binary decoding."""
    attrs = {k: v for k, v in fields.items() if k not in ("data", "datacontenttype")}
    headers = {f"ce-{k}": str(v) for k, v in attrs.items()}
    if fields.get("datacontenttype"):
        headers["content-type"] = str(fields["datacontenttype"])
    body = fields.get("data") or b""
    return from_http_event(HTTPMessage(headers=headers, body=bytes(body)))


async def _redis_read(t: Target, count: int) -> list[BaseCloudEvent]:
    import redis.asyncio as aioredis

    client = aioredis.Redis()
    try:
        while True:
            entries = cast(StreamEntries, await client.xrange(f"t{t.name}"))
            if len(entries) >= count:
                break
            await asyncio.sleep(0.01)
        got = []
        for _, fields in entries[:count]:
            if b"cloudevent" in fields:  # structured mode: the JSON event in one field
                message = HTTPMessage(
                    headers={"content-type": "application/cloudevents+json"},
                    body=fields[b"cloudevent"],
                )
                got.append(from_http_event(message))
                continue
            text = {k.decode(): (v if k == b"data" else v.decode()) for k, v in fields.items()}
            got.append(sdk_from_fields(text))
        return got
    finally:
        await client.aclose()


async def _redis_clean(t: Target) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis()
    try:
        await client.delete(f"t{t.name}")
    finally:
        await client.aclose()


# --- RabbitMQ ------------------------------------------------------------------------------

AMQP = "amqp://guest:guest@127.0.0.1:5672/"


async def _amqp_prepare(t: Target) -> None:
    """A queue bound to the exchange before anything is published (else it is dropped)."""
    import aio_pika

    connection = await aio_pika.connect(AMQP)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            f"t{t.name}", aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(f"q{t.name}", durable=True)
        await queue.bind(exchange, routing_key="#")


async def _amqp_read(t: Target, count: int) -> list[BaseCloudEvent]:
    import aio_pika
    from cloudevents.core.bindings.amqp import AMQPMessage, from_amqp_event

    connection = await aio_pika.connect(AMQP)
    got: list[BaseCloudEvent] = []
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(f"q{t.name}", durable=True)
        while len(got) < count:
            incoming = await queue.get(fail=False)
            if incoming is None:
                await asyncio.sleep(0.01)
                continue
            message = AMQPMessage(
                properties={"content-type": incoming.content_type or ""},
                application_properties={
                    k: v.decode() if isinstance(v, bytes) else v
                    for k, v in (incoming.headers or {}).items()
                },
                application_data=incoming.body,
            )
            got.append(from_amqp_event(message))
            await incoming.ack()
    return got


async def _amqp_clean(t: Target) -> None:
    import aio_pika

    connection = await aio_pika.connect(AMQP)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(f"q{t.name}")
        await channel.exchange_delete(f"t{t.name}")


# --- MQTT ----------------------------------------------------------------------------------

_MQTT_READERS: dict[str, Any] = {}


async def _mqtt_prepare(t: Target) -> None:
    """A subscribed reader collecting in the background, started before anything is sent."""
    import aiomqtt

    got: list[Any] = []
    ready = asyncio.Event()

    async def collect() -> None:
        async with aiomqtt.Client("127.0.0.1", 1883, protocol=aiomqtt.ProtocolVersion.V5) as client:
            await client.subscribe(f"t{t.name}/#", qos=1)
            ready.set()
            async for message in client.messages:
                got.append(message)

    task = asyncio.get_running_loop().create_task(collect())
    _MQTT_READERS[t.name] = (task, got)
    async with asyncio.timeout(10):
        await ready.wait()


async def _mqtt_read(t: Target, count: int, everything: bool = False) -> list[BaseCloudEvent]:
    _, got = _MQTT_READERS[t.name]
    while len(got) < count:  # noqa: ASYNC110 - the collector task appends, with the deadline
        await asyncio.sleep(0.01)
    events = []
    for message in got if everything else got[:count]:
        props = message.properties
        pairs = dict(getattr(props, "UserProperty", None) or [])
        if not pairs:  # MQTT 3.1.1: structured
            from cloudevents.core.formats.json import JSONFormat

            events.append(JSONFormat().read(None, message.payload))
            continue
        pairs["datacontenttype"] = getattr(props, "ContentType", None)
        pairs["data"] = message.payload
        events.append(sdk_from_fields(pairs))
    return events


async def _mqtt_clean(t: Target) -> None:
    task, _ = _MQTT_READERS.pop(t.name, (None, None))
    if task is not None:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


_READERS: dict[str, Callable[[Target, int], Awaitable[list[BaseCloudEvent]]]] = {
    "nats": _nats_read,
    "redis": _redis_read,
    "amqp": _amqp_read,
    "mqtt": _mqtt_read,
}
_CLEAN: dict[str, Callable[[Target], Awaitable[None]]] = {
    "nats": _nats_clean,
    "redis": _redis_clean,
    "amqp": _amqp_clean,
    "mqtt": _mqtt_clean,
}
_PREPARE: dict[str, Callable[[Target], Awaitable[None]]] = {
    "amqp": _amqp_prepare,
    "mqtt": _mqtt_prepare,
}
