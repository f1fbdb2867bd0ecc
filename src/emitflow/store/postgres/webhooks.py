"""``PostgresWebhooks``: webhook listeners and their deliveries.

Claims lease deliveries by moving ``next_attempt_at`` past the lease, with ``FOR UPDATE SKIP
LOCKED``; an in-order claim of one webhook locks the head of its queue and waits for it
instead, so no claimer takes a later delivery while another holds an earlier one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from emitflow.errors import NotFoundError
from emitflow.store import codec
from emitflow.store.paging import lease_end
from emitflow.store.postgres.database import PostgresDatabase, status_count
from emitflow.store.queries import queries
from emitflow.store.records import Webhook, WebhookDelivery
from emitflow.store.rows import DELIVERY, WEBHOOK

__all__ = ["PostgresWebhooks"]

Q = queries("postgres")
_FINISH = DELIVERY.encoder("id", "status", "attempts", "next_attempt_at", "last_error")


def _claimed(row: Any) -> WebhookDelivery:
    """A claimed delivery as it was before the claim leased it (``was``: its due time)."""
    return replace(DELIVERY.from_row(row), next_attempt_at=codec.from_micros(row["was"]))


_Queued = tuple[list[str], list[str], list[str], list[str], list[str]]


def _queued(batch: Sequence[tuple[Sequence[str], str, Any]]) -> _Queued:
    """The columns of ``add_deliveries`` for events in queue order (``StoreError`` if not JSON)."""
    columns: _Queued = ([], [], [], [], [])
    for webhook_ids, position, event in batch:
        text = codec.dumps(event)
        source, event_id = str(event.get("source")), str(event.get("id"))
        for webhook_id in webhook_ids:
            for column, value in zip(
                columns, (webhook_id, source, event_id, position, text), strict=True
            ):
                column.append(value)
    return columns


class PostgresWebhooks:
    """Webhooks and deliveries in the ``webhooks`` and ``webhook_deliveries`` tables."""

    _db: PostgresDatabase
    _now_us: Callable[[], int]

    async def put_webhook(self, webhook: Webhook) -> None:
        """Store a webhook, or replace it (its health changed)."""
        params = WEBHOOK.to_row(webhook)
        async with self._db.transaction() as conn:
            await conn.execute(Q["put_webhook"], *params)

    async def get_webhook(self, webhook_id: str) -> Webhook:
        """A webhook by id."""
        async with self._db.connection() as conn:
            row = await conn.fetchrow(Q["get_webhook"], webhook_id)
        if row is None:
            raise NotFoundError(f"no webhook {webhook_id!r}")
        return WEBHOOK.from_row(row)

    async def list_webhooks(self) -> list[Webhook]:
        """Every webhook, oldest first."""
        async with self._db.connection() as conn:
            found = await conn.fetch(Q["list_webhooks"])
        return [WEBHOOK.from_row(row) for row in found]

    async def delete_webhook(self, webhook_id: str) -> bool:
        """Remove a webhook with its subscriptions and deliveries."""
        async with self._db.transaction() as conn:
            return int(await conn.fetchval(Q["delete_webhook"], webhook_id)) > 0

    async def add_deliveries(self, webhook_ids: Sequence[str], position: str, event: Any) -> int:
        """Queue one event for each webhook, due now, once per (webhook, source, id)."""
        return await self.add_deliveries_many([(webhook_ids, position, event)])

    async def add_deliveries_many(self, batch: Sequence[tuple[Sequence[str], str, Any]]) -> int:
        """Queue several events, in order, in one write."""
        columns = _queued([(list(ids), position, dict(event)) for ids, position, event in batch])
        if not columns[0]:
            return 0
        async with self._db.transaction() as conn:
            return status_count(await conn.execute(Q["add_deliveries"], *columns, self._now_us()))

    async def claim_due_deliveries(
        self,
        *,
        limit: int = 100,
        lease_seconds: float = 30.0,
        webhook_id: str | None = None,
        in_order: bool = False,
    ) -> list[WebhookDelivery]:
        """Lease pending deliveries that are due, oldest first (of one webhook when given)."""
        now = codec.from_micros(self._now_us())
        until = codec.to_micros(lease_end(now, limit, lease_seconds))
        now_us = codec.to_micros(now)
        async with self._db.transaction() as conn:
            if webhook_id is not None and in_order:
                head = []
                for row in await conn.fetch(Q["head_of_deliveries"], webhook_id, limit):
                    if row["next_attempt_at"] > now_us:
                        break
                    head.append(row)
                if head:
                    await conn.execute(Q["lease_deliveries"], until, [row["id"] for row in head])
                return [DELIVERY.from_row(row) for row in head]
            if webhook_id is None:
                found = await conn.fetch(Q["claim_deliveries"], until, now_us, limit)
            else:
                found = await conn.fetch(Q["claim_deliveries_of"], until, now_us, limit, webhook_id)
        found.sort(key=lambda row: (row["was"], row["id"]))
        return [_claimed(row) for row in found]

    async def due_webhook_ids(self) -> list[str]:
        """The webhooks that have a pending delivery due now."""
        async with self._db.connection() as conn:
            found = await conn.fetch(Q["due_webhook_ids"], self._now_us())
        return [row["webhook_id"] for row in found]

    async def finish_delivery(self, delivery: WebhookDelivery) -> None:
        """Record an attempt's outcome."""
        await self.finish_deliveries([delivery])

    async def finish_deliveries(self, deliveries: Sequence[WebhookDelivery]) -> None:
        """Record several attempts' outcomes in one write."""
        if not deliveries:
            return
        # One array per column (unnest): the rows' values, transposed.
        columns = [list(column) for column in zip(*map(_FINISH, deliveries), strict=True)]
        async with self._db.transaction() as conn:
            await conn.execute(Q["finish_deliveries"], *columns)

    async def list_deliveries(
        self, webhook_id: str, *, status: str | None = None, limit: int = 100
    ) -> list[WebhookDelivery]:
        """A webhook's deliveries, newest first, optionally of one status."""
        async with self._db.connection() as conn:
            if status is None:
                found = await conn.fetch(Q["list_deliveries"], webhook_id, limit)
            else:
                found = await conn.fetch(Q["list_deliveries_of_status"], webhook_id, status, limit)
        return [DELIVERY.from_row(row) for row in found]
