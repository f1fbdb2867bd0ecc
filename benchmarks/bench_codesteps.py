"""Code-step figures: a warm worker against a fresh interpreter, and emitting through the pool.

- A trivial step (``return 1``) through a warm one-worker pool, p50/p99 over 1,000 runs, in
  each isolation mode that works here; baseline: spawning a fresh ``python -c pass`` (what a
  pool-less design would pay per step before running anything), and their ratio.
- One step emitting 10,000 events, end to end through the pool (best of 5), seconds.
- The same trivial step under bubblewrap with a tree of 10,000 files bound read-only below
  ``/tmp`` (as when the virtualenv or the sources live in a clone under ``/tmp``), p50/p99;
  baseline: the trivial step of the first figure.
- A workflow of 5 Python code steps through the ``Engine`` with one warm worker (bubblewrap
  when it works here), runs/s, on each store of ``BENCH_CODESTEPS_STORES`` (comma-separated
  URLs; default a temporary SQLite file and ``memory://``). Baseline in the same run: the same
  workflow with a code-step runner that answers at once (what the engine itself costs). Beside
  it the CPU time a run costs, in the engine's process and in the sandbox (bwrap, the worker,
  the steps' processes), read from ``/proc``: on a machine shared with other work the rate
  moves with the load, the CPU per run much less.

Run as ``python benchmarks/bench_codesteps.py`` or ``python -m benchmarks bench_codesteps``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from emitflow.codesteps import CodeStepPool, PoolSettings, StepRequest
from emitflow.codesteps.bridge import PoolStepRunner
from emitflow.errors import SandboxError
from emitflow.ports import CodeStep, CodeStepOutcome, CodeStepRunner
from emitflow.runtime import Engine, EngineSettings

TRIVIAL = StepRequest(step="trivial", code="def handler(pd):\n    return 1\n")
EMITTER = StepRequest(
    step="emitter",
    code="def handler(pd):\n    for i in range(10_000):\n        pd.send.emit({'i': i}, 'bench')\n",
)
#: Files in the tree bound below /tmp.
TREE_FILES = 10_000
TREE_RUNS = 50
WORKFLOW_STEPS = 5
WORKFLOW_RUNS = 200


def _quantile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(samples: list[float]) -> str:
    return (
        f"p50 {statistics.median(samples) * 1e3:.2f} ms, "
        f"p99 {_quantile(samples, 0.99) * 1e3:.2f} ms"
    )


def spawn_baseline(code: str = "pass", runs: int = 200) -> list[float]:
    """Seconds to spawn and reap ``python -c <code>``, per run."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        samples.append(time.perf_counter() - start)
    return samples


async def _started(settings: PoolSettings) -> CodeStepPool | None:
    pool = CodeStepPool(settings)
    try:
        await pool.start()
    except SandboxError as exc:
        print(f"  {settings.isolation}: not usable here ({exc})")
        return None
    return pool


async def _trivial_steps(pool: CodeStepPool, runs: int) -> list[float]:
    for _ in range(20):  # warm-up: first-touch page faults, lazy imports
        await pool.run(TRIVIAL)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await pool.run(TRIVIAL)
        samples.append(time.perf_counter() - start)
    return samples


async def pool_figures(isolation: str, runs: int = 1_000) -> tuple[list[float], float] | None:
    """Per-step seconds of the trivial step, and the best 10,000-emit step; None if unusable."""
    pool = await _started(PoolSettings(size=1, isolation=isolation))
    if pool is None:
        return None
    try:
        samples = await _trivial_steps(pool, runs)
        emits = []
        for _ in range(5):
            start = time.perf_counter()
            result = await pool.run(EMITTER)
            emits.append(time.perf_counter() - start)
            if len(result.emits) != 10_000:
                raise RuntimeError(f"expected 10,000 emits, got {len(result.emits)}")
        return samples, min(emits)
    finally:
        await pool.close()


def _tree(root: str, files: int) -> None:
    for index in range(files):
        folder = os.path.join(root, f"d{index // 100:03d}")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"f{index:05d}.py"), "w") as handle:
            handle.write("x = 1\n")


async def tree_figures(runs: int = TREE_RUNS) -> list[float] | None:
    """Per-step seconds of the trivial step with ``TREE_FILES`` files bound below /tmp."""
    home = tempfile.mkdtemp(prefix="emitflow-bench-tree-", dir="/tmp")
    try:
        tree = os.path.join(home, "clone", "src")
        _tree(tree, TREE_FILES)
        pool = await _started(PoolSettings(size=1, isolation="bwrap", extra_paths=(tree,)))
        if pool is None:
            return None
        try:
            return await _trivial_steps(pool, runs)
        finally:
            await pool.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)


def workflow(steps: int = WORKFLOW_STEPS) -> str:
    """A workflow of ``steps`` Python code steps, each returning a small object."""
    tasks = "".join(
        f"  - s{index}:\n"
        "      run:\n"
        "        script:\n"
        "          language: python\n"
        "          code: |\n"
        "            def handler(pd):\n"
        f"                return {{'step': {index}, 'seen': len(pd.steps)}}\n"
        for index in range(steps)
    )
    return (
        "document: {dsl: '1.0.3', namespace: bench, name: code-steps, version: '1.0.0'}\n"
        f"do:\n{tasks}"
    )


class _Instant:
    """A code-step runner that answers at once: the engine's own cost per step."""

    async def run(self, step: CodeStep) -> CodeStepOutcome:
        return CodeStepOutcome(output={"step": step.task, "seen": len(step.steps)})


def _descendants_cpu() -> float:
    """CPU seconds of this process's live descendants, with the children they have reaped."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(name))
        times[int(name)] = sum(int(value) for value in fields[11:15]) / tick
    total, stack = 0.0, list(children.get(os.getpid(), []))
    while stack:
        pid = stack.pop()
        total += times.get(pid, 0.0)
        stack += children.get(pid, [])
    return total


def _cpu() -> tuple[float, float]:
    """CPU seconds so far: this process (all its threads), and its descendants."""
    return time.process_time(), _descendants_cpu()


async def workflow_runs(url: str, runner: CodeStepRunner, runs: int) -> float:
    """Runs per second of the 5-step workflow through an ``Engine`` on ``url``."""
    rate, _, _ = await workflow_cost(url, runner, runs)
    return rate


async def workflow_cost(url: str, runner: CodeStepRunner, runs: int) -> tuple[float, float, float]:
    """Runs/s of the 5-step workflow through an ``Engine`` on ``url``, and the CPU seconds per
    run in this process and in its descendants (the sandbox)."""
    async with Engine.open(url, settings=EngineSettings(code_steps=runner)) as engine:
        version = await engine.deploy(workflow())
        for _ in range(10):  # warm-up: the pool starts, caches fill
            record = await engine.start(version.id)
            if record.status != "completed":
                raise RuntimeError(f"the benchmark workflow ended {record.status}: {record}")
        engine_cpu, sandbox_cpu = _cpu()
        start = time.perf_counter()
        for _ in range(runs):
            await engine.start(version.id)
        elapsed = time.perf_counter() - start
        engine_end, sandbox_end = _cpu()
        return runs / elapsed, (engine_end - engine_cpu) / runs, (sandbox_end - sandbox_cpu) / runs


def _stores(folder: str) -> list[str]:
    given = os.environ.get("BENCH_CODESTEPS_STORES", "")
    urls = [url.strip() for url in given.split(",") if url.strip()]
    return urls or [f"sqlite:///{folder}/codesteps.db", "memory://"]


async def workflow_figures(isolation: str) -> None:
    """Print the 5-step workflow's runs/s on each store, beside the engine's own cost."""
    with tempfile.TemporaryDirectory(prefix="emitflow-bench-") as folder:
        for url in _stores(folder):
            bare = await workflow_runs(url.replace(".db", "-bare.db"), _Instant(), WORKFLOW_RUNS)
            steps = PoolStepRunner(PoolSettings(size=1, isolation=isolation))
            async with steps:
                rate, engine_cpu, sandbox_cpu = await workflow_cost(url, steps, WORKFLOW_RUNS)
            print(
                f"{WORKFLOW_STEPS} code steps per run through the Engine [{url.split(':')[0]}, "
                f"{isolation}, 1 warm worker]: {rate:.1f} runs/s "
                f"({1e3 / rate / WORKFLOW_STEPS:.2f} ms per step; {WORKFLOW_RUNS} runs); "
                f"CPU per run {(engine_cpu + sandbox_cpu) * 1e3:.1f} ms (engine process "
                f"{engine_cpu * 1e3:.1f}, sandbox {sandbox_cpu * 1e3:.1f}); "
                f"the engine alone (steps answered at once): {bare:.0f} runs/s"
            )


def main() -> None:
    """Print the figures with their baseline and ratio."""
    spawn = spawn_baseline()
    spawn_p50 = statistics.median(spawn)
    print(f"fresh `python -c pass`: {_ms(spawn)} (200 runs)")
    # What a pool-less design would really pay: an interpreter that also loads the step runtime.
    loaded = statistics.median(spawn_baseline("import emitflow.codesteps.worker", 50))
    print(f"fresh interpreter importing the step runtime: p50 {loaded * 1e3:.1f} ms (50 runs)")
    usable = []
    for isolation in ("bwrap", "rlimits"):
        figures = asyncio.run(pool_figures(isolation))
        if figures is None:
            continue
        usable.append(isolation)
        samples, emit_s = figures
        print(
            f"warm worker, trivial step [{isolation}]: {_ms(samples)} (1,000 runs; "
            f"{spawn_p50 / statistics.median(samples):.1f}x faster than a fresh interpreter)"
        )
        print(f"one step emitting 10,000 events [{isolation}]: {emit_s:.3f} s end to end")
    if "bwrap" in usable:
        tree = asyncio.run(tree_figures())
        if tree is not None:
            print(
                f"trivial step [bwrap] with {TREE_FILES:,} files bound below /tmp: "
                f"{_ms(tree)} ({TREE_RUNS} runs)"
            )
    if usable:
        asyncio.run(workflow_figures(usable[0]))


if __name__ == "__main__":
    main()
