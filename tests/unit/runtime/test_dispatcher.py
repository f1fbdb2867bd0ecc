"""The dispatcher counts a failed routing as an attempt, but not a store that cannot serve now:
an outage longer than ``MAX_ATTEMPTS`` passes must not give events up."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from emitflow.errors import StoreError, StoreUnavailableError
from emitflow.events.cloudevent import CloudEvent
from emitflow.runtime.dispatcher import MAX_ATTEMPTS, Dispatcher
from emitflow.runtime.router import Delivery
from emitflow.runtime.settings import EngineSettings
from emitflow.store import MemoryStore
from emitflow.store.records import OutboxItem


class FailingRouter:
    """Every ``route`` raises ``error``; notes whether the row was given up."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.given_up: list[str] = []

    async def route(self, delivery: Delivery) -> bool:
        raise self.error

    async def give_up(self, delivery: Delivery, reason: str) -> None:
        self.given_up.append(reason)


def delivery() -> Delivery:
    event = CloudEvent.create(type="t", source="/s", data={})
    item = OutboxItem(
        id=1,
        emitter_id="p_e",
        channel="",
        event=event,
        metadata={},
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        attempts=1,
    )
    return Delivery(item=item)


def dispatcher(router: FailingRouter) -> Dispatcher:
    router_any: Any = router
    return Dispatcher(MemoryStore(), router_any, EngineSettings())


async def test_an_outage_is_not_a_failed_attempt() -> None:
    outage = StoreUnavailableError("server restarting", path="db", cause="AdminShutdownError")
    router = FailingRouter(outage)
    pending = delivery()
    for _ in range(MAX_ATTEMPTS * 2):
        assert not await dispatcher(router)._route(pending)
    assert (pending.failures, router.given_up) == (0, [])


async def test_a_routing_that_keeps_failing_is_given_up() -> None:
    router = FailingRouter(StoreError("refused"))
    pending = delivery()
    done = [await dispatcher(router)._route(pending) for _ in range(MAX_ATTEMPTS)]
    assert done == [False] * (MAX_ATTEMPTS - 1) + [True]
    (reason,) = router.given_up
    assert "refused" in reason
