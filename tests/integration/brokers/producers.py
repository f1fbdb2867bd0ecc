"""Independent producers: events made with the ``cloudevents`` SDK, put on each broker by its
plain client in the binding's binary mode (or structured), as a system outside emitflow would."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings import amqp as sdk_amqp
from cloudevents.core.bindings import http as sdk_http
from cloudevents.core.v1.event import CloudEvent

from tests.contract.brokers import AMQP

if TYPE_CHECKING:
    from redis.typing import EncodableT, FieldT


def sdk_event(event_id: str, kind: str, data: dict[str, Any]) -> BaseCloudEvent:
    """A CloudEvent made by the SDK, with an extension."""
    return CloudEvent(
        attributes={
            "id": event_id,
            "source": "https://outside.example/orders",
            "type": kind,
            "subject": str(data.get("order", "")),
            "datacontenttype": "application/json",
            "comexampletenant": "acme",
        },
        data=data,
    )


def attrs_and_body(event: BaseCloudEvent) -> tuple[dict[str, str], bytes, str]:
    message = sdk_http.to_binary_event(event)
    headers = {k.lower(): v for k, v in message.headers.items()}
    media = headers.pop("content-type", "application/json")
    attrs = {k[3:]: v for k, v in headers.items() if k.startswith("ce-")}
    return attrs, message.body, media


async def produce(scheme: str, place: dict[str, str], event: BaseCloudEvent) -> None:
    """Publish ``event`` on ``scheme`` at ``place`` (subject/queue/topic/stream names)."""
    if scheme == "nats":
        import nats

        message = sdk_http.to_binary_event(event)
        client = await nats.connect("nats://127.0.0.1:4222")
        try:
            await client.jetstream().publish(
                place["subject"], message.body, headers=dict(message.headers)
            )
        finally:
            await client.close()
    elif scheme == "redis":
        import redis.asyncio as aioredis

        attrs, body, media = attrs_and_body(event)
        redis_client = aioredis.Redis()
        try:
            # redis's stubs take XADD's fields as an invariant Dict over unions of key types.
            fields = {**attrs, "datacontenttype": media, "data": body}
            await redis_client.xadd(place["stream"], cast("dict[FieldT, EncodableT]", fields))
        finally:
            await redis_client.aclose()
    elif scheme == "amqp":
        import aio_pika

        amqp = sdk_amqp.to_binary_event(event)
        connection = await aio_pika.connect(AMQP)
        async with connection:
            channel = await connection.channel()
            await channel.default_exchange.publish(
                aio_pika.Message(
                    amqp.application_data,
                    headers={k: str(v) for k, v in amqp.application_properties.items()},
                    content_type=amqp.properties.get("content-type"),
                ),
                routing_key=place["queue"],
            )
    else:
        import aiomqtt
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        attrs, body, media = attrs_and_body(event)
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]  # paho: untyped
        props.UserProperty = list(attrs.items())
        props.ContentType = media
        async with aiomqtt.Client("127.0.0.1", 1883, protocol=aiomqtt.ProtocolVersion.V5) as mqtt:
            await mqtt.publish(place["topic"], body, qos=1, properties=props)


async def produce_raw(scheme: str, place: dict[str, str], body: bytes) -> None:
    """Publish a message that is not a CloudEvent (no attributes, a non-CloudEvent body)."""
    if scheme == "nats":
        import nats

        client = await nats.connect("nats://127.0.0.1:4222")
        try:
            await client.jetstream().publish(place["subject"], body)
        finally:
            await client.close()
    elif scheme == "redis":
        import redis.asyncio as aioredis

        redis_client = aioredis.Redis()
        try:
            await redis_client.xadd(place["stream"], {"payload": body})
        finally:
            await redis_client.aclose()
    elif scheme == "amqp":
        import aio_pika

        connection = await aio_pika.connect(AMQP)
        async with connection:
            channel = await connection.channel()
            await channel.default_exchange.publish(
                aio_pika.Message(body), routing_key=place["queue"]
            )
    else:
        import aiomqtt

        async with aiomqtt.Client("127.0.0.1", 1883) as mqtt:
            await mqtt.publish(place["topic"], body, qos=1)


def structured_json(event: BaseCloudEvent) -> bytes:
    """The SDK's structured JSON of ``event``."""
    message = sdk_http.to_structured_event(event)
    json.loads(message.body)
    return message.body
