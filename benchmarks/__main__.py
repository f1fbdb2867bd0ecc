"""``python -m benchmarks [name …]``: run the benchmark scripts and print their figures."""

from __future__ import annotations

import importlib
import platform
import sys
from datetime import UTC, datetime

SUITES = (
    "bench_engine",
    "bench_codesteps",
    "bench_events",
    "bench_fanout",
    "bench_store",
    "bench_api",
    "bench_ui",
    "bench_dsl",
    "bench_emit_storage",
    "bench_emit_path",
    "bench_emit_cpu",
    "bench_store_runs",
    "bench_cli",
    "bench_brokers",
    "bench_scaleout",
)


def main(argv: list[str]) -> None:
    """Run the named suites (all by default)."""
    names = argv or list(SUITES)
    machine = f"{platform.machine()} · Python {platform.python_version()}"
    print(f"# {datetime.now(UTC):%Y-%m-%d} · {machine}")
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        module.main()


if __name__ == "__main__":
    main(sys.argv[1:])
