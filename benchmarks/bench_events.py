"""Event runtime figures on the embedded SQLite store (a temporary file).

- Emit throughput with one subscribed listener: N events emitted from ``for`` loops, by one
  run and by 50 concurrent runs; events/s until every emitter run has ended (so every emit is
  committed: a durable run's commits are pipelined, and its end is committed after them; the
  dispatcher and the listener runs share the store's one writer meanwhile), and until every
  listener run has ended. Baseline: a plain ``sqlite3`` loop inserting one row per
  transaction into an outbox-like table (same settings: WAL, synchronous=NORMAL), in the same
  process.
- Emit → listener run started, p50/p99: one event at a time (each emitter run emits one event
  and the next starts once its listener has started), from the moment the emit's commit returns
  to the moment the listener's runner is called. 10,000 events, fewer if that passes ~60 s.
- Fan-out: one event to 100 subscribed listeners, from the emit's commit until the 100th
  listener run has started (median and worst of 5).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from emitflow.dsl import parse_workflow
from emitflow.dsl.model import Workflow
from emitflow.events.cloudevent import CloudEvent
from emitflow.ports import EventSink, Journal, RunOptions, RunResult, TaskRecord
from emitflow.runner import execute
from emitflow.runtime import Engine, EngineSettings, engine_executor

THROUGHPUT_EVENTS = 5_000
LATENCY_EVENTS = 10_000
LATENCY_BUDGET_S = 60.0
FANOUT_LISTENERS = 100
FANOUT_ROUNDS = 5

EMITTER = """
document: {dsl: '1.0.3', namespace: bench, name: emitter, version: '1.0.0'}
do:
  - each:
      for: {each: n, in: '${ [range(.count)] }'}
      do:
        - announce:
            emit:
              event:
                with:
                  type: com.example.tick
                  source: /bench/emitter
                  data: {n: '${ $n }'}
"""

ONE_EMIT = """
document: {dsl: '1.0.3', namespace: bench, name: one-emit, version: '1.0.0'}
do:
  - announce:
      emit:
        event:
          with:
            type: com.example.tick
            source: /bench/one
            data: {}
"""


def listener(name: str) -> str:
    """A one-task listener workflow."""
    return f"""
document: {{dsl: '1.0.3', namespace: bench, name: {name}, version: '1.0.0'}}
do:
  - keep:
      set:
        n: ${{ .[0].data.n }}
"""


class _Timed:
    """An ``EventSink`` noting when each emit's commit returned."""

    def __init__(self, inner: EventSink, emitted: dict[str, float]) -> None:
        self._inner = inner
        self._emitted = emitted

    async def publish(self, event: CloudEvent) -> None:
        await self._inner.publish(event)
        self._emitted[event.id] = time.perf_counter()


class _TimedJournal:
    """A ``Journal`` noting when each emit task's commit (with its events) returned."""

    def __init__(self, inner: Journal, emitted: dict[str, float]) -> None:
        self._inner = inner
        self._emitted = emitted

    async def task_committed(self, record: TaskRecord, events: Sequence[CloudEvent]) -> None:
        await self._inner.task_committed(record, events)
        # The journal pipelines commits: wait until this one is written, to time from there.
        flush = getattr(self._inner, "flush", None)
        if flush is not None:
            await flush()
        now = time.perf_counter()
        for event in events:
            self._emitted[event.id] = now


class _Clocked:
    """The real runner, noting when emits committed and when listener runs started."""

    def __init__(self) -> None:
        self.emitted: dict[str, float] = {}
        self.started: dict[str, list[float]] = {}
        self.expected = 0
        self.all_started = asyncio.Event()
        #: Note when each emit committed (waiting for each commit, which throughput must not).
        self.time_emits = True

    async def __call__(self, workflow: Workflow, *, input: Any, options: RunOptions) -> RunResult:
        if isinstance(input, list) and input and isinstance(input[0], dict):
            times = self.started.setdefault(str(input[0].get("id")), [])
            times.append(time.perf_counter())
            if len(times) >= self.expected:
                self.all_started.set()
        elif self.time_emits:
            # Durable runs commit emit events through the journal; others publish them.
            if options.journal is not None:
                options = replace(options, journal=_TimedJournal(options.journal, self.emitted))
            if options.events is not None:
                options = replace(options, events=_Timed(options.events, self.emitted))
        return await engine_executor(workflow, input=input, options=options)


#: The plain loop's one row per transaction, into an outbox-like table.
PLAIN_INSERT = (
    "INSERT INTO outbox (emitter_id, channel, event, metadata, created_at) VALUES (?, ?, ?, ?, ?)"
)


def outbox_rows(n: int) -> list[tuple[str, str, str, str, int]]:
    """``n`` outbox-like rows (emitter, channel, event JSON, metadata JSON, created at)."""
    return [
        (
            "p_bench",
            "",
            json.dumps(
                CloudEvent.create(type="com.example.tick", source="/b", data={"n": i}).to_dict()
            ),
            json.dumps({"run_id": "r_x", "emit_id": str(uuid.uuid4())}),
            time.time_ns() // 1000,
        )
        for i in range(n)
    ]


def plain_sqlite_rate(folder: Path, n: int) -> float:
    """Rows/s of a plain sqlite3 loop, one INSERT per transaction, outbox-like rows."""
    conn = sqlite3.connect(folder / "plain.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(
        "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, emitter_id TEXT NOT NULL,"
        " channel TEXT NOT NULL, event TEXT NOT NULL, metadata TEXT NOT NULL,"
        " created_at INTEGER NOT NULL)"
    )
    rows = outbox_rows(n)
    start = time.perf_counter()
    for row in rows:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            PLAIN_INSERT,
            row,
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


async def emit_throughput(folder: Path, n: int, parallel: int) -> tuple[float, float]:
    """``emit_throughput_at`` on a SQLite file in ``folder``."""
    return await emit_throughput_at(f"sqlite:///{folder}/throughput-{parallel}.db", n, parallel)


async def emit_throughput_at(url: str, n: int, parallel: int) -> tuple[float, float]:
    """Events/s until every emitter run had ended (its emits all committed), and until every
    listener run had ended; ``parallel`` emitter runs share the ``n`` events, on the store at
    ``url`` (empty)."""
    clocked = _Clocked()
    clocked.expected = n + 1  # never "all started"
    clocked.time_emits = False
    # One emitter run's events are one causal chain: lift the loop guard's budget of runs per
    # chain (1,000 by default) so that every event starts its listener run.
    settings = EngineSettings(executor=clocked, max_chain_runs=n + 1)
    async with Engine.open(url, settings=settings) as engine:
        emitter = await engine.deploy(EMITTER)
        target = await engine.deploy(listener("listener"))
        await engine.subscribe(emitter_id=emitter.id, listener_id=target.id)
        start = time.perf_counter()
        runs = await asyncio.gather(
            *(engine.start(emitter.id, input={"count": n // parallel}) for _ in range(parallel))
        )
        emitted = time.perf_counter() - start
        await engine.drain(within=600)
        drained = time.perf_counter() - start
        logged = await engine.events(emitter.id, limit=1)
        if logged.total_count != n or any(run.status != "completed" for run in runs):
            raise RuntimeError("the emitter runs did not all complete")
        listened = await engine.store.list_runs(workflow_id=target.id, limit=1)
        if listened.items[0].status != "completed":
            raise RuntimeError("listener run failed")
    return n / emitted, n / drained


async def emit_latency(folder: Path, n: int, budget: float) -> tuple[list[float], bool]:
    """Per-event emit → listener-started latencies (ms), one event at a time."""
    clocked = _Clocked()
    clocked.expected = 1
    settings = EngineSettings(executor=clocked)
    latencies: list[float] = []
    async with Engine.open(f"sqlite:///{folder}/latency.db", settings=settings) as engine:
        emitter = await engine.deploy(ONE_EMIT)
        target = await engine.deploy(listener("latency-listener").replace(".data.n }", ".data }"))
        await engine.subscribe(emitter_id=emitter.id, listener_id=target.id)
        deadline = time.perf_counter() + budget
        for _ in range(n):
            clocked.all_started.clear()
            await engine.start(emitter.id, wait=False)
            await clocked.all_started.wait()
            if time.perf_counter() > deadline:
                break
        await engine.drain(within=120)
    for event_id, at in clocked.emitted.items():
        started = clocked.started.get(event_id)
        if started:
            latencies.append((started[0] - at) * 1000)
    return latencies, len(latencies) < n


async def fan_out(folder: Path, listeners: int, rounds: int) -> list[float]:
    """Milliseconds from one emit's commit until all ``listeners`` runs started."""
    clocked = _Clocked()
    clocked.expected = listeners
    settings = EngineSettings(executor=clocked)
    spans: list[float] = []
    async with Engine.open(f"sqlite:///{folder}/fanout.db", settings=settings) as engine:
        emitter = await engine.deploy(ONE_EMIT)
        for k in range(listeners):
            target = await engine.deploy(listener(f"fan-{k}").replace(".data.n }", ".data }"))
            await engine.subscribe(emitter_id=emitter.id, listener_id=target.id)
        for _ in range(rounds):
            clocked.all_started.clear()
            before = set(clocked.emitted)
            await engine.start(emitter.id, wait=False)
            await clocked.all_started.wait()
            (event_id,) = set(clocked.emitted) - before
            spans.append((max(clocked.started[event_id]) - clocked.emitted[event_id]) * 1000)
            await engine.drain(within=120)
    return spans


PURE_ITEMS = 10_000
FOR_DOC = """
document: {dsl: '1.0.3', namespace: bench, name: for-set, version: '1.0.0'}
do:
  - loop:
      for: {each: item, in: '.items'}
      do:
        - acc:
            set:
              total: ${ (.total // 0) + $item }
"""


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def pure_tasks_with_store(folder: Path) -> tuple[float, float]:
    """µs per ``for``/``set`` iteration through the sqlite ``Engine`` and through ``execute``."""
    workflow = parse_workflow(FOR_DOC)
    data = {"items": list(range(PURE_ITEMS))}
    await execute(workflow, input=data)  # warm the expression caches for both measurements
    start = time.perf_counter()
    result = await execute(workflow, input=data)
    in_memory = time.perf_counter() - start
    if result.status != "completed":
        raise RuntimeError(result.error)
    async with Engine.open(f"sqlite:///{folder / 'pure.db'}") as engine:
        deployed = await engine.deploy(workflow)
        start = time.perf_counter()
        run = await engine.start(deployed.id, input=data)
        stored = time.perf_counter() - start
        if run.status != "completed":
            raise RuntimeError(run.error)
    return stored / PURE_ITEMS * 1e6, in_memory / PURE_ITEMS * 1e6


def main() -> None:
    """Print the figures with their baselines and targets."""
    with tempfile.TemporaryDirectory(prefix="emitflow-bench-") as name:
        folder = Path(name)
        stored, in_memory = asyncio.run(pure_tasks_with_store(folder))
        print(
            f"for/set loop, {PURE_ITEMS:,} items, through the sqlite Engine: {stored:.1f} "
            f"µs/iteration vs {in_memory:.1f} µs in memory (ratio {stored / in_memory:.2f}; "
            "target ≤ 2)"
        )
        plain = plain_sqlite_rate(folder, THROUGHPUT_EVENTS)
        for parallel in (1, 50):
            emitted, drained = asyncio.run(emit_throughput(folder, THROUGHPUT_EVENTS, parallel))
            who = "1 emitter run" if parallel == 1 else f"{parallel} concurrent emitter runs"
            print(
                f"emit throughput, sqlite, 1 listener, {THROUGHPUT_EVENTS:,} events from {who}: "
                f"{emitted:,.0f} events/s until the emitters ended ({drained:,.0f} events/s until "
                f"every listener run ended); plain sqlite3 one-row transactions "
                f"{plain:,.0f} rows/s; "
                f"ratio {emitted / plain:.2f} (target ≥ 0.3)"
            )
        latencies, cut = asyncio.run(emit_latency(folder, LATENCY_EVENTS, LATENCY_BUDGET_S))
        note = f" (stopped at ~{LATENCY_BUDGET_S:.0f} s)" if cut else ""
        print(
            f"emit → listener run started, {len(latencies):,} events{note}: "
            f"p50 {_percentile(latencies, 0.5):.2f} ms, p99 {_percentile(latencies, 0.99):.2f} ms "
            f"(target p50 ≤ 5 ms, p99 ≤ 25 ms)"
        )
        spans = asyncio.run(fan_out(folder, FANOUT_LISTENERS, FANOUT_ROUNDS))
        print(
            f"fan-out, 1 event → {FANOUT_LISTENERS} listeners all started: "
            f"median {statistics.median(spans):.1f} ms, worst {max(spans):.1f} ms "
            f"of {FANOUT_ROUNDS} (target ≤ 100 ms)"
        )


if __name__ == "__main__":
    main()
