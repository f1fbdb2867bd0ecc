"""Start-up of the ``emitflow`` command, as ratios to ``python -c pass`` measured in the same run.

- ``emitflow --help``;
- ``emitflow validate examples/order.yaml``;
- ``emitflow run`` of a one-``set`` workflow.

Each is the median of ``ROUNDS`` fresh processes, alternated with the baseline so that load on
the machine falls on both alike. Bytecode is cached (in a temporary ``PYTHONPYCACHEPREFIX``,
warmed by one untimed round) as it is in an installed package; ``PYTHONDONTWRITEBYTECODE`` is
cleared for the children.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 15
ONE_SET = """\
document: {dsl: '1.0.0', namespace: bench, name: one-set, version: '1.0.0'}
do:
  - only:
      set: {done: true}
"""
TARGETS = {"--help": 8.0, "validate": 12.0, "run": 15.0}


def _time(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, check=True)
    return time.perf_counter() - started


def measure(rounds: int = ROUNDS) -> dict[str, tuple[float, float]]:
    """Median seconds of each command and of the baseline: name → (command, baseline)."""
    with tempfile.TemporaryDirectory() as folder:
        workflow = Path(folder) / "one-set.yaml"
        workflow.write_text(ONE_SET, encoding="utf-8")
        env = {**os.environ, "PYTHONPYCACHEPREFIX": str(Path(folder) / "pycache")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        script = Path(sys.executable).parent / "emitflow"  # the console script, as users run it
        cli = [str(script)] if script.exists() else [sys.executable, "-m", "emitflow"]
        commands = {
            "--help": [*cli, "--help"],
            "validate": [*cli, "validate", "examples/order.yaml"],
            "run": [*cli, "run", str(workflow)],
        }
        baseline_argv = [sys.executable, "-c", "pass"]
        for argv in commands.values():  # warm the bytecode cache
            _time(argv, env)
        figures: dict[str, tuple[float, float]] = {}
        for name, argv in commands.items():
            own: list[float] = []
            base: list[float] = []
            for _ in range(rounds):
                base.append(_time(baseline_argv, env))
                own.append(_time(argv, env))
            figures[name] = (statistics.median(own), statistics.median(base))
    return figures


def main() -> None:
    """Print the three figures with their ratios and targets."""
    print("\n## emitflow command start-up (median of fresh processes)")
    print("| command | measured | python -c pass (same run) | ratio | target |")
    print("|---|---|---|---|---|")
    for name, (own, base) in measure().items():
        ratio = own / base
        verdict = "met" if ratio <= TARGETS[name] else "MISSED"
        print(
            f"| emitflow {name} | {own * 1000:.0f} ms | {base * 1000:.1f} ms | {ratio:.1f}× "
            f"| ≤ {TARGETS[name]:.0f}× {verdict} |"
        )


if __name__ == "__main__":
    main()
