"""``MqttTransport``/``MqttConsumer``: MQTT (aiomqtt) with the CloudEvents MQTT binding.

``mqtt://[user:pass@]host:1883?topic=emitflow/{type}&protocol=5`` — MQTT 5 binary mode: the
attributes are User Properties named exactly as the attribute, ``datacontenttype`` is the
Content Type property, the data the payload. MQTT 3.1.1 (``protocol=3.1.1``) has no properties,
so it is structured mode, the JSON event. QoS 1: an event counts as delivered when its PUBACK
arrived. A consumer (source) subscribes to ``?topic=`` with QoS 1 on a persistent session
(``client_id=``; kept ``session_expiry`` seconds, default a day, while disconnected) and sends
the PUBACK after the handler returned, so a message in flight at a crash is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from emitflow.brokers.base import Acks, Message, MessageHandler
from emitflow.brokers.encoding import STRUCTURED, binary, nats_subject, structured
from emitflow.brokers.factory import broker_name, reason
from emitflow.errors import BrokerError

__all__ = ["MqttConsumer", "MqttTransport", "mqtt_publication"]


def mqtt_publication(
    event: Mapping[str, Any], mode: str = "binary"
) -> tuple[bytes, Properties | None]:
    """The payload and (MQTT 5) properties carrying ``event``; ``mode`` structured: JSON."""
    if mode == "structured":
        return structured(event), None
    headers, body, media = binary(event)
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    props.UserProperty = list(headers.items())
    props.ContentType = media
    return body, props


def _query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def _client(url: str, identifier: str | None = None, clean: bool = True) -> aiomqtt.Client:
    parts = urlsplit(url)
    query = _query(url)
    v5 = query.get("protocol", "5") == "5"
    connect: Properties | None = None
    if v5 and not clean:
        # MQTT 5 ends a session when its connection closes unless it asks to be kept.
        connect = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        connect.SessionExpiryInterval = int(query.get("session_expiry", "86400"))
    return aiomqtt.Client(
        parts.hostname or "127.0.0.1",
        parts.port or 1883,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        identifier=identifier,
        protocol=aiomqtt.ProtocolVersion.V5 if v5 else aiomqtt.ProtocolVersion.V311,
        clean_start=clean if v5 else 3,
        clean_session=None if v5 else clean,
        timeout=5,
        properties=connect,
    )


class MqttTransport:
    """Publishes with QoS 1, one PUBACK per event."""

    def __init__(self, url: str, *, mode: str = "binary") -> None:
        self._url = url
        query = _query(url)
        self._mode = "structured" if query.get("protocol", "5") != "5" else mode
        self._topic = query.get("topic", "emitflow/{type}")
        self._client: aiomqtt.Client | None = None

    async def connect(self) -> None:
        """Connect (CONNACK proves the address and the credentials)."""
        client = _client(self._url)
        await client.__aenter__()
        self._client = client

    async def publish(self, batch: Sequence[Mapping[str, Any]]) -> Acks:
        """Publish in order, QoS 1; delivered once each PUBACK arrived."""
        if self._client is None:
            raise BrokerError(f"{broker_name(self._url)}: not connected")
        sends = []
        for event in batch:
            payload, props = mqtt_publication(event, self._mode)
            topic = nats_subject(self._topic, event).replace("+", "_").replace("#", "_")
            sends.append(
                asyncio.ensure_future(
                    self._client.publish(topic, payload, qos=1, properties=props, timeout=10)
                )
            )
        count = 0
        for send in sends:
            try:
                await send
            except Exception as exc:  # no PUBACK: the rest are retried in order
                for rest in sends[count + 1 :]:
                    rest.cancel()
                await asyncio.gather(*sends[count + 1 :], return_exceptions=True)
                return Acks(count=count, error=f"{broker_name(self._url)}: {reason(exc)}")
            count += 1
        return Acks(count=count)

    async def close(self) -> None:
        """Disconnect."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await client.__aexit__(None, None, None)


class MqttConsumer:
    """A QoS 1 subscription on a persistent session (``?topic=&client_id=``)."""

    def __init__(self, url: str, *, mode: str = "binary") -> None:
        self._url = url
        query = _query(url)
        self._topic = query.get("topic", "emitflow/#")
        self._identifier = query.get("client_id", "emitflow-source")
        self._client: aiomqtt.Client | None = None

    async def connect(self) -> None:
        """Connect on a persistent session."""
        client = _client(self._url, self._identifier, clean=False)
        # PUBACK only once the handler stored the event: paho's manual acknowledgement, which
        # aiomqtt does not expose, on the paho client it wraps.
        client._client.manual_ack_set(True)
        await client.__aenter__()
        self._client = client

    async def consume(self, handler: MessageHandler) -> None:
        """Hand each message over; PUBACK after the handler returned."""
        if self._client is None:
            raise BrokerError(f"{broker_name(self._url)}: not connected")
        await self._client.subscribe(self._topic, qos=1)
        async for incoming in self._client.messages:
            props = incoming.properties
            pairs = getattr(props, "UserProperty", None) or []
            media = getattr(props, "ContentType", None)
            body = incoming.payload if isinstance(incoming.payload, bytes) else b""
            if not pairs and media is None:
                media = STRUCTURED if body.startswith(b"{") else None
            # MQTT has no negative acknowledgement: a refused message is acknowledged too.
            await handler(Message(headers=dict(pairs), body=body, content_type=media))
            if incoming.qos > 0:
                self._client._client.ack(incoming.mid, incoming.qos)

    async def close(self) -> None:
        """Disconnect."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await client.__aexit__(None, None, None)
