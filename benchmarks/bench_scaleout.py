"""Several ``emitflow worker`` processes over one PostgreSQL: how the runs/s grow with workers.

A private PostgreSQL server is started for the run (``initdb`` + ``pg_ctl`` as the ``postgres``
user, default durability settings, ``pg_stat_statements`` loaded), so that nothing else on the
machine writes to it. For 1, 2 and 4 worker processes (each a fresh database):

- Saturated: ``CHAINS`` emitting chains (an emitter run that emits one event, the log entry,
  and a subscribed listener run) are created at once; runs/s (emitter + listener runs) from
  their creation until every run ended and the outbox is empty (the database read every
  50 ms); the CPU the workers and PostgreSQL used meanwhile (from ``/proc``), in cores, and
  the whole machine's (other users' included: the machine is shared).
- Emit → listener latency: from the event's ``time`` (set when emitted) to the listener run's
  start, p50/p99; at a paced load (``PACED_RATE`` chains/s for ``PACED`` chains, well under
  the capacity) and, for the record, in the saturated phase (where it is queueing).
- Per chain, over the saturated phase: statements the processes sent
  (``pg_stat_statements``, BEGIN/COMMIT included; the benchmark's own reads left out),
  transactions committed and rows written (``pg_stat_database`` deltas).

Then one process on each store, in-process (``Engine`` on SQLite in a temporary file, and on
PostgreSQL): the same chains started through ``Engine.start``, runs/s until ``drain``; the
ratio PostgreSQL / SQLite.

``python -m benchmarks bench_scaleout``; ``EMITFLOW_BENCH_SCALEOUT_CHAINS`` (default 2,000) and
``EMITFLOW_BENCH_SCALEOUT_WORKERS`` (default ``1,2,4``) change the sizes. The cluster helpers
are the fault tests' own (``tests/scaleout``): the benchmark measures what they test.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.scaleout.cluster import Cluster
from tests.scaleout.postgres import PrivatePostgres, postgres_binaries
from tests.scaleout.workload import EMITTER, LISTENER, Chain, create_runs, deploy_chain, tally

from emitflow.runtime import Engine
from emitflow.runtime.settings import EngineSettings

CHAINS = int(os.environ.get("EMITFLOW_BENCH_SCALEOUT_CHAINS", "2000"))
WORKERS = tuple(
    int(n) for n in os.environ.get("EMITFLOW_BENCH_SCALEOUT_WORKERS", "1,2,4").split(",")
)
PACED = 200
PACED_RATE = 40.0
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True, kw_only=True)
class Figures:
    """One cluster size's figures."""

    workers: int
    runs_per_s: float
    paced_ms: tuple[float, float]
    saturated_ms: tuple[float, float]
    statements: float
    commits: float
    rows: float
    worker_cores: float
    postgres_cores: float
    #: Every process of the machine (others' included), from ``/proc/stat``.
    machine_cores: float


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS


def _machine_busy() -> float:
    """CPU seconds the whole machine spent busy (not idle, not waiting on I/O)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / _TICKS


def _postgres_pids(server: PrivatePostgres) -> list[int]:
    """The postmaster and every process it started (backends, writer, WAL)."""
    postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
    pids = [postmaster]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:
            pids.append(int(stat.parent.name))
    return pids


_LATENCY = """
SELECT l.started_at - (extract(epoch FROM (e.event::json ->> 'time')::timestamptz) * 1e6)
FROM runs l JOIN events e ON (l.input::json -> 0 ->> 'id') = e.event_id
WHERE l.workflow_id = $1 AND e.emitter_id = $2
  AND (l.input::json -> 0 -> 'data' ->> 'n')::int BETWEEN $3 AND $4
"""
_COUNTERS = """
SELECT xact_commit, tup_inserted + tup_updated + tup_deleted FROM pg_stat_database
WHERE datname = current_database()
"""
_STATEMENTS = """
SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND query NOT LIKE '%json_object_agg%' AND query NOT LIKE '%pg_stat%'
  AND query NOT LIKE '%INSERT INTO runs (id, workflow_id, workflow_revision, status, input, hops%'
"""


async def _fetch(url: str, sql: str, *args: object) -> list[tuple[object, ...]]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


async def _latency(url: str, chain: Chain, first: int, last: int) -> tuple[float, float]:
    found = await _fetch(url, _LATENCY, chain.listener, chain.emitter, first, last)
    values = sorted(float(row[0]) / 1000 for row in found)  # type: ignore[arg-type]
    if len(values) < 2:
        return (float("nan"), float("nan"))
    cuts = statistics.quantiles(values, n=100)
    return (statistics.median(values), cuts[98])


async def _until_done(url: str, chain: Chain, total: int, *, within: float = 600) -> None:
    deadline = time.monotonic() + within
    while not (await tally(url, chain)).done(total):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the chains did not end within {within} s")
        await asyncio.sleep(0.05)


async def _paced(url: str, chain: Chain, first: int, count: int) -> None:
    batch = 4
    interval = batch / PACED_RATE
    start = time.monotonic()
    for offset in range(0, count, batch):
        await create_runs(url, chain, range(first + offset, first + min(offset + batch, count)))
        delay = start + (offset // batch + 1) * interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)  # the pace of the offered load, not a wait for work


def cluster_figures(server: PrivatePostgres, workers: int, root: Path) -> Figures:
    """Run the chains on ``workers`` worker processes; their figures."""
    url = server.create_database(f"bench_w{workers}")
    server.execute("CREATE EXTENSION pg_stat_statements", f"bench_w{workers}")
    cluster = Cluster(root / f"w{workers}", url, lease_seconds=10.0, rescan_seconds=1.0)
    try:
        cluster.migrate()
        chain = asyncio.run(deploy_chain(url))
        processes = cluster.workers([f"w{i}" for i in range(workers)])
        worker_pids = [process.popen.pid for process in processes]
        warm = 100
        asyncio.run(create_runs(url, chain, range(1, warm + 1)))
        asyncio.run(_until_done(url, chain, warm))

        first, last = warm + 1, warm + CHAINS
        asyncio.run(_fetch(url, "SELECT pg_stat_statements_reset()"))
        ((commits0, rows0),) = asyncio.run(_fetch(url, _COUNTERS))
        pg_pids = _postgres_pids(server)
        cpu0 = (_cpu_seconds(worker_pids), _cpu_seconds(pg_pids), _machine_busy())
        began = time.monotonic()
        asyncio.run(create_runs(url, chain, range(first, last + 1)))
        asyncio.run(_until_done(url, chain, warm + CHAINS))
        elapsed = time.monotonic() - began
        cpu1 = (
            _cpu_seconds(worker_pids),
            _cpu_seconds(_postgres_pids(server)),
            _machine_busy(),
        )
        ((commits1, rows1),) = asyncio.run(_fetch(url, _COUNTERS))
        ((statements,),) = asyncio.run(_fetch(url, _STATEMENTS))
        saturated = asyncio.run(_latency(url, chain, first, last))

        paced_first = last + 1
        asyncio.run(_paced(url, chain, paced_first, PACED))
        asyncio.run(_until_done(url, chain, warm + CHAINS + PACED))
        paced = asyncio.run(_latency(url, chain, paced_first, paced_first + PACED - 1))
    finally:
        cluster.close()
    return Figures(
        workers=workers,
        runs_per_s=2 * CHAINS / elapsed,
        paced_ms=paced,
        saturated_ms=saturated,
        statements=float(statements) / CHAINS,  # type: ignore[arg-type]
        commits=(int(commits1) - int(commits0)) / CHAINS,  # type: ignore[call-overload]
        rows=(int(rows1) - int(rows0)) / CHAINS,  # type: ignore[call-overload]
        # Postgres processes started meanwhile (backends) count from 0: a lower bound.
        worker_cores=(cpu1[0] - cpu0[0]) / elapsed,
        postgres_cores=(cpu1[1] - cpu0[1]) / elapsed,
        machine_cores=(cpu1[2] - cpu0[2]) / elapsed,
    )


async def one_process(store: str, chains: int) -> float:
    """Runs/s of the chains in one in-process engine on ``store``."""
    async with Engine.open(store, settings=EngineSettings()) as engine:
        emitter = await engine.deploy(EMITTER)
        listener = await engine.deploy(LISTENER)
        await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
        began = time.perf_counter()
        for start in range(0, chains, 100):
            await asyncio.gather(
                *(
                    engine.start(emitter.id, input={"n": n}, wait=False)
                    for n in range(start, min(start + 100, chains))
                )
            )
        await engine.drain(within=600)
        return 2 * chains / (time.perf_counter() - began)


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    """Print the figures."""
    binaries = postgres_binaries()
    if binaries is None:
        print("bench_scaleout: skipped (no initdb/pg_ctl under /usr/lib/postgresql/*/bin)")
        return
    server = PrivatePostgres(
        binaries, {"shared_preload_libraries": "pg_stat_statements", "max_connections": "200"}
    )
    print(
        f"scale-out on one PostgreSQL {binaries.parent.name} (private, default durability), "
        f"{os.cpu_count()} CPUs, {CHAINS} chains (2 runs each) per size; load {_load()}"
    )
    try:
        server.start()
        with tempfile.TemporaryDirectory(prefix="emitflow-bench-") as name:
            root = Path(name)
            for workers in WORKERS:
                figures = cluster_figures(server, workers, root)
                print(
                    f"  {workers} worker(s): {figures.runs_per_s:6.0f} runs/s · emit→listener "
                    f"paced p50 {figures.paced_ms[0]:.1f} ms p99 {figures.paced_ms[1]:.1f} ms "
                    f"(saturated p50 {figures.saturated_ms[0]:.0f} ms p99 "
                    f"{figures.saturated_ms[1]:.0f} ms) · CPU workers "
                    f"{figures.worker_cores:.2f} + PostgreSQL {figures.postgres_cores:.2f} cores "
                    f"(machine busy {figures.machine_cores:.2f} of {os.cpu_count()})"
                    f" · per chain {figures.statements:.1f} statements, "
                    f"{figures.commits:.1f} commits, {figures.rows:.1f} rows written"
                    f" · load {_load()}"
                )
            one_chains = min(CHAINS, 2000)
            sqlite = asyncio.run(one_process(f"sqlite:///{root / 'one.db'}", one_chains))
            postgres = asyncio.run(one_process(server.create_database("bench_one"), one_chains))
            print(
                f"  one process, in-process engine: SQLite {sqlite:.0f} runs/s, PostgreSQL "
                f"{postgres:.0f} runs/s: ratio PostgreSQL/SQLite {postgres / sqlite:.2f}"
            )
    finally:
        server.remove()


if __name__ == "__main__":
    main()
