"""The API's strict JSON reader (``emitflow.api.bodies.parse_json``) beside ``json.loads``.

Bodies: one small structured event; a batch of 1,000 events (~140 KB, more brackets than the
nesting bound, so the nesting scan runs); a 500 KB array of 50,000 small objects. Each is read
many times by both, in the same run; the figure is the time per body and the ratio.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from emitflow.api.bodies import parse_json


def _event(n: int) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(n),
        "source": "/bench",
        "type": "com.example.tick",
        "data": {"n": n, "x": [1, 2, 3, 4.5, 6.25], "name": "abc" * 5},
    }


def _per_call(read: Callable[[bytes], Any], body: bytes, seconds: float = 1.0) -> float:
    calls, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        read(body)
        calls += 1
    return elapsed / calls


def main() -> None:
    """Print the figures."""
    bodies = {
        "one event": json.dumps(_event(1)).encode(),
        "batch of 1,000 events": json.dumps([_event(n) for n in range(1_000)]).encode(),
        "50,000 small objects": json.dumps([{"n": n} for n in range(50_000)]).encode(),
    }
    print("\n## parse_json beside json.loads (python -m benchmarks bench_json_body)")
    for name, body in bodies.items():
        bare = _per_call(json.loads, body)
        strict = _per_call(parse_json, body)
        print(
            f"{name} ({len(body):,} bytes): parse_json {strict * 1e6:,.1f} µs, "
            f"json.loads {bare * 1e6:,.1f} µs, ratio {strict / bare:.2f}"
        )


if __name__ == "__main__":
    main()
