"""CPU per emitted event outside the store (issue 15, target 6).

``python -m benchmarks bench_emit_cpu`` (``python -m benchmarks.bench_emit_cpu [--rounds N]``)
runs ``bench_events``' emitter (a ``for`` loop of ``emit`` tasks, 5,000 events, no listener)
two ways, and prints the CPU time per emitted event (``time.process_time``, steadier than a rate
on a shared machine) and the garbage collector's share of it (``gc.callbacks``):

- in the runner: the run as the engine runs it (a durable ``RunJournal``, the loop guard's
  extensions stamped), but the journal's store commits nothing: what building, checking,
  recording and handing over each event costs, without the store's encoding and SQL;
- through the ``Engine`` on a SQLite file: the whole process (the event loop, the store's writer
  thread and its encoding threads, the dispatcher moving the events to the log), and the event
  loop's thread alone (``time.thread_time``), with events/s until the run ended.

Each figure is the median (and minimum) of the rounds, several runs in one process after a
warm-up run. To compare with another tree, run this file with that tree's sources first on the
path (``PYTHONPATH=<tree>/src:.``), alternately.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from benchmarks.bench_events import EMITTER
from emitflow.clock import SystemClock
from emitflow.dsl import parse_workflow
from emitflow.dsl.model import Workflow
from emitflow.ports import RunOptions
from emitflow.runner import execute
from emitflow.runtime import Engine, EngineSettings
from emitflow.runtime.journal import RunJournal
from emitflow.runtime.reports import CHAIN_EXTENSION, HOPS_EXTENSION
from emitflow.store.base import RunStore
from emitflow.store.records import RunRecord

EVENTS = 5_000
RUNS = 5
ROUNDS = 3


class _NoStore:
    """A run store that commits nothing (what the journal calls of it)."""

    async def commit_transitions(self, steps: Sequence[Any]) -> None:
        """Take the batch; keep nothing."""

    async def commit_transition(self, transition: Any, events: Sequence[Any]) -> None:
        """Take the transition; keep nothing."""


@contextmanager
def _gc_time(into: list[float]) -> Iterator[None]:
    """Add the garbage collector's pauses meanwhile to ``into[0]`` (seconds)."""
    started = [0.0]

    def note(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            into[0] += time.perf_counter() - started[0]

    gc.callbacks.append(note)
    try:
        yield
    finally:
        gc.callbacks.remove(note)


async def _run_in_runner(workflow: Workflow, n: int) -> None:
    clock = SystemClock()
    run = RunRecord(
        id="r_bench",
        workflow_id="p_bench",
        workflow_revision=1,
        status="running",
        input={"count": n},
        created_at=datetime.now(UTC),
    )
    journal = RunJournal(cast(RunStore, _NoStore()), run, clock=clock, committed=lambda: None)
    journal.durable = True
    options = RunOptions(
        clock=clock,
        events=journal,
        journal=journal,
        run_id=run.id,
        event_extensions={HOPS_EXTENSION: 0, CHAIN_EXTENSION: run.id},
    )
    result = await execute(workflow, input={"count": n}, options=options)
    await journal.finish(result)
    if len(result.emitted) != n:
        raise RuntimeError("the emitter did not emit every event")


async def in_runner(n: int, runs: int) -> list[tuple[float, float]]:
    """(CPU µs per emit, GC µs per emit) of each run, the store committing nothing."""
    workflow = parse_workflow(EMITTER)
    await _run_in_runner(workflow, 500)
    figures = []
    for _ in range(runs):
        paused = [0.0]
        with _gc_time(paused):
            cpu = time.process_time()
            await _run_in_runner(workflow, n)
            cpu = time.process_time() - cpu
        figures.append((cpu / n * 1e6, paused[0] / n * 1e6))
    return figures


async def through_engine(n: int, runs: int) -> list[tuple[float, float, float, float]]:
    """(events/s, process CPU µs per emit, event loop CPU µs per emit, GC µs per emit) of each
    run through an ``Engine`` on a SQLite file, no listener."""
    figures = []
    with tempfile.TemporaryDirectory(prefix="emitflow-bench-") as folder:
        settings = EngineSettings(max_chain_runs=10**9)
        async with Engine.open(f"sqlite:///{folder}/cpu.db", settings=settings) as engine:
            emitter = await engine.deploy(EMITTER)
            await engine.start(emitter.id, input={"count": 500})
            for _ in range(runs):
                await engine.drain(within=120)
                paused = [0.0]
                with _gc_time(paused):
                    cpu, loop, wall = time.process_time(), time.thread_time(), time.perf_counter()
                    await engine.start(emitter.id, input={"count": n})
                    wall = time.perf_counter() - wall
                    loop = time.thread_time() - loop
                    cpu = time.process_time() - cpu
                figures.append((n / wall, cpu / n * 1e6, loop / n * 1e6, paused[0] / n * 1e6))
    return figures


def _spread(
    values: Sequence[float], pick: Callable[[Sequence[float]], float], digits: int = 1
) -> str:
    return f"{statistics.median(values):,.{digits}f} (best {pick(values):,.{digits}f})"


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) {five:.2f} (5 min)"


def run(rounds: int) -> None:
    """Both measurements, ``rounds`` times."""
    for number in range(1, rounds + 1):
        runner = asyncio.run(in_runner(EVENTS, RUNS))
        print(
            f"[round {number}] in the runner, the store committing nothing: CPU per emit "
            f"{_spread([cpu for cpu, _ in runner], min)} µs, of it GC "
            f"{statistics.median(gc_ for _, gc_ in runner):.1f} µs ({_load()})"
        )
        engine = asyncio.run(through_engine(EVENTS, RUNS))
        print(
            f"[round {number}] through the Engine on SQLite, no listener: "
            f"{_spread([rate for rate, *_ in engine], max, 0)} events/s; CPU per emit: process "
            f"{_spread([cpu for _, cpu, _, _ in engine], min)} µs, event loop thread "
            f"{_spread([loop for _, _, loop, _ in engine], min)} µs, GC "
            f"{statistics.median(gc_ for *_, gc_ in engine):.1f} µs ({_load()})"
        )


def main(args: Sequence[str] = ()) -> None:
    """Print the figures (``--rounds N``)."""
    args = list(args)
    rounds = ROUNDS
    if args[:1] == ["--rounds"] and len(args) == 2:
        rounds = int(args[1])
    elif args:
        raise SystemExit("usage: python -m benchmarks.bench_emit_cpu [--rounds N]")
    print(f"## CPU per emitted event, {EVENTS:,} events a run, {RUNS} runs a round; {_load()}")
    run(rounds)


if __name__ == "__main__":
    main(sys.argv[1:])
