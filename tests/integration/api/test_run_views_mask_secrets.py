"""A run's records hold what its tasks computed, possibly from a secret: every API view of a
run masks the secret values (the run itself still computed with the real ones)."""

from __future__ import annotations

import httpx

from emitflow.api.app import create_app
from emitflow.api.settings import ApiSettings
from emitflow.runtime.engine import Engine
from emitflow.runtime.settings import EngineSettings

SECRET = "s3cr3t-value-for-the-view"
DOCUMENT = """
document: {dsl: '1.0.0', namespace: test, name: leaky, version: '1.0.0'}
use:
  secrets: [apiKey]
do:
  - copy:
      set:
        key: ${ $secrets.apiKey }
        length: ${ $secrets.apiKey | length }
"""


async def test_run_views_mask_a_value_computed_from_a_secret() -> None:
    settings = EngineSettings(secrets={"apiKey": SECRET})
    async with Engine.open("memory://", settings=settings) as engine:
        app = create_app(engine, ApiSettings(admin_token="admin-token-for-this-test"))
        auth = {"Authorization": "Bearer admin-token-for-this-test"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=auth) as c:
            deployed = await c.post(
                "/v1/workflows", content=DOCUMENT, headers={"Content-Type": "application/yaml"}
            )
            assert deployed.status_code == 201, deployed.text
            workflow_id = deployed.json()["data"]["id"]
            ran = await c.post(f"/v1/workflows/{workflow_id}/runs?wait=true", json={"input": {}})
            assert ran.status_code == 200, ran.text
            run_id = ran.json()["run_id"]
            assert ran.json()["output"] == {"key": "***", "length": len(SECRET)}
            answers = [
                ran,
                await c.get(f"/v1/runs/{run_id}"),
                await c.get(f"/v1/workflows/{workflow_id}/runs"),
            ]
            for answer in answers:
                assert answer.status_code == 200, answer.text
                assert SECRET not in answer.text
