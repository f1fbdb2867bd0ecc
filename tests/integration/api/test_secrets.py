"""Secrets for served workflows: write-only ``PUT /v1/secrets/{name}``, names-only ``GET``,
``DELETE``; stored sealed so the database alone does not reveal them."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import httpx

from emitflow.runtime.engine import Engine

DOC = """
document: {dsl: '1.0.3', namespace: test, name: uses-secret, version: '0.1.0'}
use:
  secrets: [apiKey, db]
do:
  - look:
      set:
        keyLength: ${ $secrets.apiKey | length }
        user: ${ $secrets.db.user | length }
"""
VALUE = "the-orders-api-key-0451"


async def test_a_secret_put_through_the_api_reaches_runs_and_is_never_shown(
    client: httpx.AsyncClient, engine: Engine, tmp_path: Path
) -> None:
    deployed = await client.post(
        "/v1/workflows", content=DOC, headers={"Content-Type": "application/yaml"}
    )
    workflow_id = deployed.json()["data"]["id"]
    missing = (await client.post(f"/v1/workflows/{workflow_id}/runs?wait=true", json={})).json()
    assert missing["status"] == "faulted"
    assert "'apiKey', 'db'" in missing["error"]["detail"]

    put = await client.put("/v1/secrets/apiKey", json={"value": VALUE})
    assert put.status_code == 200, put.text
    assert VALUE not in put.text
    put = await client.put("/v1/secrets/db", json={"value": {"user": "orders-user"}})
    assert put.status_code == 200, put.text
    listed = (await client.get("/v1/secrets")).json()["data"]
    assert listed == [{"name": "apiKey", "source": "api"}, {"name": "db", "source": "api"}]

    run = (await client.post(f"/v1/workflows/{workflow_id}/runs?wait=true", json={})).json()
    assert run["status"] == "completed", run
    assert run["output"] == {"keyLength": len(VALUE), "user": len("orders-user")}

    # Sealed at rest: the database file never holds the value; the key file is 0600.
    database = Path(engine.store.path)  # type: ignore[attr-defined]
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT name, sealed FROM secrets ORDER BY name").fetchall()
    assert [name for name, _ in rows] == ["apiKey", "db"]
    assert all(sealed.startswith("sealed:") and VALUE not in sealed for _, sealed in rows)
    for path in database.parent.iterdir():
        if path.is_file() and path.name != "emitflow.key":
            assert VALUE.encode() not in path.read_bytes(), path
    key = database.parent / "emitflow.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600

    assert (await client.delete("/v1/secrets/apiKey")).status_code == 200
    assert (await client.delete("/v1/secrets/apiKey")).status_code == 404
    assert (await client.get("/v1/secrets")).json()["data"] == [{"name": "db", "source": "api"}]


async def test_stored_secrets_are_read_back_when_the_engine_opens_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/again.db"
    async with Engine.open(url) as engine:
        await engine.secrets.put("apiKey", VALUE, engine.settings.clock.now())
    async with Engine.open(url) as engine:
        assert engine.secrets.current() == {"apiKey": VALUE}


async def test_bad_secret_requests_are_refused_without_echoing_the_value(
    client: httpx.AsyncClient,
) -> None:
    bad_name = await client.put("/v1/secrets/not-a-name", json={"value": VALUE})
    assert bad_name.status_code == 400 and "letters, digits" in bad_name.text
    bad_body = await client.put("/v1/secrets/apiKey", json={"secret": VALUE})
    assert bad_body.status_code == 422 and VALUE not in bad_body.text
    broken = await client.put(
        "/v1/secrets/apiKey",
        content=b'{"value": "' + VALUE.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert broken.status_code == 400 and VALUE not in broken.text
    text = await client.put(
        "/v1/secrets/apiKey", content=VALUE, headers={"Content-Type": "text/plain"}
    )
    assert text.status_code == 200
    anonymous = await client.get("/v1/secrets", headers={"Authorization": ""})
    assert anonymous.status_code == 401
