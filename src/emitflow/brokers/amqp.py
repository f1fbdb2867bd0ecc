"""``AmqpTransport``/``AmqpConsumer``: RabbitMQ (AMQP 0-9-1, aio-pika).

``amqp://user:pass@host:5672/vhost?exchange=emitflow&routing_key={type}`` — a durable topic
exchange (declared when missing); binary mode puts the attributes in application headers named
``cloudEvents:<attr>`` (the AMQP binding's prefix), ``datacontenttype`` in ``content_type``, the
data in the body; structured mode sends the JSON event as
``application/cloudevents+json``. Messages are persistent, the channel uses publisher
confirms, and an event counts as delivered when its confirm arrived. A consumer (source) reads
``?queue=…`` (declared durable, bound to ``exchange`` with ``binding_key``, default ``#``) and
acks after the handler.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange

from emitflow.brokers.base import Acks, Message, MessageHandler
from emitflow.brokers.encoding import STRUCTURED, binary, nats_subject, structured
from emitflow.brokers.factory import broker_name, reason
from emitflow.errors import BrokerError

__all__ = ["PREFIX", "AmqpConsumer", "AmqpTransport", "amqp_message"]

PREFIX = "cloudEvents:"


def amqp_message(event: Mapping[str, Any], mode: str = "binary") -> aio_pika.Message:
    """The AMQP message carrying ``event``."""
    persistent = aio_pika.DeliveryMode.PERSISTENT
    if mode == "structured":
        return aio_pika.Message(
            structured(event), content_type=STRUCTURED, delivery_mode=persistent
        )
    headers, body, media = binary(event, PREFIX)
    return aio_pika.Message(
        body, headers=dict(headers), content_type=media, delivery_mode=persistent
    )


def _split(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), query


async def _connect(url: str) -> AbstractConnection:
    base, _ = _split(url)
    return await aio_pika.connect(base, timeout=3)  # plain (not robust): failures surface


class AmqpTransport:
    """Publishes to a topic exchange with publisher confirms."""

    def __init__(self, url: str, *, mode: str = "binary") -> None:
        self._url = url
        self._mode = mode
        _, query = _split(url)
        self._exchange_name = query.get("exchange", "emitflow")
        self._routing = query.get("routing_key", "{type}")
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None

    async def connect(self) -> None:
        """Connect, open a confirming channel, declare the exchange."""
        self._connection = await _connect(self._url)
        self._channel = await self._connection.channel(publisher_confirms=True)
        self._exchange = await self._channel.declare_exchange(
            self._exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )

    async def publish(self, batch: Sequence[Mapping[str, Any]]) -> Acks:
        """Publish in order; delivered once each publisher confirm arrived."""
        if self._exchange is None:
            raise BrokerError(f"{broker_name(self._url)}: not connected")
        exchange = self._exchange
        sends = [
            asyncio.ensure_future(
                exchange.publish(
                    amqp_message(event, self._mode),
                    routing_key=nats_subject(self._routing, event),
                )
            )
            for event in batch
        ]
        count = 0
        for send in sends:
            try:
                await send
            except Exception as exc:  # a nack or a lost channel: the rest retried in order
                for rest in sends[count + 1 :]:
                    rest.cancel()
                await asyncio.gather(*sends[count + 1 :], return_exceptions=True)
                return Acks(count=count, error=f"{broker_name(self._url)}: {reason(exc)}")
            count += 1
        return Acks(count=count)

    async def close(self) -> None:
        """Close the connection."""
        if self._connection is not None and not self._connection.is_closed:
            await self._connection.close()
        self._connection = self._channel = self._exchange = None


class AmqpConsumer:
    """A durable queue bound to the exchange (``?queue=&exchange=&binding_key=``)."""

    def __init__(self, url: str, *, mode: str = "binary") -> None:
        self._url = url
        _, query = _split(url)
        self._queue = query.get("queue", "emitflow")
        self._exchange = query.get("exchange")
        self._binding = query.get("binding_key", "#")
        self._connection: AbstractConnection | None = None

    async def connect(self) -> None:
        """Connect."""
        self._connection = await _connect(self._url)

    async def consume(self, handler: MessageHandler) -> None:
        """Hand each message over, ack after; until cancelled."""
        if self._connection is None:
            raise BrokerError(f"{broker_name(self._url)}: not connected")
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=64)
        queue = await channel.declare_queue(self._queue, durable=True)
        if self._exchange:
            exchange = await channel.declare_exchange(
                self._exchange, aio_pika.ExchangeType.TOPIC, durable=True
            )
            await queue.bind(exchange, routing_key=self._binding)
        async with queue.iterator() as messages:
            async for incoming in messages:
                headers = {
                    # The binding allows either separator; one spelling for the reader.
                    _colon(k): _text(v)
                    for k, v in (incoming.headers or {}).items()
                }
                media = incoming.content_type
                if await handler(Message(headers=headers, body=incoming.body, content_type=media)):
                    await incoming.ack()
                else:  # to the queue's dead-letter exchange, when it has one
                    await incoming.reject(requeue=False)

    async def close(self) -> None:
        """Close the connection."""
        if self._connection is not None and not self._connection.is_closed:
            await self._connection.close()
        self._connection = None


def _colon(name: str) -> str:
    if name.startswith("cloudEvents_"):
        return PREFIX + name[len("cloudEvents_") :]
    return name


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, datetime):  # an AMQP timestamp: RFC 3339 as CloudEvents writes it
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value)
