"""Webhook URL credentials (user info, query tokens) are stored sealed with the secrets' key,
masked in every view, and still used when events are delivered."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from emitflow.api import ApiSettings, create_app
from emitflow.runtime.engine import Engine
from emitflow.runtime.settings import EngineSettings
from tests.integration.runtime.test_webhooks import (
    SETTINGS,
    Receiver,
    _emit_once,
    _until,
)
from tests.standins.server import serve

ADMIN = "test-admin-token-0123456789"


async def test_credentials_in_a_webhook_url_are_sealed_masked_and_used(tmp_path: Path) -> None:
    scripted = Receiver()
    database = tmp_path / "e.db"
    settings = EngineSettings(webhooks=SETTINGS, timers=False)
    with serve(scripted.app()) as base:
        host = base.removeprefix("http://")
        url = f"http://hookuser:pa55-hook-secret@{host}/hook?token=query-token-1234"
        async with Engine.open(f"sqlite:///{database}", settings=settings) as engine:
            webhook = await engine.create_webhook(url, name="with-credentials")
            assert (await engine.get_webhook(webhook.id)).url == url
            app = create_app(engine, ApiSettings(admin_token=ADMIN))
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://emitflow.test",
                headers={"Authorization": f"Bearer {ADMIN}"},
            ) as http:
                shown = (await http.get(f"/v1/webhooks/{webhook.id}")).text
                listed = (await http.get("/v1/webhooks")).text
            for text in (shown, listed):
                assert "pa55-hook-secret" not in text and "query-token-1234" not in text
                assert "hookuser:***@" in text and "token=***" in text
            await _emit_once(engine, webhook.id)
            await _until(lambda: scripted.got)
    (request,) = scripted.got
    assert request["headers"]["authorization"].startswith("Basic ")
    with sqlite3.connect(database) as conn:
        (stored,) = conn.execute("SELECT url FROM webhooks").fetchone()
    assert stored.startswith("sealed:")
    assert not _files_holding(tmp_path, b"pa55-hook-secret", b"query-token-1234")


def _files_holding(folder: Path, *needles: bytes) -> list[Path]:
    return [
        path
        for path in folder.glob("e.db*")
        if any(needle in path.read_bytes() for needle in needles)
    ]
