"""``schedule.on``: one, any, all with correlation; partial collections survive a restart."""

from __future__ import annotations

from typing import Any

from emitflow.store import MemoryStore
from tests.unit.runtime.conftest import OpenEngine
from tests.unit.runtime.fakes import doc

ONE = doc(
    "on-one",
    """schedule:
  on:
    one:
      with:
        type: order.created
do:
  - keep:
      set: '${ . }'
""",
)

ANY = doc(
    "on-any",
    """schedule:
  on:
    any:
      - with: {type: order.created}
      - with: {type: order.cancelled, data: {reason: '^fraud'}}
do:
  - keep:
      set: '${ . }'
""",
)

ALL = doc(
    "on-all",
    """schedule:
  on:
    all:
      - with: {type: order.created}
        correlate:
          orderId: {from: '${ .data.id }'}
      - with: {type: payment.received}
        correlate:
          orderId: {from: '${ .data.orderId }'}
do:
  - keep:
      set: '${ . }'
""",
)


def event(type_: str, event_id: str, **data: Any) -> dict[str, Any]:
    return {"specversion": "1.0", "id": event_id, "source": "/shop", "type": type_, "data": data}


async def test_on_one_starts_a_run_per_matching_event(open_engine: OpenEngine) -> None:
    async with open_engine() as engine:
        flow = await engine.deploy(ONE)
        await engine.ingest(event("order.created", "1", id=1))
        await engine.ingest(event("order.shipped", "2", id=1))
        await engine.ingest(event("order.created", "1", id=1))  # the same event again
        await engine.drain()
        (run,) = (await engine.store.list_runs(workflow_id=flow.id)).items
        assert run.input == [event("order.created", "1", id=1)]  # envelopes, as ingested
        assert run.output == run.input
        assert run.hops == 1
        assert run.trigger["schedule"] == {"kind": "on"}


async def test_on_any_matches_either_filter(open_engine: OpenEngine) -> None:
    async with open_engine() as engine:
        flow = await engine.deploy(ANY)
        await engine.ingest(event("order.cancelled", "a", reason="customer"))
        await engine.ingest(event("order.cancelled", "b", reason="fraud suspected"))
        await engine.ingest(event("order.created", "c"))
        await engine.drain()
        runs = (await engine.store.list_runs(workflow_id=flow.id)).items
        assert sorted(run.input[0]["id"] for run in runs) == ["b", "c"]


async def test_on_all_collects_correlated_events_across_a_restart(
    open_engine: OpenEngine,
) -> None:
    store = MemoryStore()
    async with open_engine(store=store) as engine:
        flow = await engine.deploy(ALL)
        await engine.ingest(event("order.created", "c1", id=1))
        await engine.ingest(event("order.created", "c2", id=2))
        await engine.ingest(event("payment.received", "p2", orderId=2))
        await engine.drain()
        runs = (await store.list_runs(workflow_id=flow.id)).items
        done = [run for run in runs if run.status == "completed"]
        (complete,) = done
        assert [e["id"] for e in complete.input] == ["c2", "p2"]
        assert complete.trigger["correlation"] == {"orderId": 2}
        waiting = [run for run in runs if run.status == "waiting"]
        assert len(waiting) == 1
        assert len(await store.list_waits(workflow_id=flow.id)) == 1
    async with open_engine(store=store) as engine:
        await engine.ingest(event("payment.received", "p9", orderId=9))  # no such order
        await engine.ingest(event("payment.received", "p1", orderId=1))
        await engine.drain()
        runs = (await store.list_runs(workflow_id=flow.id)).items
        completed = sorted(
            [e["id"] for e in run.input] for run in runs if run.status == "completed"
        )
        assert completed == [["c1", "p1"], ["c2", "p2"]]
        # The unmatched payment opened a collection of its own, waiting for its order.
        (left,) = await store.list_waits(workflow_id=flow.id)
        assert left.state["keys"] == {"orderId": 9}


EVERYTHING = doc(
    "on-everything",
    """schedule:
  on:
    any: []
do:
  - keep:
      set: '${ . }'
""",
)


async def test_any_empty_hears_every_event_but_not_reserved_channels(
    open_engine: OpenEngine,
) -> None:
    async with open_engine() as engine:
        flow = await engine.deploy(EVERYTHING)
        failing = await engine.deploy(
            doc("boom", "do:\n  - fail:\n      raise:\n        error: {type: x, status: 500}\n")
        )
        await engine.start(failing.id)  # its fault goes to $errors: no start from that
        await engine.ingest(event("anything.at.all", "z"))
        await engine.drain()
        (run,) = (await engine.store.list_runs(workflow_id=flow.id)).items
        assert run.input[0]["id"] == "z"
