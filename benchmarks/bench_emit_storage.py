"""How long storing a code step's 10,000 emits holds the event loop (issue 10, item 7).

An engine on a temporary SQLite file runs a step that emits 10,000 events (100-byte pad) while
a probe task measures the loop thread's CPU time between two of its turns; the figure is the
largest such gap, and the number above 50 ms, over 3 runs. Thread CPU time, not wall time: a
loaded machine adds the time the process was not scheduled, which is not the engine's doing.
Baseline: the same 10,000 emits turned into CloudEvents in one go (what the engine did before
it worked in batches), measured the same way.

Run as ``python -m benchmarks bench_emit_storage``.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from emitflow.events.cloudevent import CloudEvent
from emitflow.runtime import Engine, EngineSettings

EMITTER = """
def handler(pd):
    for i in range(pd.steps["trigger"]["event"]["count"]):
        pd.send.emit({"i": i, "pad": "x" * 100})
"""


async def _probe(gaps: list[float], stop: asyncio.Event) -> None:
    last = time.thread_time()
    while not stop.is_set():
        await asyncio.sleep(0.001)
        now = time.thread_time()
        gaps.append(now - last)
        last = now


async def _measure(runs: int = 3) -> list[float]:
    gaps: list[float] = []
    with tempfile.TemporaryDirectory() as home:
        (Path(home) / "emitter.py").write_text(EMITTER)
        async with Engine.open(f"sqlite:///{home}/b.db", settings=EngineSettings()) as engine:
            emitter = await engine.deploy(Path(home) / "emitter.py")
            await engine.start(emitter.id, input={"count": 1})
            for _ in range(runs):
                stop = asyncio.Event()
                probe = asyncio.create_task(_probe(gaps, stop))
                await engine.start(emitter.id, input={"count": 10_000})
                await engine.drain()
                stop.set()
                await probe
    return gaps


def _baseline() -> float:
    start = time.thread_time()
    for i in range(10_000):
        CloudEvent.create(type="t", source="/s", data={"i": i, "pad": "x" * 100})
    return time.thread_time() - start


def main() -> None:
    """Print the figure and its baseline."""
    gaps = asyncio.run(_measure())
    print("## storing a step's 10,000 emits")
    print(f"largest loop-thread CPU gap: {max(gaps) * 1000:.1f} ms over {len(gaps)} turns")
    print(f"gaps over 50 ms: {sum(gap > 0.05 for gap in gaps)}")
    print(f"baseline, 10,000 CloudEvents in one go: {_baseline() * 1000:.1f} ms")


if __name__ == "__main__":
    main()
