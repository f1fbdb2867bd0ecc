"""``RedisTransport``/``RedisConsumer``: Redis Streams, one CloudEvent per stream entry.

``redis://[:pass@]host:6379/0?stream=emitflow`` — ``XADD`` with the attributes as fields
(bare names, string values), ``datacontenttype`` as a field, and the data in the ``data``
field (binary mode); structured mode writes one ``cloudevent`` field holding the JSON event.
An event counts as delivered when the ``XADD`` reply (the entry id) arrived; a batch is one
pipeline (``MULTI``-less, in order). A consumer (source) reads the stream with a consumer group
(``?group=…&consumer=…``), and ``XACK``s an entry after the handler returned; entries a dead
consumer left pending are claimed again. A refused entry is copied to ``?dead_stream=``
(default ``<stream>.dead``) before it is acknowledged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from emitflow.brokers.base import Acks, Message, MessageHandler
from emitflow.brokers.encoding import STRUCTURED, binary, structured
from emitflow.brokers.factory import broker_name, reason
from emitflow.errors import BrokerError

__all__ = ["RedisConsumer", "RedisTransport", "redis_fields"]

DEFAULT_STREAM = "emitflow"


def redis_fields(event: Mapping[str, Any], mode: str = "binary") -> dict[str, bytes | str]:
    """The stream entry's fields for ``event``."""
    if mode == "structured":
        return {"content-type": STRUCTURED, "cloudevent": structured(event)}
    headers, body, media = binary(event)
    fields: dict[str, bytes | str] = dict(headers)
    fields["datacontenttype"] = media
    if "data" in event and event["data"] is not None:
        fields["data"] = body
    return fields


def _query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def _client(url: str) -> aioredis.Redis:
    base = url.split("?", 1)[0]
    return aioredis.Redis.from_url(base, socket_connect_timeout=3, socket_timeout=10)


class RedisTransport:
    """``XADD`` per event, pipelined per batch."""

    def __init__(self, url: str, *, mode: str = "binary") -> None:
        self._url = url
        self._mode = mode
        self._stream = _query(url).get("stream", DEFAULT_STREAM)
        self._redis: aioredis.Redis | None = None

    async def connect(self) -> None:
        """Connect (a PING proves the address and the credentials)."""
        self._redis = _client(self._url)
        await self._redis.ping()

    async def publish(self, batch: Sequence[Mapping[str, Any]]) -> Acks:
        """``XADD`` every event in order; delivered once each reply arrived."""
        if self._redis is None:
            raise BrokerError(f"{broker_name(self._url)}: not connected")
        pipe = self._redis.pipeline(transaction=False)
        for event in batch:
            pipe.xadd(self._stream, redis_fields(event, self._mode))  # type: ignore[arg-type]
        replies = await pipe.execute(raise_on_error=False)
        for count, reply in enumerate(replies):
            if isinstance(reply, Exception):
                return Acks(count=count, error=f"{broker_name(self._url)}: {reason(reply)}")
        return Acks(count=len(replies))

    async def close(self) -> None:
        """Close the connection."""
        if self._redis is not None:
            await self._redis.aclose()
        self._redis = None


class RedisConsumer:
    """A consumer group on ``?stream=`` (``group=``, ``consumer=``)."""

    def __init__(self, url: str, *, mode: str = "binary") -> None:
        self._url = url
        query = _query(url)
        self._stream = query.get("stream", DEFAULT_STREAM)
        self._group = query.get("group", "emitflow")
        self._consumer = query.get("consumer", "emitflow")
        self._dead = query.get("dead_stream", f"{self._stream}.dead")
        self._redis: aioredis.Redis | None = None

    async def connect(self) -> None:
        """Connect and create the group (from the stream's start) when missing."""
        self._redis = _client(self._url)
        try:
            await self._redis.xgroup_create(self._stream, self._group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def consume(self, handler: MessageHandler) -> None:
        """Read new entries (and first the ones left pending), hand over, ``XACK``."""
        if self._redis is None:
            raise BrokerError(f"{broker_name(self._url)}: not connected")
        start = "0"  # first what this consumer had read but not acked (a crash)
        while True:
            answer: Any = await self._redis.xreadgroup(
                self._group, self._consumer, {self._stream: start}, count=64, block=1000
            )
            entries = answer[0][1] if answer else []
            if start == "0" and not entries:
                start = ">"
                continue
            for entry_id, fields in entries:
                if not await handler(_message(fields)):  # a dead letter: copied aside
                    await self._redis.xadd(self._dead, fields)
                await self._redis.xack(self._stream, self._group, entry_id)

    async def close(self) -> None:
        """Close the connection."""
        if self._redis is not None:
            await self._redis.aclose()
        self._redis = None


def _message(fields: Mapping[bytes, bytes]) -> Message:
    text = {k.decode(): v for k, v in fields.items()}
    if "cloudevent" in text:
        return Message(headers={}, body=text["cloudevent"], content_type=STRUCTURED)
    body = text.pop("data", b"")
    media = text.pop("datacontenttype", b"application/json").decode()
    headers = {k: v.decode("utf-8", "replace") for k, v in text.items()}
    return Message(headers=headers, body=body, content_type=media)
