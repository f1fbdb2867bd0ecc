"""``POST /v1/subscriptions``: the seed's ``dc_…`` form for a workflow's events, a 422 naming the
accepted forms for an emitter that could never fire, a warning for a workflow that listens to
itself."""

from __future__ import annotations

import httpx

from emitflow.runtime.engine import Engine
from emitflow.runtime.subscriptions import source_emitter_id

CODE = "def handler(pd):\n    pd.send.emit({'raw_event': {'name': 'Yoda'}})\n"


async def _deploy(client: httpx.AsyncClient, name: str) -> str:
    answer = await client.post(
        f"/v1/workflows?name={name}", content=CODE, headers={"Content-Type": "text/x-python"}
    )
    assert answer.status_code == 201, answer.text
    workflow_id: str = answer.json()["data"]["id"]
    return workflow_id


async def test_the_seeds_dc_form_subscribes_to_the_workflows_events(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    emitter = await _deploy(client, "emitter")
    listener = await _deploy(client, "listener")
    answer = await client.post(
        "/v1/subscriptions",
        params={"emitter_id": "dc_" + emitter.removeprefix("p_"), "listener_id": listener},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["emitter_id"] == emitter
    assert "warning" not in answer.json()
    await client.post(f"/v1/workflows/{emitter}/runs?wait=true", json={})
    await engine.drain()
    runs = (await client.get(f"/v1/workflows/{listener}/runs")).json()["data"]
    assert [run["status"] for run in runs] == ["completed"]


async def test_an_emitter_that_can_never_fire_is_422_naming_the_forms(
    client: httpx.AsyncClient,
) -> None:
    listener = await _deploy(client, "listener")
    for emitter_id in ("dc_def456", "x_nothing", "dc_"):
        answer = await client.post(
            "/v1/subscriptions", params={"emitter_id": emitter_id, "listener_id": listener}
        )
        assert answer.status_code == 422, (emitter_id, answer.text)
        message = answer.json()["error"]["message"]
        assert "'p_…'" in message and "'dc_…'" in message and "'p_*'" in message
    # A source id (what ingested events get) can fire, and so can the globs.
    for emitter_id in (source_emitter_id("https://shop.example/orders"), "dc_*", "p_*"):
        answer = await client.post(
            "/v1/subscriptions", params={"emitter_id": emitter_id, "listener_id": listener}
        )
        assert answer.status_code == 200, (emitter_id, answer.text)


async def test_a_workflow_subscribed_to_itself_gets_a_warning(client: httpx.AsyncClient) -> None:
    workflow = await _deploy(client, "loop")
    answer = await client.post(
        "/v1/subscriptions", params={"emitter_id": workflow, "listener_id": workflow}
    )
    assert answer.status_code == 200
    warning = answer.json()["warning"]
    assert workflow in warning and "its own events" in warning and "16 hops" in warning
    glob = await client.post(
        "/v1/subscriptions", params={"emitter_id": "p_*", "listener_id": workflow}
    )
    assert "its own events" in glob.json()["warning"]
