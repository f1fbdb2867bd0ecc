"""The inspector in a real browser (Debian's Chromium through Playwright) against a real
``emitflow serve``: the seed's chain end to end, without curl.

Deploy the seed's emitter and listener through the API, sign in (with the keyboard), create the
subscription through the UI, trigger the emitter by its hook, open the emitter's run and find the
four emits under the code step, follow one to the listener run it started, replay it. Every page
is checked at 1280 px and 390 px wide with axe-core (no serious violation). Screenshots go to the
test's temporary folder.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server, start_server
from tests.e2e.inspector import (
    CHROMIUM,
    CHROMIUM_ARGS,
    WIDTHS,
    poll,
    require_chromium,
    serious_violations,
)

pytestmark = [pytest.mark.service("chromium"), pytest.mark.timeout(300)]

NAMES = ["Luke", "Han", "Leia", "Obi Wan"]
EMITTER = """
def handler(pd):
    for name in ["Luke", "Han", "Leia", "Obi Wan"]:
        pd.send.emit({"raw_event": {"name": name}})
    return {"emitted": 4}
"""
LISTENER = """
def handler(pd):
    name = pd.steps["trigger"]["event"]["name"]
    print("received", name)
    return {"received": name}
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    home = tmp_path / "home"
    home.mkdir()
    running = start_server(home)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _deploy(http: httpx.Client, code: str, name: str) -> str:
    answer = http.post(
        f"/v1/workflows?name={name}", content=code, headers={"Content-Type": "text/x-python"}
    )
    assert answer.status_code == 201, answer.text
    workflow_id: str = answer.json()["data"]["id"]
    return workflow_id


def _sign_in_with_the_keyboard(page: Any, server: Server) -> None:
    page.goto(server.url + "/ui")
    assert "/ui/signin" in page.url  # no cookie: the sign-in page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")  # the skip link moves focus to the content
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "token"
    page.keyboard.type(server.token)
    page.keyboard.press("Enter")
    page.wait_for_url(server.url + "/ui")


def _check_widths(page: Any, url: str, shots: Path, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        assert serious_violations(page) == [], (name, width)
        page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_seed_chain_in_the_inspector(server: Server, browser: Any, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    auth = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, headers=auth, timeout=30) as http:
        emitter = _deploy(http, EMITTER, "emitter")
        listener = _deploy(http, LISTENER, "listener")

        context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        page = context.new_page()
        _check_widths(page, server.url + "/ui/signin", shots, "signin")
        _sign_in_with_the_keyboard(page, server)
        assert page.get_by_role("heading", name="Workflows", exact=True).is_visible()

        # The subscription, made in the UI from the emitters and channels it offers.
        page.goto(server.url + "/ui/subscriptions")
        page.get_by_role("combobox", name="Emitter").select_option(emitter)
        page.get_by_role("combobox", name="Channel").select_option("")
        page.get_by_role("combobox", name="Listener").select_option(listener)
        page.get_by_role("textbox", name="Filter").fill('[{"exact": {"type": ')
        page.wait_for_selector("#s-filter-state.bad")  # checked as it is typed
        page.get_by_role("textbox", name="Filter").fill("")
        page.get_by_role("button", name="Subscribe").click()
        page.wait_for_url(server.url + "/ui/subscriptions")
        subs = http.get("/v1/subscriptions").json()["data"]
        assert [(s["emitter_id"], s["listener_id"]) for s in subs] == [(emitter, listener)]
        assert page.locator("svg.graph").count() == 1
        _check_widths(page, server.url + "/ui/subscriptions", shots, "subscriptions")

        # Trigger the emitter and wait for the four listener runs.
        hook = httpx.post(f"{server.url}/hooks/{emitter}", json={"go": True}, timeout=30)
        assert hook.status_code == 202, hook.text
        run_id = hook.json()["run_id"]

        def listener_done() -> bool:
            runs = http.get(f"/v1/workflows/{listener}/runs?limit=100").json()["data"]
            return len([r for r in runs if r["status"] == "completed"]) == 4

        poll(listener_done)

        # The emitter's run: four emits directly under its code step.
        page.goto(f"{server.url}/ui/runs/{run_id}")
        step = page.locator("li.task").filter(has=page.locator("section.emits"))
        assert step.count() == 1
        emits = step.locator("li.emit")
        assert emits.count() == 4
        for index, name in enumerate(NAMES):
            assert name in emits.nth(index).locator("pre.data").inner_text()
        page.screenshot(path=str(shots / "run-emits.png"), full_page=True)
        _check_widths(page, f"{server.url}/ui/runs/{run_id}", shots, "emitter-run")

        # Follow the first emit to the listener run it started.
        started = page.locator("li.emit").first.locator("a.started")
        assert started.count() == 1
        started.click()
        page.wait_for_url(f"{server.url}/ui/runs/r_*")
        listener_run = page.url.rsplit("/", 1)[1]
        assert listener_run != run_id
        assert listener in page.locator("p.meta").inner_text()
        assert "Luke" in page.locator("section[aria-labelledby=trigger-title]").inner_text()
        _check_widths(page, page.url, shots, "listener-run")

        # Replay it: a new run of the newest listener version with the same event.
        page.goto(f"{server.url}/ui/runs/{listener_run}")
        page.get_by_role("button", name="Replay this run").click()
        page.wait_for_url(f"{server.url}/ui/runs/r_*")
        replay_id = page.url.rsplit("/", 1)[1]
        assert replay_id not in (run_id, listener_run)
        replayed = poll(lambda: _ended(http, replay_id))
        assert replayed["status"] == "completed"
        assert replayed["output"] == {"received": "Luke"}
        assert replayed["trigger"]["replay_of"] == listener_run
        page.reload()
        assert "replay of " + listener_run in page.locator("p.meta").inner_text()
        page.screenshot(path=str(shots / "replayed-run.png"), full_page=True)

        position = http.get("/v1/events?limit=1").json()["data"][0]["id"]
        for name, path in [
            ("event", f"/ui/events/{position}"),
            ("replay-count", f"/ui/workflows/{listener}/replay"),
            ("workflows", "/ui"),
            ("emitter-runs", f"/ui/workflows/{emitter}"),
            ("events", "/ui/events"),
        ]:
            _check_widths(page, server.url + path, shots, name)
        context.close()
    assert len(list(shots.glob("*.png"))) >= 18
    keep = os.environ.get("EMITFLOW_UI_SCREENSHOTS")  # e.g. to refresh docs/
    if keep:
        shutil.copytree(shots, keep, dirs_exist_ok=True)


def _ended(http: httpx.Client, run_id: str) -> dict[str, Any] | None:
    run: dict[str, Any] = http.get(f"/v1/runs/{run_id}").json()
    return run if run["status"] in ("completed", "faulted", "cancelled") else None


SLOW = """
document: {dsl: "1.0.0", namespace: test, name: slow, version: "0.1.0"}
do:
  - pause:
      wait: PT3S
  - done:
      set: {finished: true}
"""


def test_a_run_in_flight_updates_live(server: Server, browser: Any) -> None:
    auth = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, headers=auth, timeout=30) as http:
        deployed = http.post(
            "/v1/workflows", content=SLOW, headers={"Content-Type": "application/yaml"}
        )
        assert deployed.status_code == 201, deployed.text
        slow = deployed.json()["data"]["id"]
        context = browser.new_context(viewport={"width": 390, "height": 800})
        page = context.new_page()
        page.goto(server.url + "/ui/signin")
        page.get_by_label("API token").fill(server.token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(server.url + "/ui")
        started = http.post(f"/v1/workflows/{slow}/runs", json={"input": {}})
        run_id = started.json()["run_id"]
        page.goto(f"{server.url}/ui/runs/{run_id}")
        assert page.locator(".live").count() == 1  # in flight (3 s in a wait): the page is live
        assert page.locator("h1 .status-completed").count() == 0
        page.wait_for_selector("h1 .status-completed", timeout=30_000)  # reloaded by SSE
        assert page.locator(".live").count() == 0
        assert page.locator("li.task").count() == 2
        context.close()
