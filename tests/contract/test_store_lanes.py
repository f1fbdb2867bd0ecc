"""The store's side of per-destination delivery lanes, on every backend: due destinations,
claims of one destination, the in-order head claim, and batched queueing and finishing."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from emitflow.store.base import Store
from emitflow.store.records import Webhook
from tests.contract.stores import START, ManualClock


def _event(n: int) -> dict[str, object]:
    return {"specversion": "1.0", "id": f"e{n}", "source": "/s", "type": "t"}


async def _hooks(store: Store) -> None:
    for name in ("wh_a", "wh_b"):
        await store.put_webhook(
            Webhook(id=name, url="nats://127.0.0.1:4222", created_at=START, updated_at=START)
        )


async def test_lanes_claim_their_own_destination_in_order(
    store: Store,
    clock: ManualClock,
) -> None:
    await _hooks(store)
    queued = await store.add_deliveries_many(
        [(["wh_a", "wh_b"], f"1-{n}", _event(n)) for n in range(4)]
        + [(["wh_a"], "1-0", _event(0))]  # the same event again: not queued twice
    )
    assert queued == 8
    assert await store.due_webhook_ids() == ["wh_a", "wh_b"]
    head = await store.claim_due_deliveries(limit=2, webhook_id="wh_a", in_order=True)
    assert [d.event["id"] for d in head] == ["e0", "e1"]
    # The head is leased: an in-order claim finds nothing due before it.
    assert await store.claim_due_deliveries(webhook_id="wh_a", in_order=True) == []
    others = await store.claim_due_deliveries(webhook_id="wh_b")
    assert {d.webhook_id for d in others} == {"wh_b"} and len(others) == 4
    later = clock.now() + timedelta(seconds=30)
    await store.finish_deliveries(
        [replace(head[0], status="delivered", attempts=1), replace(head[1], next_attempt_at=later)]
    )
    assert await store.claim_due_deliveries(webhook_id="wh_a", in_order=True) == []
    clock.advance(31)
    again = await store.claim_due_deliveries(webhook_id="wh_a", in_order=True)
    assert [d.event["id"] for d in again] == ["e1", "e2", "e3"]
    delivered = await store.list_deliveries("wh_a", status="delivered")
    assert [d.event["id"] for d in delivered] == ["e0"]
