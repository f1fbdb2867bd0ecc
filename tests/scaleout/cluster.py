"""``Cluster``: emitflow processes over one PostgreSQL database, as a user runs them.

Each process is ``python -m emitflow worker|serve --store URL`` with its output in a log file
of its own (``Cluster.logs`` shows the ends of them in a failure message). Every process gets
the same ``EMITFLOW_KEY_FILE`` (sealed secrets read the same everywhere) and a short
``--lease-seconds``, so that the runs of a process killed with SIGKILL are claimed again soon.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet

__all__ = ["Cluster", "Process"]

#: The admin token every ``serve`` of a cluster accepts (``--token``).
TOKEN = "scaleout-admin-token"
_WORKING = re.compile(r"emitflow worker \S+ working on")


@dataclass
class Process:
    """One emitflow process of a cluster."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    url: str = ""
    restarts: int = field(default=0)

    @property
    def alive(self) -> bool:
        """Still running."""
        return self.popen.poll() is None


class Cluster:
    """Starts, stops and kills emitflow processes sharing ``store`` (a postgresql:// URL)."""

    def __init__(
        self,
        root: Path,
        store: str,
        *,
        lease_seconds: float = 2.0,
        rescan_seconds: float = 0.5,
        log_level: str = "warning",
    ) -> None:
        self.root = root
        self.store = store
        self.lease_seconds = lease_seconds
        self.rescan_seconds = rescan_seconds
        self.log_level = log_level
        self.home = root / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        key = root / "emitflow.key"
        key.write_bytes(Fernet.generate_key())
        key.chmod(0o600)
        self.env = {
            **os.environ,
            "EMITFLOW_HOME": str(self.home),
            "EMITFLOW_KEY_FILE": str(key),
        }
        self.env.pop("EMITFLOW_TOKEN", None)
        self.processes: list[Process] = []
        self._logs = 0

    def migrate(self) -> None:
        """``emitflow migrate`` once, before the processes start."""
        done = subprocess.run(
            [sys.executable, "-m", "emitflow", "migrate", "--store", self.store],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.home,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"emitflow migrate failed: {done.stdout}{done.stderr}")

    def _command(self, kind: str, extra: Sequence[str]) -> list[str]:
        return [
            sys.executable, "-m", "emitflow", kind, "--store", self.store,
            "--lease-seconds", str(self.lease_seconds),
            "--rescan-seconds", str(self.rescan_seconds),
            "--log-level", self.log_level, *extra,
        ]  # fmt: skip

    def _spawn(self, name: str, command: list[str]) -> tuple[subprocess.Popen[bytes], Path]:
        self._logs += 1
        log = self.root / f"{self._logs:03d}-{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=self.env, cwd=self.home
            )
        return popen, log

    def worker(self, name: str) -> Process:
        """Start ``emitflow worker``; returns once it says it works (its first line)."""
        (process,) = self.workers([name])
        return process

    def workers(self, names: Sequence[str]) -> list[Process]:
        """Start several workers at once; returns once each says it works."""
        started = []
        for name in names:
            popen, log = self._spawn(name, self._command("worker", ()))
            started.append(Process(name=name, popen=popen, log=log))
        self.processes.extend(started)
        for process in started:
            self._await_line(process, _WORKING)
        return started

    def serve(self, name: str, *, worker: bool = True) -> Process:
        """Start ``emitflow serve`` on a free port; returns once it serves (``url`` set)."""
        extra = ["--port", "0", "--token", TOKEN]
        if not worker:
            extra.append("--no-worker")
        popen, log = self._spawn(name, self._command("serve", extra))
        process = Process(name=name, popen=popen, log=log)
        self.processes.append(process)
        found = self._await_line(process, re.compile(r"serving on (http://\S+)"))
        process.url = found.group(1)
        return process

    def _await_line(self, process: Process, pattern: re.Pattern[str]) -> re.Match[str]:
        deadline = time.monotonic() + 60
        while True:
            found = pattern.search(process.log.read_text(errors="replace"))
            if found:
                return found
            if not process.alive or time.monotonic() > deadline:
                raise RuntimeError(f"{process.name} did not start:\n{self.logs()}")
            time.sleep(0.05)  # polling its log file for the line, with a deadline

    def kill(self, process: Process) -> None:
        """SIGKILL, as a crash: nothing is closed, its leases run out."""
        process.popen.send_signal(signal.SIGKILL)
        process.popen.wait(timeout=30)

    def restart(self, process: Process) -> Process:
        """A killed worker started again under the same name."""
        again = self.worker(process.name)
        again.restarts = process.restarts + 1
        self.processes.remove(process)
        return again

    def stop(self, process: Process) -> int:
        """SIGTERM, as a service manager stops it; its exit code."""
        if process.alive:
            process.popen.send_signal(signal.SIGTERM)
        return process.popen.wait(timeout=60)

    def close(self) -> None:
        """Kill whatever still runs."""
        for process in self.processes:
            if process.alive:
                process.popen.kill()
                process.popen.wait(timeout=30)

    def logs(self, lines: int = 15) -> str:
        """The end of every process's log, for a failure message."""
        parts = []
        for log in sorted(self.root.glob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(parts)

    def log_text(self) -> str:
        """Everything every process logged (for counting lines of a kind)."""
        return "\n".join(log.read_text(errors="replace") for log in sorted(self.root.glob("*.log")))
