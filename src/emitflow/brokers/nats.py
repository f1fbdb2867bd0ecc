"""``NatsTransport``/``NatsConsumer``: NATS JetStream with the CloudEvents NATS binding.

``nats://[user:pass@]host:4222?subject=emitflow.{type}&stream=EMITFLOW`` — binary mode puts
the attributes in ``ce-`` headers and the data in the payload (structured mode: the JSON event,
``content-type: application/cloudevents+json``); ``Nats-Msg-Id`` is the event id, so the
stream's duplicate window drops a re-sent event. The subject comes from the template
(``{type}``, ``{source}``, ``{subject}``, ``{id}``; characters a subject cannot hold become
``_``). The stream is created when missing, over the template's fixed prefix (``emitflow.>``).
An event counts as delivered when JetStream's PubAck arrived. A consumer (source) reads
``?subject=…&durable=NAME`` through a durable pull consumer and acks after the handler; a
message not acked within ``ack_wait`` seconds (default 30: the consumer died) is redelivered.
"""

from __future__ import annotations

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
from emitflow.errors import BrokerError

__all__ = ["NatsConsumer", "NatsTransport"]

DEFAULT_SUBJECT = "emitflow.{type}"
DEFAULT_STREAM = "EMITFLOW"


def _options(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    server = f"nats://{parts.hostname or '127.0.0.1'}:{parts.port or 4222}"
    return server, query


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
        for future in futures:
            try:
                await future
            except Exception as exc:  # a missing PubAck: the rest are retried in order
                return Acks(count=count, error=f"{broker_name(self._url)}: {reason(exc)}")
            count += 1
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
        self._ack_wait = float(query.get("ack_wait", "30"))
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
