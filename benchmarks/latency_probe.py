"""Where the emit → listener latency goes: the probe behind BENCHMARKS.md's explanation.

``python -m benchmarks.latency_probe [--store sqlite|postgresql://…] [--events N]`` runs
``bench_emit_path.ingest_latency`` with every public coroutine method of the store timed, and
prints: each operation's p50/p99/max, the timeline of the slowest events (every store operation
that overlapped them, in ms from the ingest call), the garbage collector's pauses, and how long
the process's threads waited on the kernel's run queue (``/proc/self/task/*/schedstat``) beside
the CPU they used. On SQLite it then alternates runs with the writer's automatic WAL checkpoint
turned off (``PRAGMA wal_autocheckpoint = 0``, in this process only) and on, to show the share
of the checkpoints.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import emitflow.store.sqlite.database as sqlite_database
from benchmarks import bench_emit_path
from emitflow.store.base import Store
from emitflow.store.factory import open_store

#: (start, end, operation) of every timed store call.
Call = tuple[float, float, str]
SLOWEST = 3


def _timed(store: Store, calls: list[Call]) -> Store:
    """The store with each public coroutine method noting its calls in ``calls``."""

    def wrap(name: str, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(method)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await method(*args, **kwargs)
            finally:
                calls.append((start, time.perf_counter(), name))

        return timed

    for name in dir(store):
        method = None if name.startswith("_") else getattr(store, name, None)
        if method is not None and inspect.iscoroutinefunction(method):
            setattr(store, name, wrap(name, method))
    return store


def _run_queue_wait() -> float:
    """Seconds this process's threads have waited on a run queue (schedstat's 2nd field)."""
    total = 0
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/schedstat") as handle:
                total += int(handle.read().split()[1])
        except OSError:
            continue  # the thread ended meanwhile
    return total / 1e9


async def probe(url: str, events: int) -> None:
    """One timed latency run on ``url``, printed."""
    calls: list[Call] = []
    store = _timed(open_store(url), calls)
    waited, cpu, wall = _run_queue_wait(), time.process_time(), time.perf_counter()
    latencies, pauses = await bench_emit_path.ingest_latency_on(store, events, calls.clear)
    waited, cpu = _run_queue_wait() - waited, time.process_time() - cpu
    wall = time.perf_counter() - wall
    spans = sorted(latencies, key=lambda span: span[1] - span[0])
    ms = sorted((end - start) * 1000 for start, end in spans)
    print(
        f"{len(ms):,} events: p50 {ms[len(ms) // 2]:.2f} ms, p99 {ms[int(len(ms) * 0.99)]:.2f} ms, "
        f"max {ms[-1]:.1f} ms; threads waited {waited:.2f} s on the run queue for {cpu:.2f} s "
        f"of CPU in {wall:.2f} s; GC pauses {len(pauses)}, generation 2: "
        f"{[round(s * 1000, 1) for g, s in pauses if g == 2]} ms; load {os.getloadavg()[0]:.2f}"
    )
    by_name: dict[str, list[float]] = defaultdict(list)
    for start, end, name in calls:
        by_name[name].append((end - start) * 1000)
    for name, spent in sorted(by_name.items(), key=lambda kv: -sum(kv[1])):
        spent.sort()
        print(
            f"  {name:24} {len(spent):6,} calls  p50 {spent[len(spent) // 2]:6.2f}  "
            f"p99 {spent[int(len(spent) * 0.99)]:6.2f}  max {spent[-1]:7.2f} ms"
        )
    for start, end in spans[-SLOWEST:]:
        print(f"  slow event, {(end - start) * 1000:.2f} ms:")
        for begun, ended, name in sorted(calls):
            if ended >= start and begun <= end:
                print(
                    f"    {name:24} {(begun - start) * 1000:8.2f} → {(ended - start) * 1000:8.2f}"
                )


async def _sample_waits(server: str, database: str, stop: asyncio.Event) -> Counter[str]:
    """What the database's busy backends were doing, sampled every ~2 ms until ``stop``."""
    import asyncpg

    seen: Counter[str] = Counter()
    conn = await asyncpg.connect(server)
    try:
        while not stop.is_set():
            for row in await conn.fetch(_WAITS, database):
                seen[f"{row['wait_event_type'] or 'CPU'}/{row['wait_event'] or '-'}"] += 1
            await asyncio.sleep(0.002)
    finally:
        await conn.close()
    return seen


_WAITS = (
    "SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE datname = $1"
    " AND pid <> pg_backend_pid() AND (state = 'active' OR wait_event_type IN ('IO', 'Lock',"
    " 'LWLock')) AND wait_event IS DISTINCT FROM 'ClientRead'"
)


async def _on_fresh(server: str | None, events: int) -> None:
    async with bench_emit_path.fresh_store(server) as url:
        if server is None:
            await probe(url, events)
            return
        stop = asyncio.Event()
        sampler = asyncio.create_task(_sample_waits(server, url.rsplit("/", 1)[1], stop))
        try:
            await probe(url, events)
        finally:
            stop.set()
            seen = await sampler
        total = sum(seen.values()) or 1
        print("  busy backends of the database, sampled (wait event type/name: share):")
        for what, count in seen.most_common(8):
            print(f"    {what:32} {count / total:6.1%} ({count:,} samples)")


def main(args: Sequence[str] = ()) -> None:
    """Probe the store given (SQLite by default), then SQLite without its auto-checkpoint."""
    args = list(args)
    events = bench_emit_path.LATENCY_EVENTS
    if "--events" in args:
        at = args.index("--events")
        events = int(args[at + 1])
        del args[at : at + 2]
    server = args[1] if args[:1] == ["--store"] and len(args) == 2 else None
    if server == "sqlite":
        server = None
    print(f"## emit → listener latency probe ({'sqlite' if server is None else 'postgresql'})")
    asyncio.run(_on_fresh(server, events))
    if server is not None:
        return
    if not hasattr(sqlite_database, "_WRITER_PRAGMAS"):
        print("# the SQLite store keeps its writer PRAGMAs elsewhere now: no checkpoint runs")
        return
    default = sqlite_database._WRITER_PRAGMAS
    for checkpoint in (False, True, False, True):
        label = "default auto-checkpoint" if checkpoint else "PRAGMA wal_autocheckpoint = 0"
        print(f"# sqlite, {label}")
        extra = () if checkpoint else ("PRAGMA wal_autocheckpoint = 0",)
        sqlite_database._WRITER_PRAGMAS = (*default, *extra)
        try:
            asyncio.run(_on_fresh(None, events))
        finally:
            sqlite_database._WRITER_PRAGMAS = default


if __name__ == "__main__":
    main(sys.argv[1:])
