"""``NatsTransport``/``NatsConsumer``: NATS JetStream with the CloudEvents NATS binding.

``nats://[user:pass@]host:4222?subject=emitflow.{type}&stream=EMITFLOW`` — binary mode puts
the attributes in ``ce-`` headers and the data in the payload (structured mode: the JSON event,
``content-type: application/cloudevents+json``); ``Nats-Msg-Id`` is the event id, so the
stream's duplicate window drops a re-sent event. The subject comes from the template
(``{type}``, ``{source}``, ``{subject}``, ``{id}``; characters a subject cannot hold become
``_``). The stream is created when missing, over the template's fixed prefix (``emitflow.>``).
An event counts as delivered when JetStream's PubAck arrived; the acks of a batch are awaited
for ``ack_timeout`` seconds (default 10): the driver never fails a publish whose connection
dropped before its ack, so without that bound a server that died mid-batch would hold the
delivery lane forever. A consumer (source) reads
``?subject=…&durable=NAME`` through a durable pull consumer and acks after the handler; a
message not acked within ``ack_wait`` seconds (default 30: the consumer died) is redelivered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig
from nats.js.errors import NotFoundError as StreamNotFound

from emitflow.brokers.base import Acks, Message, MessageHandler
from emitflow.brokers.encoding import STRUCTURED, binary, nats_subject, structured
from emitflow.brokers.factory import broker_name, reason
from emitflow.errors import BrokerError, ConfigurationError

__all__ = ["NatsConsumer", "NatsTransport"]

DEFAULT_SUBJECT = "emitflow.{type}"
DEFAULT_STREAM = "EMITFLOW"
DEFAULT_ACK_TIMEOUT = 10.0


def _options(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    server = f"nats://{parts.hostname or '127.0.0.1'}:{parts.port or 4222}"
    return server, query


def _seconds(query: Mapping[str, str], name: str, default: float, url: str) -> float:
    text = query.get(name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ConfigurationError(
            f"{broker_name(url)}: {name}={text!r} is not a number of seconds above 0 "
            f"(for example {name}={default:g})"
        )
    return value


async def _connect(url: str) -> Client:
    server, _ = _options(url)
    parts = urlsplit(url)
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None

    async def quiet(exc: Exception) -> None:  # the driver's reconnect noise; failures surface
        return None

    return await nats.connect(
        server,
        user=user,
        password=password,
        connect_timeout=3,
        # One attempt, no reconnecting: a lost connection is a failed attempt the delivery
        # lane retries with backoff (0 would mean "forever" to the driver).
        max_reconnect_attempts=1,
        reconnect_time_wait=0.05,
        allow_reconnect=False,
        error_cb=quiet,
    )


class NatsTransport:
    """Publishes to JetStream, one PubAck per event, in order."""

    def __init__(self, url: str, *, mode: str = "binary") -> None:
        self._url = url
        self._mode = mode
        _, query = _options(url)
        self._template = query.get("subject", DEFAULT_SUBJECT)
        self._stream = query.get("stream", DEFAULT_STREAM)
        self._ack_timeout = _seconds(query, "ack_timeout", DEFAULT_ACK_TIMEOUT, url)
        self._client: Client | None = None
        self._js: JetStreamContext | None = None

    async def connect(self) -> None:
        """Connect and make sure the stream exists."""
        self._client = await _connect(self._url)
        self._js = self._client.jetstream()
        prefix = self._template.split("{", 1)[0]
        wildcard = (prefix.rstrip(".") + ".>") if prefix.endswith(".") else (prefix or ">")
        try:
            await self._js.stream_info(self._stream)
        except StreamNotFound:
            await self._js.add_stream(name=self._stream, subjects=[wildcard])

    async def publish(self, batch: Sequence[Mapping[str, Any]]) -> Acks:
        """Publish in order; each event waits for its PubAck (the stream dedupes by id)."""
        if self._js is None:
            raise BrokerError(f"{broker_name(self._url)}: not connected")
        futures = []
        for event in batch:
            subject = nats_subject(self._template, event)
            if self._mode == "structured":
                headers = {"content-type": STRUCTURED}
                body = structured(event)
            else:
                headers, body, media = binary(event, "ce-")
                headers["content-type"] = media
            headers["Nats-Msg-Id"] = str(event.get("id"))
            futures.append(
                await self._js.publish_async(subject, body, headers=headers, stream=self._stream)
            )
        count = 0
        try:
            async with asyncio.timeout(self._ack_timeout):
                for future in futures:
                    await future
                    count += 1
        except TimeoutError:
            why = f"no PubAck within {self._ack_timeout:g} s (ack_timeout)"
            return Acks(count=count, error=f"{broker_name(self._url)}: {why}")
        except Exception as exc:  # a refused PubAck: the rest are retried in order
            return Acks(count=count, error=f"{broker_name(self._url)}: {reason(exc)}")
        finally:
            for future in futures[count:]:
                future.cancel()  # the driver keeps no deadline of its own
        return Acks(count=count)

    async def close(self) -> None:
        """Close the connection."""
        if self._client is not None and not self._client.is_closed:
            await self._client.close()
        self._client = self._js = None


class NatsConsumer:
    """A durable JetStream pull consumer on ``?subject=`` (``durable=``, ``stream=``)."""

    def __init__(self, url: str, *, mode: str = "binary") -> None:
        self._url = url
        _, query = _options(url)
        self._subject = query.get("subject", "emitflow.>")
        self._durable = query.get("durable", "emitflow")
        self._stream = query.get("stream")
        self._ack_wait = _seconds(query, "ack_wait", 30.0, url)
        self._client: Client | None = None

    async def connect(self) -> None:
        """Connect and bind the durable consumer."""
        self._client = await _connect(self._url)

    async def consume(self, handler: MessageHandler) -> None:
        """Fetch, hand over, ack; until cancelled."""
        if self._client is None:
            raise BrokerError(f"{broker_name(self._url)}: not connected")
        js = self._client.jetstream()
        config = ConsumerConfig(ack_wait=self._ack_wait)
        sub = await js.pull_subscribe(
            self._subject, durable=self._durable, stream=self._stream, config=config
        )
        while True:
            try:
                messages = await sub.fetch(64, timeout=1.0)
            except TimeoutError:
                continue
            for msg in messages:
                headers = dict(msg.headers or {})
                media = headers.get("content-type") or headers.get("Content-Type")
                if await handler(Message(headers=headers, body=msg.data, content_type=media)):
                    await msg.ack_sync()
                else:
                    await msg.term()  # never redelivered; JetStream advisories report it

    async def close(self) -> None:
        """Close the connection."""
        if self._client is not None and not self._client.is_closed:
            await self._client.close()
        self._client = None
