"""A broker source whose store cannot take events leaves the message unacknowledged: the
broker delivers it again after the source reconnects, and it is stored then, once."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence

import pytest

from emitflow.brokers.base import Message, MessageHandler
from emitflow.clock import SystemClock
from emitflow.errors import StoreUnavailableError
from emitflow.runtime import sources
from emitflow.runtime.sources import Sources, SourceSpec
from emitflow.store.records import NewEvent

MESSAGE = Message(
    headers={},
    body=json.dumps(
        {"specversion": "1.0", "id": "m-1", "source": "/orders", "type": "order.placed"}
    ).encode(),
    content_type="application/cloudevents+json",
)


class RedeliveringBroker:
    """One unacknowledged message, handed to every consumer until one acknowledges it."""

    def __init__(self) -> None:
        self.deliveries = 0
        self.acked = asyncio.Event()

    async def consumer(self, url: str) -> RedeliveringBroker.Consumer:
        return RedeliveringBroker.Consumer(self)

    class Consumer:
        def __init__(self, broker: RedeliveringBroker) -> None:
            self.broker = broker

        async def consume(self, handler: MessageHandler) -> None:
            if not self.broker.acked.is_set():
                self.broker.deliveries += 1
                if await handler(MESSAGE):  # raises: not acknowledged
                    self.broker.acked.set()
            await asyncio.Event().wait()  # consume until cancelled

        async def close(self) -> None:
            return None


class FlakyStore:
    """Refuses the first ``outages`` enqueues as a store that cannot serve now."""

    def __init__(self, outages: int) -> None:
        self.outages = outages
        self.stored: list[NewEvent] = []

    async def enqueue(self, events: Sequence[NewEvent]) -> None:
        if self.outages:
            self.outages -= 1
            raise StoreUnavailableError(
                "the store cannot serve now", path="/var/emitflow.db", cause="disk full"
            )
        self.stored.extend(events)


async def test_a_store_outage_leaves_the_message_on_the_broker(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    broker, store = RedeliveringBroker(), FlakyStore(outages=1)
    monkeypatch.setattr(sources, "open_consumer", broker.consumer)
    source = Sources(store.enqueue, SystemClock(), retry_cap_seconds=0.05)
    caplog.set_level(logging.WARNING, logger="emitflow.runtime.sources")
    await source.start(SourceSpec(name="orders", url="nats://127.0.0.1:4222?subject=orders"))
    try:
        async with asyncio.timeout(10):
            await broker.acked.wait()
    finally:
        await source.close()
    assert broker.deliveries == 2  # refused once by the store, then delivered again
    assert [new.event.id for new in store.stored] == ["m-1"]
    assert store.stored[0].emitter_id == "dc_orders"
    (paused,) = [r for r in caplog.records if "store cannot take events" in r.getMessage()]
    assert paused.__dict__["store"] == "/var/emitflow.db"
    assert paused.__dict__["error"] == "disk full"
    assert not [r for r in caplog.records if "lost its broker" in r.getMessage()]
