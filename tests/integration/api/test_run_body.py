"""``POST /v1/workflows/{id}/runs`` takes ``{"input", "context"}`` and nothing else."""

from __future__ import annotations

import httpx

from emitflow.runtime.engine import Engine

DOCUMENT = {
    "document": {"dsl": "1.0.0", "namespace": "t", "name": "echo", "version": "1.0.0"},
    "do": [{"echo": {"set": {"got": "${ . }"}}}],
}


async def test_unknown_body_keys_are_422_naming_them(
    engine: Engine, client: httpx.AsyncClient
) -> None:
    version = await engine.deploy(DOCUMENT)
    answer = await client.post(f"/v1/workflows/{version.id}/runs", json={"name": "Ada"})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert "'name'" in error["message"] and '"input"' in error["message"]
    assert error["details"] == {"unknown": ["name"]}
    ran = await client.post(
        f"/v1/workflows/{version.id}/runs?wait=true", json={"input": {"name": "Ada"}}
    )
    assert ran.status_code == 200
    assert ran.json()["output"] == {"got": {"name": "Ada"}}
