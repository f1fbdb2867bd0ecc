"""``emitflow serve`` as a user starts it: a subprocess on a free port, with a fresh home."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

EXAMPLE_WORKFLOWS = ROOT / "examples" / "workflows"


@dataclass
class Server:
    """A running ``emitflow serve``: its URL, its first admin token, its process."""

    url: str
    token: str
    process: subprocess.Popen[str]
    lines: list[str]

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; the exit code. What it printed until it
        ended is added to ``lines`` and its pipe closed (safe to call again)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        if self.process.stdout is not None and not self.process.stdout.closed:
            self.lines.append(self.process.stdout.read())  # EOF when it exits
            self.process.stdout.close()
        return self.process.wait(timeout=60)


def start_server(
    home: Path,
    workflows: Path | None = None,
    *,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Server:
    """Start ``emitflow serve --port 0`` (with ``args``, and ``env`` over the environment) and
    read its URL and admin token from its output."""
    command = [sys.executable, "-m", "emitflow", "serve", "--port", "0", *args]
    if workflows is not None:
        command += ["--workflows", str(workflows)]
    env = {**os.environ, **(env or {}), "EMITFLOW_HOME": str(home)}
    env.pop("EMITFLOW_TOKEN", None)
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=home
    )
    assert process.stdout is not None
    lines: list[str] = []
    token = url = ""
    for line in process.stdout:  # the server prints its URL last; EOF if it fails
        lines.append(line)
        if found := re.search(r"admin token \(shown once, keep it\): (\S+)", line):
            token = found.group(1)
        if found := re.search(r"serving on (http://\S+)", line):
            url = found.group(1)
            break
    if not url:
        process.kill()
        process.wait(timeout=30)
        process.stdout.close()
        pytest.fail("emitflow serve did not start:\n" + "".join(lines))
    return Server(url=url, token=token, process=process, lines=lines)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A server with the example workflows deployed."""
    running = start_server(tmp_path, EXAMPLE_WORKFLOWS)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.process.kill()
        running.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """End-to-end tests run the CLI and servers as processes: all are ``slow``."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.slow)
