"""Loading hostile YAML: how long and how much memory refusing it takes.

- a 10 KB alias bomb (30 levels of 10 aliases: 10**30 values once expanded), refused from the
  composed node graph; baseline: loading the order example (a real 2 KB workflow) in the same
  process;
- nesting 10,000 levels deep, refused at 64 levels.
Each is the best of 5 runs; peak memory comes from ``tracemalloc``.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from emitflow.dsl import parse_workflow
from emitflow.errors import DocumentError

HEAD = "document: {dsl: '1.0.3', namespace: bench, name: bomb, version: '1.0.0'}\ndo: []\n"
ORDER = Path(__file__).resolve().parents[1] / "examples" / "order.yaml"


def _bomb() -> str:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * 10) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 30)]
    return HEAD + "\n".join(lines) + "\n" + "# pad\n" * 1200


def _refused(text: str) -> Callable[[], None]:
    def load() -> None:
        try:
            parse_workflow(text)
        except DocumentError:
            return
        raise AssertionError("the document was accepted")

    return load


def _measure(work: Callable[[], None]) -> tuple[float, float]:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak / 1024 / 1024


def main() -> None:
    """Print the figures."""
    order = ORDER.read_text(encoding="utf-8")

    def load_order() -> None:
        parse_workflow(order)

    base, base_peak = _measure(load_order)
    bomb = _bomb()
    seconds, peak = _measure(_refused(bomb))
    print(
        f"alias bomb ({len(bomb):,} bytes): refused in {seconds * 1000:.2f} ms, peak "
        f"{peak:.1f} MiB; baseline: loading {ORDER.name} ({len(order):,} bytes) "
        f"{base * 1000:.2f} ms, peak {base_peak:.1f} MiB"
    )
    deep = HEAD + "x: " + "[" * 10_000 + "]" * 10_000 + "\n"
    seconds, peak = _measure(_refused(deep))
    print(f"10,000 levels deep: refused in {seconds * 1000:.2f} ms, peak {peak:.1f} MiB")
