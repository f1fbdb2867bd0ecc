"""The README's curl walkthrough, run as written against ``emitflow serve`` on a free port."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time

import httpx
import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import Server

NAMES = ["Luke", "Han", "Leia", "Obi Wan"]


def _readme_block() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### The seed's walkthrough with curl", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the README lost its walkthrough block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def _run(line: str, url: str, token: str) -> str:
    if line.startswith("curl -N"):
        # The stream never ends: read it for a moment, as a user watching it would.
        line = line.replace("curl -N", "curl -N --max-time 2", 1)
    done = subprocess.run(
        ["bash", "-c", line],
        cwd=ROOT,
        env={**os.environ, "URL": url, "T": token},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode in (0, 28), (line, done.stderr)  # 28: curl's --max-time
    return done.stdout


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_readme_walkthrough_works_as_written(server: Server) -> None:
    outputs = []
    for line in _readme_block():
        outputs.append(_run(line, server.url, server.token))
        if "/hooks/p_emitter" in line:
            _wait_for_listener_runs(server)
    deployed, subscribed, hooked, _runs, summaries, stream = outputs
    assert '"id":"p_' in deployed.replace(" ", "")
    assert '"sub_' in subscribed
    assert '"run_id"' in hooked
    page = json.loads(summaries)
    assert [item["event"]["name"] for item in page["data"]] == NAMES[::-1]
    assert stream.startswith(": emitflow event stream")


def _wait_for_listener_runs(server: Server) -> None:
    auth = {"Authorization": f"Bearer {server.token}"}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        runs = httpx.get(f"{server.url}/v1/workflows/p_listener/runs", headers=auth).json()
        if sum(run["status"] == "completed" for run in runs["data"]) == 4:
            return
        time.sleep(0.05)
    pytest.fail("the listener did not run four times")
