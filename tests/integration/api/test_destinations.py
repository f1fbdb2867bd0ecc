"""``/v1/destinations``: brokers and webhooks as one kind of listener — create (a broker is
connected first), list, test, enable, delete; ``/v1/webhooks`` shows only the HTTP ones."""

from __future__ import annotations

import httpx

from emitflow.runtime.engine import Engine
from tests.conftest import require_service
from tests.contract.brokers import target


async def test_a_redis_destination_is_created_tested_listed_and_deleted(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    async with target("redis") as place:
        made = await client.post("/v1/destinations", params={"url": place.url, "name": "r"})
        assert made.status_code == 201, made.text
        destination = made.json()["data"]
        assert destination["id"].startswith("wh_")
        assert destination["transport"] == "redis"
        hook = await client.post("/v1/destinations", params={"url": "https://h.example/in"})
        assert hook.status_code == 201
        tested = await client.post(f"/v1/destinations/{destination['id']}/test")
        assert tested.json()["data"] == {"id": destination["id"], "ok": True, "error": None}
        (event,) = await place.read(1)
        assert event.get_type() == "io.emitflow.destination.test.v1"
        listed = [d["id"] for d in (await client.get("/v1/destinations")).json()["data"]]
        assert set(listed) == {destination["id"], hook.json()["data"]["id"]}
        webhooks = [w["id"] for w in (await client.get("/v1/webhooks")).json()["data"]]
        assert webhooks == [hook.json()["data"]["id"]]
        enabled = await client.post(f"/v1/destinations/{destination['id']}/enable")
        assert enabled.json()["data"]["health"]["state"] == "healthy"
        gone = await client.delete(f"/v1/destinations/{destination['id']}")
        assert gone.status_code == 200
        assert (await client.get(f"/v1/destinations/{destination['id']}")).status_code == 404


async def test_an_unreachable_broker_is_a_422_naming_it_not_a_hang(
    client: httpx.AsyncClient,
) -> None:
    made = await client.post(
        "/v1/destinations", params={"url": "nats://bob:pa55word@127.0.0.1:9?subject=x.{type}"}
    )
    assert made.status_code == 422, made.text
    error = made.json()["error"]
    assert error["code"] == "broker_unreachable"
    assert "nats://127.0.0.1:9" in error["message"]
    assert "pa55word" not in made.text
    refused = await client.post("/v1/webhooks", params={"url": "redis://127.0.0.1:6379"})
    assert refused.status_code == 400
    assert "/v1/destinations" in refused.json()["error"]["message"]


async def test_refused_credentials_are_a_422_naming_the_broker(client: httpx.AsyncClient) -> None:
    require_service("redis", port=6379)
    made = await client.post(
        "/v1/destinations", params={"url": "redis://nobody:hunter2@127.0.0.1:6379/0"}
    )
    assert made.status_code == 422
    assert "redis://127.0.0.1:6379" in made.json()["error"]["message"]
    assert "hunter2" not in made.text
