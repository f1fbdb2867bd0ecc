"""``KafkaTransport``: Kafka (aiokafka) with the CloudEvents Kafka binding.

``kafka://host:9092?topic=emitflow`` — binary mode: the attributes in headers ``ce_<attr>``
(UTF-8 values), ``datacontenttype`` in the ``content-type`` header, the data as the record
value, and the record key from the ``partitionkey`` extension (none without it); structured
mode: the JSON event as the value, ``content-type: application/cloudevents+json``. An event
counts as delivered when the producer's send returned its record metadata (``acks=all``).
No Kafka broker runs on the development machines: the encoding is tested against the binding's
examples and the ``cloudevents`` SDK, and no broker round-trip is proved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiokafka import AIOKafkaProducer

from emitflow.brokers.base import Acks
from emitflow.brokers.encoding import STRUCTURED, binary, structured
from emitflow.brokers.factory import broker_name, reason
from emitflow.errors import BrokerError

__all__ = ["KafkaRecord", "KafkaTransport", "kafka_record"]

KafkaRecord = tuple[bytes | None, bytes, list[tuple[str, bytes]]]


def kafka_record(event: Mapping[str, Any], mode: str = "binary") -> KafkaRecord:
    """``(key, value, headers)`` of the record carrying ``event``."""
    key_value = event.get("partitionkey")
    key = str(key_value).encode() if key_value not in (None, "") else None
    if mode == "structured":
        return key, structured(event), [("content-type", STRUCTURED.encode())]
    headers, body, media = binary(event, "ce_")
    pairs = [(name, value.encode()) for name, value in headers.items()]
    pairs.append(("content-type", media.encode()))
    return key, body, pairs


class KafkaTransport:
    """Sends records with ``acks=all``, in order (one in flight per partition)."""

    def __init__(self, url: str, *, mode: str = "binary") -> None:
        self._url = url
        self._mode = mode
        parts = urlsplit(url)
        self._servers = f"{parts.hostname or '127.0.0.1'}:{parts.port or 9092}"
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self._topic = query.get("topic", "emitflow")
        self._producer: AIOKafkaProducer | None = None

    async def connect(self) -> None:
        """Start the producer (it fetches the cluster's metadata)."""
        producer = AIOKafkaProducer(
            bootstrap_servers=self._servers, acks="all", enable_idempotence=True
        )
        self._producer = producer
        await producer.start()

    async def publish(self, batch: Sequence[Mapping[str, Any]]) -> Acks:
        """Send in order; delivered once each record's metadata returned."""
        if self._producer is None:
            raise BrokerError(f"{broker_name(self._url)}: not connected")
        count = 0
        for event in batch:
            key, value, headers = kafka_record(event, self._mode)
            try:
                await self._producer.send_and_wait(self._topic, value, key=key, headers=headers)
            except Exception as exc:  # not acknowledged: the rest are retried in order
                return Acks(count=count, error=f"{broker_name(self._url)}: {reason(exc)}")
            count += 1
        return Acks(count=count)

    async def close(self) -> None:
        """Stop the producer."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()
