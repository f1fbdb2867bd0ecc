"""Durable runs of the 5-task workflow on each store, beside the in-memory store (issue 15).

``bench_engine``'s 5-task ``set``/``switch`` workflow started through an ``Engine`` and awaited
one run at a time (each run stored: created, ended), runs/s, on ``memory://`` (the baseline), a
temporary SQLite file, and PostgreSQL when ``EMITFLOW_BENCH_POSTGRES`` holds a server URL (a
database of its own per measurement, dropped after). Three rounds, the stores alternated.

Run as ``python -m benchmarks bench_store_runs``.
"""

from __future__ import annotations

import asyncio
import os
import time

from benchmarks.bench_emit_path import fresh_store
from benchmarks.bench_engine import FIVE_DOC
from emitflow.runtime import Engine

RUNS = 500
WARM = 20
ROUNDS = 3


async def durable_runs(url: str, runs: int) -> float:
    """Runs/s of the 5-task workflow, one run awaited at a time."""
    async with Engine.open(url) as engine:
        version = await engine.deploy(FIVE_DOC)
        for _ in range(WARM):
            await engine.start(version.id, input={"n": 1})
        start = time.perf_counter()
        for _ in range(runs):
            run = await engine.start(version.id, input={"n": 1})
            if run.status != "completed":
                raise RuntimeError(f"the benchmark workflow ended {run.status}: {run.error}")
        return runs / (time.perf_counter() - start)


async def _on(server: str | None, memory: bool) -> float:
    if memory:
        return await durable_runs("memory://", RUNS)
    async with fresh_store(server) as url:
        return await durable_runs(url, RUNS)


def main() -> None:
    """Print runs/s per store and the ratio to the in-memory store of the same round."""
    servers: list[str | None] = [None]
    if os.environ.get("EMITFLOW_BENCH_POSTGRES"):
        servers.append(os.environ["EMITFLOW_BENCH_POSTGRES"])
    print("## durable 5-task runs per store")
    for number in range(1, ROUNDS + 1):
        one, five, _ = os.getloadavg()
        memory = asyncio.run(_on(None, memory=True))
        line = [f"round {number} (load average {one:.2f}, {five:.2f}): memory {memory:,.0f} runs/s"]
        for server in servers:
            rate = asyncio.run(_on(server, memory=False))
            kind = "sqlite" if server is None else "postgresql"
            line.append(f"{kind} {rate:,.0f} runs/s ({rate / memory:.2f} of memory)")
        print("; ".join(line))


if __name__ == "__main__":
    main()
