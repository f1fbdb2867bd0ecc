"""Plumbing of the inspector's browser tests: Debian's Chromium driven by Playwright, axe-core."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, services_required

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE = ROOT / "tests" / "fixtures" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 390)


def require_chromium() -> None:
    """Skip (or fail under EMITFLOW_REQUIRE_SERVICES=1) without Chromium or Playwright."""
    reason = ""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium; make test installs it)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright is not installed (pip install -e '.[test]')"
    if reason:
        if services_required():
            pytest.fail(reason + "; EMITFLOW_REQUIRE_SERVICES=1 makes this a failure")
        pytest.skip(reason)


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it stands."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result
        if v.get("impact") in ("serious", "critical")
    ]


def poll(check: Callable[[], Any], *, within: float = 60.0) -> Any:
    """The first truthy result of ``check``, polled until a deadline."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)
