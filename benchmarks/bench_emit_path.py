"""The emit path on SQLite and on PostgreSQL (issue 15, items 4 and 6).

``python -m benchmarks bench_emit_path`` measures on a temporary SQLite file, and also on
PostgreSQL when ``EMITFLOW_BENCH_POSTGRES`` holds a server URL;
``python -m benchmarks.bench_emit_path --store postgresql://user@host/db [--rounds 3]`` measures
on PostgreSQL only (``--store sqlite`` on SQLite only). On PostgreSQL every measurement gets a
database of its own (``bench_<pid>_<n>``, created on the server of the URL and dropped after).

Each round takes every figure once, each ratio right after its own baseline, and prints the load
average: on a shared machine the rounds are the spread.

- Emit → listener latency: one ``Engine.ingest`` at a time, a one-task listener workflow
  subscribed to the events' source, from the moment ``ingest`` is called to the moment the
  listener run's runner is called; p50/p99 over 2,000 events (target p99 ≤ 10 ms). Printed
  beside it: the garbage collector's pauses meanwhile, and the baseline: the latency of one
  plain one-row transaction (below), p50/p99.
- Baselines: a plain loop inserting one outbox-like row per transaction, in the same process:
  ``sqlite3`` with the store's own writer PRAGMAs (WAL, ``synchronous=NORMAL``), or asyncpg
  running one ``INSERT`` (its own transaction) per row into a table of the same shape.
- Emit throughput: ``bench_events.emit_throughput`` (5,000 events emitted from ``for`` loops by
  1 run and by 50 concurrent runs, a listener subscribed, until the emitter runs ended) against
  the plain loop's rows/s (target ≥ 0.3).
- Single-event appends: ``Store.append_events([event])`` awaited one at a time, 2,000 events,
  against the plain loop's rows/s.
- ``Engine.ingest``, one event per call, awaited one at a time and by 50 concurrent callers:
  events/s until the last call returned (target ≥ 3,000 events/s); no listener, the dispatcher
  moving the events to the log meanwhile.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from benchmarks.bench_events import PLAIN_INSERT, emit_throughput_at, listener, outbox_rows
from emitflow.dsl.model import Workflow
from emitflow.events.cloudevent import CloudEvent
from emitflow.ports import RunOptions, RunResult
from emitflow.runtime import Engine, EngineSettings, engine_executor
from emitflow.runtime.subscriptions import source_emitter_id
from emitflow.store import NewEvent, Store
from emitflow.store.factory import open_store
from emitflow.store.sqlite import database as sqlite_database

LATENCY_EVENTS = 2_000
THROUGHPUT_EVENTS = 5_000
APPEND_EVENTS = 2_000
INGEST_EVENTS = 2_000
ROUNDS = 3
SOURCE = "/bench/emit-path"
_databases = itertools.count()
#: The store's writer PRAGMAs (its fsync settings) for the plain loop; the ones of 2026-12-03
#: should the store keep them elsewhere one day.
WRITER_PRAGMAS: tuple[str, ...] = getattr(
    sqlite_database,
    "_WRITER_PRAGMAS",
    ("PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA busy_timeout = 5000"),
)


@asynccontextmanager
async def fresh_store(server: str | None) -> AsyncIterator[str]:
    """A store URL of its own: a temporary SQLite file, or a new database on ``server``."""
    if server is None:
        with tempfile.TemporaryDirectory(prefix="emitflow-bench-") as folder:
            yield f"sqlite:///{folder}/emitflow.db"
        return
    url = await create_database(server)
    try:
        yield url
    finally:
        await drop_database(server, url)


async def create_database(server: str) -> str:
    """A new database ``bench_<pid>_<n>`` on the PostgreSQL ``server``; its URL."""
    import asyncpg

    name = f"bench_{os.getpid()}_{next(_databases)}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


async def drop_database(server: str, url: str) -> None:
    """Drop the database of ``url`` (made by ``create_database``), its sessions ended."""
    import asyncpg

    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f"DROP DATABASE {urlsplit(url).path.strip('/')} WITH (FORCE)")
    finally:
        await admin.close()


_PLAIN_TABLE = (
    "CREATE TABLE outbox (id {key}, emitter_id TEXT NOT NULL, channel TEXT NOT NULL,"
    " event TEXT NOT NULL, metadata TEXT NOT NULL, created_at BIGINT NOT NULL)"
)


def _plain_sqlite(url: str, n: int) -> list[float]:
    path = url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in WRITER_PRAGMAS:
            conn.execute(pragma)
        conn.execute(_PLAIN_TABLE.format(key="INTEGER PRIMARY KEY AUTOINCREMENT"))
        spans = []
        for row in outbox_rows(n):
            start = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                PLAIN_INSERT,
                row,
            )
            conn.execute("COMMIT")
            spans.append(time.perf_counter() - start)
        return spans
    finally:
        conn.close()


async def _plain_postgres(url: str, n: int) -> list[float]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(_PLAIN_TABLE.format(key="BIGSERIAL PRIMARY KEY"))
        insert = await conn.prepare(
            "INSERT INTO outbox (emitter_id, channel, event, metadata, created_at)"
            " VALUES ($1, $2, $3, $4, $5)"
        )
        spans = []
        for row in outbox_rows(n):
            start = time.perf_counter()
            await insert.fetch(*row)
            spans.append(time.perf_counter() - start)
        return spans
    finally:
        await conn.close()


async def plain_loop(server: str | None, n: int) -> list[float]:
    """Seconds per one-row transaction of the plain loop, on a fresh database."""
    async with fresh_store(server) as url:
        if server is None:
            return _plain_sqlite(url, n)
        return await _plain_postgres(url, n)


class _ListenerClock:
    """The real runner, noting when each listener run was handed to it."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.signal = asyncio.Event()

    async def __call__(self, workflow: Workflow, *, input: Any, options: RunOptions) -> RunResult:
        if isinstance(input, list) and input and isinstance(input[0], dict):
            self.started[str(input[0].get("id"))] = time.perf_counter()
            self.signal.set()
        return await engine_executor(workflow, input=input, options=options)


class _Pauses:
    """The garbage collector's pauses while installed: (generation, seconds)."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses.append((info["generation"], time.perf_counter() - self._start))


async def ingest_latency(url: str, n: int) -> tuple[list[float], list[tuple[int, float]]]:
    """Seconds from each ``ingest`` call to its listener run's start; the GC pauses meanwhile."""
    spans, pauses = await ingest_latency_on(url, n)
    return [end - start for start, end in spans], pauses


async def ingest_latency_on(
    store: str | Store, n: int, measuring: Callable[[], None] = lambda: None
) -> tuple[list[tuple[float, float]], list[tuple[int, float]]]:
    """(ingest called, listener run started) per event, and the GC pauses meanwhile;
    ``measuring`` is called once the setup is done, right before the first ingest."""
    clock = _ListenerClock()
    emitted: dict[str, float] = {}
    pauses = _Pauses()
    async with Engine.open(store, settings=EngineSettings(executor=clock)) as engine:
        target = await engine.deploy(listener("latency").replace(".data.n }", ".data }"))
        await engine.subscribe(emitter_id=source_emitter_id(SOURCE), listener_id=target.id)
        measuring()
        gc.callbacks.append(pauses)
        try:
            for i in range(n):
                event = CloudEvent.create(type="com.example.tick", source=SOURCE, data={"n": i})
                clock.signal.clear()
                emitted[event.id] = time.perf_counter()
                await engine.ingest(event)
                await clock.signal.wait()
        finally:
            gc.callbacks.remove(pauses)
        await engine.drain(within=120)
    return [(at, clock.started[key]) for key, at in emitted.items()], pauses.pauses


async def single_appends(url: str, n: int) -> float:
    """Events/s of ``append_events([event])`` awaited one at a time."""
    events = [
        NewEvent(
            emitter_id="p_bench",
            event=CloudEvent.create(type="com.example.tick", source="/b", data={"n": i}),
            metadata={"run_id": "r_x"},
        )
        for i in range(n)
    ]
    async with open_store(url) as store:
        start = time.perf_counter()
        for new in events:
            await store.append_events([new])
        return n / (time.perf_counter() - start)


async def ingest_rate(url: str, n: int, callers: int) -> float:
    """Events/s of ``Engine.ingest`` (one event per call) until the last call returned."""
    events = [
        CloudEvent.create(type="com.example.tick", source=SOURCE, data={"n": i}) for i in range(n)
    ]
    async with Engine.open(url) as engine:
        await engine.ingest(CloudEvent.create(type="warm", source=SOURCE, data={}))
        await engine.drain(within=60)

        async def caller(share: Sequence[CloudEvent]) -> None:
            for event in share:
                await engine.ingest(event)

        start = time.perf_counter()
        await asyncio.gather(*(caller(events[k::callers]) for k in range(callers)))
        elapsed = time.perf_counter() - start
        await engine.drain(within=300)
    return n / elapsed


def _ms(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) {five:.2f} (5 min)"


async def one_round(server: str | None) -> None:
    """Every figure once, each after its own baseline."""
    kind = "sqlite" if server is None else "postgresql"
    plain = await plain_loop(server, LATENCY_EVENTS)
    latencies, pauses = await _on_fresh(server, ingest_latency, LATENCY_EVENTS)
    old = [seconds for generation, seconds in pauses if generation == 2]
    print(
        f"[{kind}] emit → listener run started, {len(latencies):,} ingests one at a time: "
        f"p50 {_ms(latencies, 0.5):.2f} ms, p99 {_ms(latencies, 0.99):.2f} ms, "
        f"max {_ms(latencies, 1.0):.1f} ms (target p99 ≤ 10 ms); GC: {len(pauses)} pauses, "
        f"{len(old)} of generation 2 (longest {max(old, default=0) * 1000:.1f} ms); baseline, "
        f"one plain one-row transaction: p50 {_ms(plain, 0.5):.2f} ms, "
        f"p99 {_ms(plain, 0.99):.2f} ms ({_load()})"
    )
    for parallel in (1, 50):
        plain = await plain_loop(server, THROUGHPUT_EVENTS)
        rate = len(plain) / sum(plain)
        emitted, drained = await _on_fresh(server, emit_throughput_at, THROUGHPUT_EVENTS, parallel)
        who = "1 emitter run" if parallel == 1 else f"{parallel} concurrent emitter runs"
        print(
            f"[{kind}] emit throughput, {THROUGHPUT_EVENTS:,} events from {who}: {emitted:,.0f} "
            f"events/s until the emitters ended ({drained:,.0f}/s until every listener run "
            f"ended); plain one-row transactions {rate:,.0f} rows/s; ratio {emitted / rate:.2f} "
            f"(target ≥ 0.3) ({_load()})"
        )
    plain = await plain_loop(server, APPEND_EVENTS)
    rate = len(plain) / sum(plain)
    appended = await _on_fresh(server, single_appends, APPEND_EVENTS)
    print(
        f"[{kind}] single-event append_events, {APPEND_EVENTS:,} one at a time: "
        f"{appended:,.0f} events/s; plain one-row transactions {rate:,.0f} rows/s; "
        f"ratio {appended / rate:.2f} ({_load()})"
    )
    for callers in (1, 50):
        ingested = await _on_fresh(server, ingest_rate, INGEST_EVENTS, callers)
        who = "awaited one at a time" if callers == 1 else f"{callers} concurrent callers"
        print(
            f"[{kind}] Engine.ingest, one event per call, {INGEST_EVENTS:,} events, {who}: "
            f"{ingested:,.0f} events/s (target ≥ 3,000) ({_load()})"
        )


async def _on_fresh(server: str | None, measure: Any, *args: Any) -> Any:
    async with fresh_store(server) as url:
        return await measure(url, *args)


def run(servers: Sequence[str | None], rounds: int) -> None:
    """``rounds`` rounds, alternating the stores round by round."""
    for number in range(1, rounds + 1):
        for server in servers:
            print(f"# round {number}, {'sqlite' if server is None else 'postgresql'}: {_load()}")
            asyncio.run(one_round(server))


def store_servers(args: Sequence[str], usage: str) -> list[str | None]:
    """The stores a benchmark measures: ``--store postgresql://…|sqlite`` picks one; without
    arguments SQLite (``None``), and the PostgreSQL server of ``EMITFLOW_BENCH_POSTGRES`` if
    set. Anything else exits with ``usage``."""
    if list(args[:1]) == ["--store"] and len(args) == 2:
        return [None if args[1] == "sqlite" else args[1]]
    if args:
        raise SystemExit(usage)
    servers: list[str | None] = [None]
    if os.environ.get("EMITFLOW_BENCH_POSTGRES"):
        servers.append(os.environ["EMITFLOW_BENCH_POSTGRES"])
    return servers


def main(args: Sequence[str] = ()) -> None:
    """Print the figures (``--store postgresql://…|sqlite``, ``--rounds N``)."""
    args = list(args)
    rounds = ROUNDS
    if "--rounds" in args:
        at = args.index("--rounds")
        rounds = int(args[at + 1])
        del args[at : at + 2]
    servers = store_servers(
        args,
        "usage: python -m benchmarks.bench_emit_path [--store postgresql://…|sqlite] [--rounds N]",
    )
    print(f"## the emit path (sqlite {sqlite3.sqlite_version}); {_load()}")
    run(servers, rounds)


if __name__ == "__main__":
    main(sys.argv[1:])
