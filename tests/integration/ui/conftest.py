"""The inspector in-process: an engine on a fresh SQLite file, the app, a signed-in client."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from emitflow.api import ApiSettings, create_app
from emitflow.runtime.engine import Engine
from emitflow.runtime.settings import EngineSettings

ADMIN_TOKEN = "test-admin-token-0123456789"
SECRET = "s3cr3t-value-never-shown-4242"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    settings = EngineSettings(code_steps=None, secrets={"apiKey": SECRET})
    async with Engine.open(f"sqlite:///{tmp_path}/emitflow.db", settings=settings) as opened:
        yield opened


@pytest.fixture
async def anonymous(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client that has not signed in."""
    app = create_app(engine, ApiSettings(admin_token=ADMIN_TOKEN))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emitflow.test") as http:
        yield http


async def sign_in(http: httpx.AsyncClient, token: str = ADMIN_TOKEN) -> str:
    """Sign in through the HTML form; the session's CSRF token (read from a page)."""
    answer = await http.post("/ui/signin", data={"token": token, "next": "/ui"})
    assert answer.status_code == 303, answer.text
    page = await http.get("/ui")
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, "every signed-in page carries the CSRF token"
    return found.group(1)


@pytest.fixture
async def browser(anonymous: httpx.AsyncClient) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A signed-in client and its CSRF token."""
    csrf = await sign_in(anonymous)
    yield anonymous, csrf
