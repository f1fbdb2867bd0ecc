"""``BrokerSink``: what ``emitflow run --broker URL`` publishes to, in the run's own process.

``emitflow run`` has no store and no outbox: each emitted event is published to every broker
whose narrowing matches, and the emit waits for the broker's acknowledgement, so when the run
ends every event it emitted was acked. A broker that stops acknowledging is retried for
``retry_seconds``; then the emit fails with a ``BrokerError`` naming the broker. (``serve``
goes through the outbox and durable deliveries instead.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from emitflow.brokers.base import Transport
from emitflow.brokers.config import BrokerSpec
from emitflow.brokers.factory import broker_name, open_transport
from emitflow.errors import BrokerError
from emitflow.events.cloudevent import CloudEvent

__all__ = ["BrokerSink", "TeeSink"]

#: The extension an emit's channel travels in (``emitflow.runtime.reports.CHANNEL_EXTENSION``).
CHANNEL_EXTENSION = "emitflowchannel"


def channel_of(event: CloudEvent) -> str:
    """The channel ``event`` was emitted on (``""``: the default)."""
    value = event.attributes.get(CHANNEL_EXTENSION)
    return value if isinstance(value, str) else ""


class EventSink(Protocol):
    """Receives each emitted event."""

    async def publish(self, event: CloudEvent) -> None: ...


class BrokerSink:
    """Publishes each event to the matching brokers and waits for their acks."""

    def __init__(self, specs: Sequence[BrokerSpec], *, retry_seconds: float = 30.0) -> None:
        self._specs = list(specs)
        self._retry = retry_seconds
        self._transports: dict[int, Transport] = {}

    async def __aenter__(self) -> BrokerSink:
        """Connect to every broker now: a wrong URL or refused credentials fail at start."""
        try:
            for index, spec in enumerate(self._specs):
                self._transports[index] = await open_transport(spec.url, mode=spec.mode)
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def publish(self, event: CloudEvent) -> None:
        """Publish ``event`` where it matches; return once each broker acknowledged it."""
        body = event.to_dict()
        for index, spec in enumerate(self._specs):
            if spec.matches(body, channel_of(event)):
                await self._send(index, spec, body)

    async def _send(self, index: int, spec: BrokerSpec, body: dict[str, object]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._retry
        delay = 0.1
        while True:
            transport = self._transports.get(index)
            error: str | None
            try:
                if transport is None:
                    transport = await open_transport(spec.url, mode=spec.mode)
                    self._transports[index] = transport
                acks = await transport.publish([body])
                error = acks.error if acks.count < 1 else None
            except BrokerError as exc:
                error = str(exc)
            if error is None:
                return
            stale = self._transports.pop(index, None)
            if stale is not None:
                await stale.close()
            if loop.time() + delay > deadline:
                raise BrokerError(
                    f"{broker_name(spec.url)}: the event was not acknowledged ({error})"
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def close(self) -> None:
        """Close every connection."""
        transports, self._transports = list(self._transports.values()), {}
        for transport in transports:
            await transport.close()


class TeeSink:
    """Hands each event to several sinks in turn."""

    def __init__(self, sinks: Sequence[EventSink]) -> None:
        self._sinks = list(sinks)

    async def publish(self, event: CloudEvent) -> None:
        """Publish to each sink."""
        for sink in self._sinks:
            await sink.publish(event)
