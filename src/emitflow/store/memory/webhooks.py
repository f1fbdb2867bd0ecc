"""``MemoryWebhooks``: the webhook listeners and deliveries of a ``MemoryStore``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from emitflow.errors import NotFoundError
from emitflow.store import codec
from emitflow.store.paging import lease_end
from emitflow.store.records import Subscription, Webhook, WebhookDelivery

__all__ = ["MemoryWebhooks"]


class MemoryWebhooks:
    """Webhooks by id and deliveries by number (the store sets the tables up)."""

    _webhooks: dict[str, Webhook]
    _deliveries: dict[int, WebhookDelivery]
    _delivery_keys: dict[tuple[str, str, str], int]
    _subscriptions: dict[tuple[str, str, str], Subscription]

    def _check_open(self) -> None: ...

    _now: Callable[[], datetime]

    async def put_webhook(self, webhook: Webhook) -> None:
        """Store a webhook, or replace it (its health changed)."""
        self._check_open()
        self._webhooks[webhook.id] = webhook

    async def get_webhook(self, webhook_id: str) -> Webhook:
        """A webhook by id."""
        self._check_open()
        try:
            return self._webhooks[webhook_id]
        except KeyError:
            raise NotFoundError(f"no webhook {webhook_id!r}") from None

    async def list_webhooks(self) -> list[Webhook]:
        """Every webhook, oldest first."""
        self._check_open()
        return list(self._webhooks.values())

    async def delete_webhook(self, webhook_id: str) -> bool:
        """Remove a webhook with its subscriptions and deliveries."""
        self._check_open()
        if self._webhooks.pop(webhook_id, None) is None:
            return False
        for key in [k for k in self._subscriptions if k[1] == webhook_id]:
            del self._subscriptions[key]
        for number in [n for n, d in self._deliveries.items() if d.webhook_id == webhook_id]:
            del self._deliveries[number]
        for key in [k for k in self._delivery_keys if k[0] == webhook_id]:
            del self._delivery_keys[key]
        return True

    async def add_deliveries(self, webhook_ids: Sequence[str], position: str, event: Any) -> int:
        """Queue one event for each webhook, due now, once per (webhook, source, id)."""
        self._check_open()
        kept = codec.json_copy(dict(event))
        added = 0
        for webhook_id in webhook_ids:
            key = (webhook_id, str(kept.get("source")), str(kept.get("id")))
            if key in self._delivery_keys:
                continue
            number = max(self._deliveries, default=0) + 1
            self._deliveries[number] = WebhookDelivery(
                id=number,
                webhook_id=webhook_id,
                position=position,
                event=kept,
                next_attempt_at=self._now(),
            )
            self._delivery_keys[key] = number
            added += 1
        return added

    async def claim_due_deliveries(
        self,
        *,
        limit: int = 100,
        lease_seconds: float = 30.0,
        webhook_id: str | None = None,
        in_order: bool = False,
    ) -> list[WebhookDelivery]:
        """Lease pending deliveries that are due, oldest first (of one webhook when given)."""
        self._check_open()
        now = self._now()
        until = lease_end(now, limit, lease_seconds)
        pending = [
            d
            for d in self._deliveries.values()
            if d.status == "pending" and webhook_id in (None, d.webhook_id)
        ]
        if in_order and webhook_id is not None:
            claimed = []
            for delivery in sorted(pending, key=lambda d: d.id)[:limit]:
                if delivery.next_attempt_at > now:
                    break
                claimed.append(delivery)
        else:
            due = sorted(pending, key=lambda d: (d.next_attempt_at, d.id))
            claimed = [d for d in due if d.next_attempt_at <= now][:limit]
        for delivery in claimed:
            self._deliveries[delivery.id] = replace(delivery, next_attempt_at=until)
        return claimed

    async def due_webhook_ids(self) -> list[str]:
        """The webhooks that have a pending delivery due now."""
        self._check_open()
        now = self._now()
        due = {
            d.webhook_id
            for d in self._deliveries.values()
            if d.status == "pending" and d.next_attempt_at <= now
        }
        return sorted(due)

    async def add_deliveries_many(self, batch: Sequence[tuple[Sequence[str], str, Any]]) -> int:
        """Queue several events at once, in order."""
        added = 0
        for webhook_ids, position, event in batch:
            added += await self.add_deliveries(webhook_ids, position, event)
        return added

    async def finish_delivery(self, delivery: WebhookDelivery) -> None:
        """Record an attempt's outcome."""
        self._check_open()
        if delivery.id in self._deliveries:
            self._deliveries[delivery.id] = delivery

    async def finish_deliveries(self, deliveries: Sequence[WebhookDelivery]) -> None:
        """Record several attempts' outcomes."""
        for delivery in deliveries:
            await self.finish_delivery(delivery)

    async def list_deliveries(
        self, webhook_id: str, *, status: str | None = None, limit: int = 100
    ) -> list[WebhookDelivery]:
        """A webhook's deliveries, newest first, optionally of one status."""
        self._check_open()
        found = [
            d
            for d in self._deliveries.values()
            if d.webhook_id == webhook_id and (status is None or d.status == status)
        ]
        return sorted(found, key=lambda d: -d.id)[:limit]
