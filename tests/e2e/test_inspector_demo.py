"""``make demo`` as a new user meets it: the printed inspector URL and token, then the seed's
chain end to end in the browser without curl (subscribe, run the emitter, see its four emits
under the step, follow one to the listener run, watch the events arrive on the live tail)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.e2e.inspector import CHROMIUM, CHROMIUM_ARGS, poll, require_chromium

pytestmark = [pytest.mark.service("chromium"), pytest.mark.timeout(300)]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``examples/serve.py`` (what ``make demo`` runs) on a free port: its UI URL and token."""
    env = {**os.environ, "EMITFLOW_PORT": "0", "EMITFLOW_HOME": str(tmp_path / "demo")}
    env.pop("EMITFLOW_TOKEN", None)
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "serve.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("Ctrl-C stops"):
            break
    text = "".join(lines)
    ui = re.search(r"Open the event inspector: (http://\S+/ui)", text)
    token = re.search(r"token: (\S+)", text)
    try:
        assert ui and token, text
        yield ui.group(1), token.group(1)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        process.stdout.close()


@pytest.fixture
def page() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = chromium.new_context(viewport={"width": 1280, "height": 900})
            yield context.new_page()
        finally:
            chromium.close()


def test_a_new_user_sees_the_seed_chain_without_curl(demo: tuple[str, str], page: Any) -> None:
    ui, token = demo
    page.goto(ui)
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(ui)

    page.get_by_role("link", name="Subscriptions").click()
    page.get_by_role("combobox", name="Emitter").select_option("p_emitter")
    page.get_by_role("combobox", name="Listener").select_option("p_listener")
    page.get_by_role("button", name="Subscribe").click()
    assert "p_listener" in page.locator("table.subscriptions").inner_text()

    # A second tab tails the events live while the emitter runs.
    tail = page.context.new_page()
    tail.goto(ui + "/events?emitter=p_emitter")
    tail.wait_for_selector(".tail-state:has-text('Live tail: on')")

    page.get_by_role("link", name="Workflows").click()
    page.get_by_role("link", name="emitter", exact=True).click()
    page.get_by_role("button", name="Run now").click()
    page.wait_for_url(re.compile(r".*/ui/runs/r_\w+$"))

    def emits_started() -> bool:
        page.reload()
        started: int = page.locator("li.emit a.started").count()
        return started == 4

    poll(emits_started)
    assert page.locator("li.emit").count() == 4
    page.locator("li.emit").nth(2).locator("a.started").click()
    assert "Leia" in page.locator("section[aria-labelledby=trigger-title]").inner_text()
    assert "p_listener" in page.locator("p.meta").inner_text()

    tail.wait_for_function("document.querySelectorAll('tr.fresh').length === 4")
    tail.get_by_role("button", name="Pause live tail").click()
    assert (
        tail.get_by_role("button", name="Resume live tail").get_attribute("aria-pressed") == "true"
    )
    page.goto(ui + "/workflows/p_emitter")
    page.get_by_role("button", name="Run now").click()
    tail.wait_for_selector(".tail-state:has-text('paused, 4 new')")
    assert tail.locator("tr.fresh").count() == 4  # held while paused
    tail.get_by_role("button", name="Resume live tail").click()
    assert tail.locator("tr.fresh").count() == 8
