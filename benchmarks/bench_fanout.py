"""Fan-out at scale for 10, 100 and 1,000 listener workflows subscribed to one emitter (an event
source ``dc_…``), on the embedded SQLite store (a temporary file) and, when
``EMITFLOW_BENCH_POSTGRES`` holds a server URL, on PostgreSQL (a database of its own per
measurement, created and dropped: ``bench_emit_path.fresh_store``).

- Deploy + subscribe: each listener is a one-task workflow of its own, deployed (by document
  text, so deploy looks for a workflow of the same name) then subscribed; ms per listener over
  all of them (target ≤ 1 ms at 1,000).
- Routing: events are ingested into the emitter, one call holding them all, so that each size
  starts the same number of listener runs; listener runs/s from the ingest until every run has
  ended (``Engine.drain``); target ≥ 2,000 at 1,000 listeners. The smaller sizes are the
  baseline of the same run: the cost per run should not grow with the number of listeners.
- Subscriptions that do not match: 10 listeners on the emitter beside 1,000 more listeners
  subscribed to another source and to another channel of the same one (deployed from mappings,
  as a JSON body or a Python dict deploys: the deploy + subscribe figure without YAML); routing
  should cost what it costs with the 10 alone.

``python -m benchmarks bench_fanout``; ``EMITFLOW_BENCH_FANOUT=10,100`` picks the sizes;
``python -m benchmarks.bench_fanout --store postgresql://…|sqlite`` measures on one store only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
import time
from collections.abc import Sequence

from benchmarks.bench_emit_path import fresh_store, store_servers
from emitflow.dsl import parse_workflow
from emitflow.events.cloudevent import CloudEvent
from emitflow.runtime import Engine
from emitflow.runtime.subscriptions import source_emitter_id

SIZES = (10, 100, 1_000)
#: Listener runs each size starts (events × listeners).
RUNS = 5_000
SOURCE = "/bench/fanout"
#: Listeners subscribed elsewhere, beside the 10 that match.
OTHERS = 1_000


def listener(name: str) -> str:
    """A one-task listener workflow."""
    return f"""
document: {{dsl: '1.0.3', namespace: bench, name: {name}, version: '1.0.0'}}
do:
  - keep:
      set:
        n: ${{ .[0].data.n }}
"""


async def fan_out(
    server: str | None, listeners: int, *, others: int = 0
) -> tuple[float, float, int, float]:
    """ms per deploy + subscribe, listener runs/s, how many runs (for ``listeners``), and ms
    per deploy + subscribe of the ``others`` (mappings, subscriptions that do not match), on a
    fresh store (SQLite, or a new database on the PostgreSQL ``server``)."""
    async with fresh_store(server) as url:
        figures = await _fan_out(url, listeners, others)
        await _check_runs(url, figures[2])
    return figures


async def _fan_out(url: str, listeners: int, others: int) -> tuple[float, float, int, float]:
    emitter = source_emitter_id(SOURCE)
    events = max(1, RUNS // listeners)
    async with Engine.open(url) as engine:
        start = time.perf_counter()
        for k in range(others):
            document = parse_workflow(listener(f"other-{k}")).raw
            elsewhere = await engine.deploy({**document, "document": {**document["document"]}})
            where = (source_emitter_id("/bench/other"), "") if k % 2 else (emitter, "other")
            await engine.subscribe(
                emitter_id=where[0], listener_id=elsewhere.id, event_name=where[1]
            )
        unmatched = (time.perf_counter() - start) / others * 1000 if others else 0.0
        start = time.perf_counter()
        for k in range(listeners):
            target = await engine.deploy(listener(f"fan-{k}"))
            await engine.subscribe(emitter_id=emitter, listener_id=target.id)
        deployed = time.perf_counter() - start
        batch = [
            CloudEvent.create(type="com.example.tick", source=SOURCE, data={"n": n})
            for n in range(events)
        ]
        start = time.perf_counter()
        await engine.ingest_many(batch)
        await engine.drain(within=600)
        routed = time.perf_counter() - start
    return deployed / listeners * 1000, events * listeners / routed, events * listeners, unmatched


_COUNTS = "SELECT status, count(*) FROM runs GROUP BY status"


async def _check_runs(url: str, expected: int) -> None:
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn:
            counts = dict(conn.execute(_COUNTS).fetchall())
    else:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            counts = {row[0]: row[1] for row in await conn.fetch(_COUNTS)}
        finally:
            await conn.close()
    if counts != {"completed": expected}:
        raise RuntimeError(f"listener runs by status: {counts}; expected {expected} completed")


def _sizes() -> tuple[int, ...]:
    chosen = os.environ.get("EMITFLOW_BENCH_FANOUT")
    return tuple(int(part) for part in chosen.split(",")) if chosen else SIZES


def measure(server: str | None) -> None:
    """Print the figures per size on one store."""
    kind = "sqlite" if server is None else "postgresql"
    one, five, _ = os.getloadavg()
    print(f"## bench_fanout ({kind}); load average {one:.2f} (1 min) {five:.2f} (5 min)")
    for listeners in _sizes():
        per_listener, rate, runs, _ = asyncio.run(fan_out(server, listeners))
        print(
            f"{listeners:,} listeners on one emitter: deploy (YAML text) + subscribe "
            f"{per_listener:.2f} ms per listener (target ≤ 1); routing {runs:,} listener "
            f"runs: {rate:,.0f} runs/s (target ≥ 2,000 at 1,000 listeners)"
        )
    _, rate, runs, unmatched = asyncio.run(fan_out(server, 10, others=OTHERS))
    print(
        f"10 listeners on one emitter beside {OTHERS:,} subscriptions that do not match: "
        f"routing {runs:,} listener runs: {rate:,.0f} runs/s (compare with 10 alone); "
        f"deploy (mapping) + subscribe of those {OTHERS:,}: {unmatched:.2f} ms per listener"
    )


def main(args: Sequence[str] = ()) -> None:
    """SQLite, then PostgreSQL when ``EMITFLOW_BENCH_POSTGRES`` is set (``--store`` picks one)."""
    usage = "usage: python -m benchmarks.bench_fanout [--store postgresql://…|sqlite]"
    for server in store_servers(list(args), usage):
        measure(server)


if __name__ == "__main__":
    main(sys.argv[1:])
