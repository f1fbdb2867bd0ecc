"""``/v1/webhooks``: creating a webhook listener, subscribing it, its health and dead letters."""

from __future__ import annotations

import httpx

from emitflow.runtime.engine import Engine


async def test_create_subscribe_and_read_health(client: httpx.AsyncClient, engine: Engine) -> None:
    made = await client.post(
        "/v1/webhooks",
        params={"url": "https://user:pw@hooks.example/in?key=s3cr3t", "name": "ops"},
    )
    assert made.status_code == 201, made.text
    webhook = made.json()["data"]
    assert webhook["id"].startswith("wh_")
    assert webhook["url"] == "https://user:***@hooks.example/in?key=***"
    assert webhook["health"] == {"state": "healthy", "consecutive_failures": 0, "last_error": None}
    assert "s3cr3t" not in made.text and "pw@" not in made.text

    subscribed = await client.post(
        "/v1/subscriptions", params={"emitter_id": "dc_*", "listener_id": webhook["id"]}
    )
    assert subscribed.status_code == 200, subscribed.text
    listed = (await client.get("/v1/webhooks")).json()["data"]
    assert [w["id"] for w in listed] == [webhook["id"]]
    deliveries = await client.get(f"/v1/webhooks/{webhook['id']}/deliveries?status=dead")
    assert deliveries.json() == {"data": []}
    assert (await client.delete(f"/v1/webhooks/{webhook['id']}")).status_code == 200
    assert (await client.get("/v1/subscriptions")).json() == {"data": []}


async def test_bad_webhooks_are_refused(client: httpx.AsyncClient) -> None:
    bad = await client.post("/v1/webhooks", params={"url": "not a url"})
    assert bad.status_code == 400
    assert "url" in bad.json()["error"]["message"]
    unknown = await client.post(
        "/v1/subscriptions", params={"emitter_id": "dc_*", "listener_id": "wh_missing"}
    )
    assert unknown.status_code == 404
    assert "wh_missing" in unknown.json()["error"]["message"]
