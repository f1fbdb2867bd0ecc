"""``Sources``: broker consumers whose messages become events in the log, like ``POST /v1/events``.

A source ``dc_<name>`` consumes one broker subject/queue/topic/stream (JetStream durable
consumer, AMQP queue, MQTT subscription, Redis consumer group). Each message is read as a
CloudEvent (binary or structured, detected), stored under the source's emitter id, and from
there reaches subscriptions, ``schedule.on`` starts and waiting ``listen`` tasks exactly like an
event emitted inside emitflow. The message is acknowledged only after the event is stored, so a
crash before that gets it delivered again — and the log stores an event once per
``(emitter, source, id)``, so it is not stored twice. A message that is not a CloudEvent goes to
the source's ``$errors`` channel with the reason, and is acknowledged — or, with
``?invalid=reject`` in the source's URL, is refused as a dead letter on the broker (JetStream
``term``, AMQP reject to the queue's dead-letter exchange, a Redis ``<stream>.dead`` stream).
A consumer that loses its broker reconnects with backoff; the engine keeps serving meanwhile. A
store that cannot take events (full disk, PostgreSQL down) pauses the source the same way: the
message in hand is not acknowledged, so the broker delivers it again after the reconnection.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from urllib.parse import parse_qs, urlsplit

from emitflow.brokers.base import Consumer, Message
from emitflow.brokers.encoding import from_message
from emitflow.brokers.factory import broker_name, open_consumer, reason
from emitflow.clock import Clock
from emitflow.errors import ConfigurationError, EventError, StoreUnavailableError
from emitflow.events.cloudevent import CloudEvent
from emitflow.store.records import ERRORS_CHANNEL, NewEvent

__all__ = ["REJECTED_TYPE", "SourceSpec", "Sources"]

logger = logging.getLogger(__name__)

REJECTED_TYPE = "io.emitflow.source.message.rejected.v1"
#: Where each binding puts the attributes of a binary-mode message.
_PREFIXES = {"nats": "ce-", "amqp": "cloudEvents:", "mqtt": "", "redis": "", "kafka": "ce_"}
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Schemes whose consumers can refuse a message as a dead letter (``?invalid=reject``).
_REJECTS = frozenset({"nats", "amqp", "redis"})

Enqueue = Callable[[Sequence[NewEvent]], Awaitable[object]]


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceSpec:
    """A source: its name (the emitter id is ``dc_<name>``) and the broker URL it consumes."""

    name: str
    url: str

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ConfigurationError(
                f"source name {self.name!r}: use 1-64 letters, digits, '_' or '-'"
            )
        scheme = urlsplit(self.url).scheme
        if self.on_invalid not in ("errors", "reject"):
            raise ConfigurationError(
                f"source {self.name!r}: invalid={self.on_invalid!r}; use errors or reject"
            )
        if self.on_invalid == "reject" and scheme not in _REJECTS:
            raise ConfigurationError(
                f"source {self.name!r}: {scheme}:// has no dead letters; invalid=reject works "
                "with " + ", ".join(sorted(_REJECTS))
            )

    @property
    def on_invalid(self) -> str:
        """``errors`` (the ``$errors`` channel, acked) or ``reject`` (a broker dead letter)."""
        values = parse_qs(urlsplit(self.url).query).get("invalid", ["errors"])
        return values[-1]

    @property
    def id(self) -> str:
        """The emitter id of the source's events."""
        return f"dc_{self.name}"


class Sources:
    """Runs one consumer task per source until closed."""

    def __init__(self, enqueue: Enqueue, clock: Clock, *, retry_cap_seconds: float = 10.0) -> None:
        self._enqueue = enqueue
        self._clock = clock
        self._retry_cap = retry_cap_seconds
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def running(self, source_id: str) -> bool:
        """Whether ``source_id`` (``dc_<name>``) is being consumed."""
        return source_id in self._tasks

    async def start(self, spec: SourceSpec) -> None:
        """Connect once (a wrong URL or refused credentials fail here), then consume."""
        if spec.id in self._tasks:
            raise ConfigurationError(f"source {spec.name!r} is already running")
        consumer = await open_consumer(spec.url)
        loop = asyncio.get_running_loop()
        self._tasks[spec.id] = loop.create_task(self._run(spec, consumer))

    async def close(self) -> None:
        """Stop every consumer (messages not yet stored stay unacknowledged on the broker)."""
        tasks, self._tasks = list(self._tasks.values()), {}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, spec: SourceSpec, consumer: Consumer | None) -> None:
        delay = 0.2
        while True:
            try:
                if consumer is None:
                    consumer = await open_consumer(spec.url)
                await consumer.consume(lambda message: self._handle(spec, message))
            except asyncio.CancelledError:
                raise
            except StoreUnavailableError as exc:
                # The message in hand was not acknowledged: the broker delivers it again once
                # the consumer is back, and the store takes it then (once, by its id).
                logger.warning(
                    "source paused: the store cannot take events now; the message stays on "
                    "the broker and the source reconnects",
                    extra={"source": spec.id, "store": exc.path, "error": exc.cause},
                )
            except Exception as exc:
                logger.warning(
                    "source lost its broker; reconnecting",
                    extra={
                        "source": spec.id,
                        "broker": broker_name(spec.url),
                        "error": reason(exc, spec.url),
                    },
                )
            finally:
                if consumer is not None:
                    with contextlib.suppress(Exception):
                        await consumer.close()
                consumer = None
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._retry_cap)

    async def _handle(self, spec: SourceSpec, message: Message) -> bool:
        scheme = urlsplit(spec.url).scheme
        try:
            event = from_message(message, _PREFIXES.get(scheme, ""))
        except EventError as exc:
            if spec.on_invalid == "reject":
                logger.warning(
                    "source refused a message", extra={"source": spec.id, "reason": str(exc)}
                )
                return False
            await self._enqueue([self._rejected(spec, message, str(exc))])
            return True
        await self._enqueue(
            [NewEvent(emitter_id=spec.id, event=event, metadata={"emit_id": event.id})]
        )
        return True

    def _rejected(self, spec: SourceSpec, message: Message, why: str) -> NewEvent:
        try:
            body: dict[str, str] = {"text": message.body.decode("utf-8")[:4096]}
        except UnicodeDecodeError:
            body = {"base64": base64.b64encode(message.body[:3072]).decode()}
        now = self._clock.now().astimezone(UTC)
        event = CloudEvent(
            attributes={
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": f"/emitflow/sources/{spec.id}",
                "type": REJECTED_TYPE,
                "time": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "datacontenttype": "application/json",
            },
            data={
                "reason": why,
                "broker": broker_name(spec.url),
                "headers": dict(message.headers),
                "content_type": message.content_type,
                "body": body,
            },
        )
        return NewEvent(
            emitter_id=spec.id,
            channel=ERRORS_CHANNEL,
            event=event,
            metadata={"emit_id": event.id},
        )
