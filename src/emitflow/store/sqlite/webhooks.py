"""``SqliteWebhooks``: webhook listeners and deliveries in SQLite (migration 0004)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from emitflow.errors import NotFoundError
from emitflow.store import codec
from emitflow.store.paging import lease_end
from emitflow.store.queries import queries
from emitflow.store.records import Webhook, WebhookDelivery
from emitflow.store.rows import DELIVERY, WEBHOOK
from emitflow.store.sqlite.database import SqliteDatabase

__all__ = ["SqliteWebhooks"]

Q = queries("sqlite")


def _put(conn: sqlite3.Connection, webhook: Webhook) -> None:
    conn.execute(Q["put_webhook"], WEBHOOK.to_row(webhook))


def _get(conn: sqlite3.Connection, webhook_id: str) -> Webhook:
    row = conn.execute(Q["get_webhook"], (webhook_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no webhook {webhook_id!r}")
    return WEBHOOK.from_row(row)


def _all(conn: sqlite3.Connection) -> list[Webhook]:
    rows = conn.execute(Q["list_webhooks"]).fetchall()
    return [WEBHOOK.from_row(row) for row in rows]


def _delete(conn: sqlite3.Connection, webhook_id: str) -> bool:
    gone = conn.execute(Q["delete_webhook"], (webhook_id,)).rowcount > 0
    if gone:
        conn.execute(Q["delete_webhook_subscriptions"], (webhook_id,))
        conn.execute(Q["delete_webhook_deliveries"], (webhook_id,))
    return gone


def _add(
    conn: sqlite3.Connection, webhook_ids: Sequence[str], position: str, event: Any, now: int
) -> int:
    text = codec.dumps(event)
    source, event_id = str(event.get("source")), str(event.get("id"))
    added = 0
    for webhook_id in webhook_ids:
        params = (webhook_id, source, event_id, position, text, now)
        added += conn.execute(Q["add_delivery"], params).rowcount
    return added


def _due_rows(
    conn: sqlite3.Connection, now: int, limit: int, webhook_id: str | None, in_order: bool
) -> list[sqlite3.Row]:
    if webhook_id is None:
        return conn.execute(Q["claim_deliveries"], (now, limit)).fetchall()
    if not in_order:
        return conn.execute(Q["claim_deliveries_of"], (webhook_id, now, limit)).fetchall()
    rows = []
    for row in conn.execute(Q["head_of_deliveries"], (webhook_id, limit)).fetchall():
        if row["next_attempt_at"] > now:
            break
        rows.append(row)
    return rows


def _claim(
    conn: sqlite3.Connection,
    now: int,
    until: int,
    limit: int,
    webhook_id: str | None = None,
    in_order: bool = False,
) -> list[WebhookDelivery]:
    rows = _due_rows(conn, now, limit, webhook_id, in_order)
    conn.executemany(
        Q["lease_delivery"],
        [(until, row["id"]) for row in rows],
    )
    return [DELIVERY.from_row(row) for row in rows]


_FINISH = DELIVERY.encoder("status", "attempts", "next_attempt_at", "last_error", "id")


def _finish(conn: sqlite3.Connection, delivery: WebhookDelivery) -> None:
    conn.execute(Q["finish_delivery"], _FINISH(delivery))


def _finish_many(conn: sqlite3.Connection, deliveries: Sequence[WebhookDelivery]) -> None:
    conn.executemany(Q["finish_delivery"], [_FINISH(d) for d in deliveries])


def _add_many(
    conn: sqlite3.Connection, batch: Sequence[tuple[Sequence[str], str, Any]], now: int
) -> int:
    return sum(_add(conn, ids, position, event, now) for ids, position, event in batch)


def _list(
    conn: sqlite3.Connection, webhook_id: str, status: str | None, limit: int
) -> list[WebhookDelivery]:
    if status is None:
        rows = conn.execute(Q["list_deliveries"], (webhook_id, limit)).fetchall()
    else:
        sql = Q["list_deliveries_of_status"]
        rows = conn.execute(sql, (webhook_id, status, limit)).fetchall()
    return [DELIVERY.from_row(row) for row in rows]


class SqliteWebhooks:
    """Webhooks and deliveries in the ``webhooks`` and ``webhook_deliveries`` tables."""

    _db: SqliteDatabase

    _now_us: Callable[[], int]

    async def put_webhook(self, webhook: Webhook) -> None:
        """Store a webhook, or replace it (its health changed)."""
        await self._db.write(partial(_put, webhook=webhook))

    async def get_webhook(self, webhook_id: str) -> Webhook:
        """A webhook by id."""
        return await self._db.read(partial(_get, webhook_id=webhook_id))

    async def list_webhooks(self) -> list[Webhook]:
        """Every webhook, oldest first."""
        return await self._db.read(_all)

    async def delete_webhook(self, webhook_id: str) -> bool:
        """Remove a webhook with its subscriptions and deliveries."""
        return await self._db.write(partial(_delete, webhook_id=webhook_id))

    async def add_deliveries(self, webhook_ids: Sequence[str], position: str, event: Any) -> int:
        """Queue one event for each webhook, due now, once per (webhook, source, id)."""
        action = partial(
            _add,
            webhook_ids=list(webhook_ids),
            position=position,
            event=dict(event),
            now=self._now_us(),
        )
        return await self._db.write(action)

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
        action = partial(
            _claim,
            now=codec.to_micros(now),
            until=until,
            limit=limit,
            webhook_id=webhook_id,
            in_order=in_order,
        )
        return await self._db.write(action)

    async def due_webhook_ids(self) -> list[str]:
        """The webhooks that have a pending delivery due now."""
        now = self._now_us()
        rows = await self._db.read(
            lambda conn: conn.execute(Q["due_webhook_ids"], (now,)).fetchall()
        )
        return [row[0] for row in rows]

    async def add_deliveries_many(self, batch: Sequence[tuple[Sequence[str], str, Any]]) -> int:
        """Queue several events, in order, in one write."""
        copied = [(list(ids), position, dict(event)) for ids, position, event in batch]
        return await self._db.write(partial(_add_many, batch=copied, now=self._now_us()))

    async def finish_delivery(self, delivery: WebhookDelivery) -> None:
        """Record an attempt's outcome."""
        await self._db.write(partial(_finish, delivery=delivery))

    async def finish_deliveries(self, deliveries: Sequence[WebhookDelivery]) -> None:
        """Record several attempts' outcomes in one write."""
        if deliveries:
            await self._db.write(partial(_finish_many, deliveries=list(deliveries)))

    async def list_deliveries(
        self, webhook_id: str, *, status: str | None = None, limit: int = 100
    ) -> list[WebhookDelivery]:
        """A webhook's deliveries, newest first, optionally of one status."""
        return await self._db.read(
            partial(_list, webhook_id=webhook_id, status=status, limit=limit)
        )
