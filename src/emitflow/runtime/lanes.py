"""``DeliveryLanes``: one lane per destination, so a slow one never stalls the others.

Each destination (``wh_…``: a webhook or a broker) with due deliveries gets its own task that
claims only that destination's deliveries and sends them with its own concurrency and timeout:
a webhook that hangs, answers 500 or closes the connection occupies its own lane, never a
healthy one's. A webhook's deliveries are independent (sent concurrently, up to
``concurrency``, a retry may arrive after a later event). A broker's are sent in queue order: the
lane claims the due head of its queue, publishes it as one batch, counts an event as delivered
only once the broker acknowledged it, and on a failure backs the failed event off and releases
the rest behind it, so nothing overtakes it.

Any exception while sending (an unencodable header, a driver error) is a failed attempt with
its reason: the delivery backs off and finally becomes a dead letter; none stays pending with
zero attempts. A success makes the destination ``healthy`` and clears its ``last_error``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from emitflow.brokers.base import Transport
from emitflow.brokers.factory import is_broker_url, open_transport, reason
from emitflow.clock import Clock
from emitflow.errors import NotFoundError
from emitflow.store.base import WebhookStore
from emitflow.store.records import Webhook, WebhookDelivery

if TYPE_CHECKING:
    from emitflow.runtime.webhooks import WebhookSettings

__all__ = ["DeliveryLanes"]

logger = logging.getLogger(__name__)

#: POSTs one event to a webhook: ``None`` when delivered, else the reason it was not.
HttpSender = Callable[[Webhook, WebhookDelivery], Awaitable[str | None]]


class DeliveryLanes:
    """Claims and sends due deliveries, one lane (task) per destination."""

    def __init__(
        self,
        store: WebhookStore,
        clock: Clock,
        settings: WebhookSettings,
        post: HttpSender,
        *,
        reveal: Callable[[Webhook], Webhook],
    ) -> None:
        self._store = store
        self._reveal = reveal
        self._clock = clock
        self._settings = settings
        self._post = post
        self._lanes: dict[str, asyncio.Task[None]] = {}
        self._transports: dict[str, Transport] = {}
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Deliveries were queued: look soon."""
        self._wake.set()

    async def run(self, rescan_seconds: float) -> None:
        """Start a lane for every destination with due deliveries, until cancelled."""
        try:
            while True:
                self._wake.clear()
                try:
                    for webhook_id in await self._store.due_webhook_ids():
                        if webhook_id not in self._lanes:
                            task = asyncio.get_running_loop().create_task(self._lane(webhook_id))
                            self._lanes[webhook_id] = task
                except Exception:
                    logger.exception("listing due deliveries failed; retrying")
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(rescan_seconds):
                        await self._wake.wait()
        finally:
            await self.close()

    async def close(self) -> None:
        """Stop every lane and close the broker connections."""
        lanes, self._lanes = list(self._lanes.values()), {}
        for lane in lanes:
            lane.cancel()
        await asyncio.gather(*lanes, return_exceptions=True)
        transports, self._transports = list(self._transports.values()), {}
        for transport in transports:
            with contextlib.suppress(Exception):
                await transport.close()

    async def deliver_due(self) -> int:
        """Attempt every due delivery once, each destination in its own lane; how many."""
        ids = await self._store.due_webhook_ids()
        counts = await asyncio.gather(*(self._round(webhook_id) for webhook_id in ids))
        return sum(counts)

    async def _lane(self, webhook_id: str) -> None:
        try:
            while await self._round(webhook_id):
                pass
        except Exception:
            logger.exception("deliveries failed", extra={"webhook_id": webhook_id})
        finally:
            self._lanes.pop(webhook_id, None)
            self._wake.set()

    async def _round(self, webhook_id: str) -> int:
        try:
            # In clear (a URL with credentials is stored sealed); never written back as it is.
            webhook = self._reveal(await self._store.get_webhook(webhook_id))
        except NotFoundError:
            await self._drop_transport(webhook_id)
            return 0  # removed since it was queued (its deliveries went with it)
        broker = is_broker_url(webhook.url)
        claimed = await self._store.claim_due_deliveries(
            limit=self._settings.broker_batch if broker else self._settings.batch,
            lease_seconds=self._settings.lease_seconds,
            webhook_id=webhook_id,
            in_order=broker,
        )
        if not claimed:
            return 0
        if webhook.state == "disabled":
            why = "the destination is disabled"
            dead = [replace(d, status="dead", last_error=why) for d in claimed]
            await self._store.finish_deliveries(dead)
        elif broker:
            await self._publish(webhook, claimed)
        else:
            limit = asyncio.Semaphore(self._settings.concurrency)
            await asyncio.gather(*(self._attempt(webhook, d, limit) for d in claimed))
        return len(claimed)

    async def _attempt(
        self, webhook: Webhook, delivery: WebhookDelivery, limit: asyncio.Semaphore
    ) -> None:
        async with limit:
            try:
                error = await self._post(webhook, delivery)
            except Exception as exc:  # any failure to send is a failed attempt (its reason)
                error = f"{type(exc).__name__}: {reason(exc, webhook.url)}"
        if error is None:
            await self._delivered(webhook, [delivery])
        else:
            await self._failed(webhook, delivery, error)

    async def _publish(self, webhook: Webhook, claimed: Sequence[WebhookDelivery]) -> None:
        try:
            transport = await self._transport(webhook)
            acks = await transport.publish([d.event for d in claimed])
        except Exception as exc:  # a refused connection or a driver error: a failed attempt
            await self._drop_transport(webhook.id)
            failure: str | None = f"{type(exc).__name__}: {reason(exc, webhook.url)}"
            acks_count = 0
        else:
            acks_count, failure = acks.count, acks.error
        await self._delivered(webhook, claimed[:acks_count])
        if failure is None or acks_count >= len(claimed):
            return
        await self._drop_transport(webhook.id)  # reconnect before the retry
        failed = await self._failed(webhook, claimed[acks_count], failure)
        resume = failed.next_attempt_at if failed.status == "pending" else self._clock.now()
        behind = [replace(d, next_attempt_at=resume) for d in claimed[acks_count + 1 :]]
        await self._store.finish_deliveries(behind)

    async def _transport(self, webhook: Webhook) -> Transport:
        transport = self._transports.get(webhook.id)
        if transport is None:
            transport = await open_transport(
                webhook.url, mode=webhook.mode, seconds=self._settings.timeout_seconds
            )
            self._transports[webhook.id] = transport
        return transport

    async def _drop_transport(self, webhook_id: str) -> None:
        transport = self._transports.pop(webhook_id, None)
        if transport is not None:
            with contextlib.suppress(Exception):
                await transport.close()

    async def _delivered(self, webhook: Webhook, deliveries: Sequence[WebhookDelivery]) -> None:
        done = [
            replace(d, status="delivered", attempts=d.attempts + 1, last_error=None)
            for d in deliveries
        ]
        await self._store.finish_deliveries(done)
        if done and (webhook.state != "healthy" or webhook.failures or webhook.last_error):
            await self._health(webhook, failed=None)

    async def _failed(
        self, webhook: Webhook, delivery: WebhookDelivery, error: str
    ) -> WebhookDelivery:
        attempts = delivery.attempts + 1
        if attempts >= self._settings.max_attempts:
            outcome = replace(delivery, status="dead", attempts=attempts, last_error=error)
        else:
            due = self._clock.now() + timedelta(seconds=self._settings.delay(attempts))
            outcome = replace(delivery, attempts=attempts, next_attempt_at=due, last_error=error)
        await self._store.finish_delivery(outcome)
        await self._health(webhook, failed=error)
        logger.warning(
            "webhook %s%s: delivery %s failed (attempt %d): %s",
            webhook.id,
            f" ({webhook.name})" if webhook.name else "",
            delivery.id,
            attempts,
            error,
            extra={"webhook_id": webhook.id, "attempts": attempts, "error": error},
        )
        return outcome

    async def _health(self, webhook: Webhook, *, failed: str | None) -> None:
        try:
            current = await self._store.get_webhook(webhook.id)
        except NotFoundError:
            return
        if failed is None:
            changed = replace(current, state="healthy", failures=0, last_error=None)
        else:
            failures = current.failures + 1
            state = "disabled" if failures >= self._settings.disable_after else "backing_off"
            if current.state == "disabled":
                state = "disabled"
            changed = replace(current, state=state, failures=failures, last_error=failed)
        await self._store.put_webhook(replace(changed, updated_at=self._clock.now()))
