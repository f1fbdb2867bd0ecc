"""An engine on a fresh SQLite file and the API over it, driven in-process with httpx."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from emitflow.api import ApiSettings, create_app
from emitflow.runtime.engine import Engine
from emitflow.runtime.settings import EngineSettings

ADMIN_TOKEN = "test-admin-token-0123456789"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with Engine.open(
        f"sqlite:///{tmp_path}/emitflow.db", settings=EngineSettings(code_steps=None)
    ) as opened:
        yield opened


@pytest.fixture
async def client(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(engine, ApiSettings(admin_token=ADMIN_TOKEN))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://emitflow.test",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ) as http:
        yield http


@pytest.fixture
async def live_url(engine: Engine) -> AsyncIterator[str]:
    """The API on a real uvicorn server in this event loop (for streamed answers)."""
    import asyncio

    import uvicorn

    app = create_app(engine, ApiSettings(admin_token=ADMIN_TOKEN, heartbeat_seconds=0.2))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.ensure_future(server.serve())
    async with asyncio.timeout(30):
        while not server.started:
            assert not task.done(), "the server did not start"
            await asyncio.sleep(0.001)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
