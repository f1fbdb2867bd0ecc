"""Every ``sh`` block of the README, run as written in a copy of the repository's files.

The set-up the README documents is in place: ``.venv/bin`` (this interpreter's) is first on
``PATH``, as ``source .venv/bin/activate`` puts it, and blocks that read ``$URL``/``$T`` get an
``emitflow serve`` with the example workflows on a free port, as ``make demo`` prints them.
Two liberties, both about the shared machine the suite runs on: the orders service's port
8081 becomes a free port in every block alike, and ``make …`` blocks (the set-up itself, which
this suite runs under) are not run again. The curl walkthrough, whose stream never ends, is
run by ``test_readme_walkthrough.py``. ``<!-- file: NAME -->`` before a code block writes that
block to NAME first, as the README asks the reader to.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import EXAMPLE_WORKFLOWS, Server, start_server

FENCE = re.compile(r"(?:<!-- file: (?P<file>\S+) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)


def _blocks() -> list[tuple[str, str, str | None]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [(m["lang"], m["body"], m["file"]) for m in FENCE.finditer(text)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, deadline_s: float = 30) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"nothing listens on port {port} after the block that starts it")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The repository's tracked files, as a fresh clone has them."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked files are unknown")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    copy = tmp_path / "emitflow"
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    return copy


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[Server]:
    home = tmp_path / "server"
    home.mkdir()
    running = start_server(home, EXAMPLE_WORKFLOWS)
    try:
        yield running
    finally:
        running.process.kill()
        running.stop()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_every_shell_block_of_the_readme_runs_as_written(
    checkout: Path, demo_server: Server
) -> None:
    port = str(_free_port())
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMITFLOW_")}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        URL=demo_server.url,
        T=demo_server.token,
    )
    shells: list[subprocess.Popen[str]] = []
    outputs: list[str] = []
    try:
        for lang, body, file in _blocks():
            if file is not None:
                (checkout / file).write_text(body, encoding="utf-8")
            if lang != "sh" or body.startswith("make ") or "curl -N" in body:
                continue
            script = body.replace("8081", port)
            shell = subprocess.Popen(
                ["bash", "-e", "-o", "pipefail", "-c", script],
                cwd=checkout,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            shells.append(shell)
            if script.rstrip().endswith("&"):
                _wait_for_port(int(port))  # the block starts a service in the background
                continue
            out, err = shell.communicate(timeout=120)
            assert shell.returncode == 0, f"$ {body}\nexit {shell.returncode}\n{err}"
            assert "Traceback" not in err, f"$ {body}\n{err}"
            outputs.append(out + err)
    finally:
        for shell in shells:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(shell.pid, signal.SIGTERM)
            shell.wait(timeout=60)
            for pipe in (shell.stdout, shell.stderr):
                if pipe is not None:
                    pipe.close()
    joined = "\n".join(outputs)
    assert "com.petstore.order.placed.v1" in joined  # placed through the local service
    assert "completed" in joined  # the library snippet's run
    assert re.search(r"p_greet \(revision \d+\)", joined)  # deploy against the server


def test_make_demo_prints_the_export_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMITFLOW_")}
    env.update(EMITFLOW_PORT="0", EMITFLOW_HOME=str(tmp_path))
    demo = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "serve.py")],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert demo.stdout is not None
        for line in demo.stdout:  # EOF if the server fails to start
            if line.startswith("export "):
                assert re.fullmatch(r"export URL=http://127\.0\.0\.1:\d+ T=efk_\S+\n", line)
                break
        else:
            pytest.fail("make demo printed no export line")
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=60)
        if demo.stdout is not None:
            demo.stdout.close()
