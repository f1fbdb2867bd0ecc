"""Start-up of the ``emitflow`` command, as ratios to ``python -c pass`` measured in the same run.

- ``emitflow --help``;
- ``emitflow validate examples/order.yaml``;
- ``emitflow run`` of a one-``set`` workflow.

Each is the median of ``ROUNDS`` fresh processes of the console script, alternated with the
baseline so that load on the machine falls on both alike. Wall time is the figure of the
targets; CPU time (user + system, from ``getrusage``) is printed beside it because it moves
less with the load. Bytecode is cached (in a temporary ``PYTHONPYCACHEPREFIX``, warmed by one
untimed round) as it is in an installed package; ``PYTHONDONTWRITEBYTECODE`` is cleared for the
children.
"""

from __future__ import annotations

import os
import resource
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


def _time(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


Figures = dict[str, tuple[tuple[float, float], tuple[float, float]]]


def measure(rounds: int = ROUNDS) -> Figures:
    """Median (wall, CPU) seconds of each command and of the baseline:
    name → ((command wall, command CPU), (baseline wall, baseline CPU))."""
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
        figures: Figures = {}
        for name, argv in commands.items():
            own = [[], []]  # type: list[list[float]]
            base = [[], []]  # type: list[list[float]]
            for _ in range(rounds):
                for into, argv_ in ((base, baseline_argv), (own, argv)):
                    wall, cpu = _time(argv_, env)
                    into[0].append(wall)
                    into[1].append(cpu)
            figures[name] = (
                (statistics.median(own[0]), statistics.median(own[1])),
                (statistics.median(base[0]), statistics.median(base[1])),
            )
    return figures


def main() -> None:
    """Print the three figures with their ratios and targets (wall and CPU time)."""
    print("\n## emitflow command start-up (median of fresh processes; wall / CPU)")
    print("| command | measured | python -c pass (same run) | ratio | target |")
    print("|---|---|---|---|---|")
    for name, ((wall, cpu), (base_wall, base_cpu)) in measure().items():
        ratio, cpu_ratio = wall / base_wall, cpu / base_cpu
        verdict = "met" if ratio <= TARGETS[name] else "MISSED"
        print(
            f"| emitflow {name} | {wall * 1000:.0f} / {cpu * 1000:.0f} ms "
            f"| {base_wall * 1000:.1f} / {base_cpu * 1000:.1f} ms "
            f"| {ratio:.1f}× / {cpu_ratio:.1f}× | ≤ {TARGETS[name]:.0f}× {verdict} (wall) |"
        )


if __name__ == "__main__":
    main()
