"""Code-step figures: a warm worker against a fresh interpreter, and emitting through the pool.

- A trivial step (``return 1``) through a warm one-worker pool, p50/p99 over 1,000 runs, in
  each isolation mode that works here; baseline: spawning a fresh ``python -c pass`` (what a
  pool-less design would pay per step before running anything), and their ratio.
- One step emitting 10,000 events, end to end through the pool (best of 5), seconds.

Run as ``python benchmarks/bench_codesteps.py`` or ``python -m benchmarks bench_codesteps``.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time

from emitflow.codesteps import CodeStepPool, PoolSettings, StepRequest
from emitflow.errors import SandboxError

TRIVIAL = StepRequest(step="trivial", code="def handler(pd):\n    return 1\n")
EMITTER = StepRequest(
    step="emitter",
    code="def handler(pd):\n    for i in range(10_000):\n        pd.send.emit({'i': i}, 'bench')\n",
)


def _quantile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def spawn_baseline(code: str = "pass", runs: int = 200) -> list[float]:
    """Seconds to spawn and reap ``python -c <code>``, per run."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        samples.append(time.perf_counter() - start)
    return samples


async def pool_figures(isolation: str, runs: int = 1_000) -> tuple[list[float], float] | None:
    """Per-step seconds of the trivial step, and the best 10,000-emit step; None if unusable."""
    pool = CodeStepPool(PoolSettings(size=1, isolation=isolation))
    try:
        await pool.start()
    except SandboxError as exc:
        print(f"  {isolation}: not usable here ({exc})")
        return None
    try:
        for _ in range(20):  # warm-up: first-touch page faults, lazy imports
            await pool.run(TRIVIAL)
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            await pool.run(TRIVIAL)
            samples.append(time.perf_counter() - start)
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


def main() -> None:
    """Print the figures with their baseline and ratio."""
    spawn = spawn_baseline()
    spawn_p50 = statistics.median(spawn)
    print(
        f"fresh `python -c pass`: p50 {spawn_p50 * 1e3:.1f} ms, "
        f"p99 {_quantile(spawn, 0.99) * 1e3:.1f} ms (200 runs)"
    )
    # What a pool-less design would really pay: an interpreter that also loads the step runtime.
    loaded = statistics.median(spawn_baseline("import emitflow.codesteps.worker", 50))
    print(f"fresh interpreter importing the step runtime: p50 {loaded * 1e3:.1f} ms (50 runs)")
    for isolation in ("bwrap", "rlimits"):
        figures = asyncio.run(pool_figures(isolation))
        if figures is None:
            continue
        samples, emit_s = figures
        p50 = statistics.median(samples)
        print(
            f"warm worker, trivial step [{isolation}]: p50 {p50 * 1e3:.2f} ms, "
            f"p99 {_quantile(samples, 0.99) * 1e3:.2f} ms (1,000 runs; "
            f"{spawn_p50 / p50:.1f}x faster than a fresh interpreter)"
        )
        print(f"one step emitting 10,000 events [{isolation}]: {emit_s:.3f} s end to end")


if __name__ == "__main__":
    main()
