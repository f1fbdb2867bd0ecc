"""Brokers both ways through an engine, against the real servers:

- events emitted by workflows reach a broker destination, are read by an independent plain
  client and parsed by the ``cloudevents`` SDK with every attribute, extension and data intact,
  in emit order;
- events produced with the SDK on each broker by its plain client start a subscribed workflow
  and resume a waiting ``listen`` with correlation; a message that is not a CloudEvent goes to
  the source's ``$errors`` channel.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from emitflow.runtime.engine import Engine
from emitflow.runtime.settings import EngineSettings
from emitflow.store.records import ERRORS_CHANNEL, RunRecord
from tests.conftest import require_service
from tests.contract.brokers import PORTS, SERVICES, target, unique
from tests.integration.brokers.producers import produce, produce_raw, sdk_event

SCHEMES = ["nats", "redis", "amqp", "mqtt"]

EMITTER = {
    "document": {"dsl": "1.0.0", "namespace": "t", "name": "emitter", "version": "1.0.0"},
    "do": [
        {
            "tell": {
                "emit": {
                    "event": {
                        "with": {
                            "source": "https://t.example/orders",
                            "type": "com.example.order.placed",
                            "subject": "${ .order | tostring }",
                            "comexampletenant": "acme",
                            "data": {"order": "${ .order }", "note": "caf\u00e9"},
                        }
                    }
                }
            }
        }
    ],
}


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    settings = EngineSettings(timers=False, close_grace_seconds=0.05, rescan_seconds=0.2)
    async with Engine.open(f"sqlite:///{tmp_path}/b.db", settings=settings) as opened:
        yield opened


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_emitted_events_reach_the_broker_intact_and_in_order(
    engine: Engine, scheme: str
) -> None:
    async with target(scheme) as place:
        destination = await engine.create_webhook(place.url, name=scheme)
        assert destination.id.startswith("wh_")
        emitter = await engine.deploy(EMITTER)
        await engine.subscribe(emitter_id=emitter.id, listener_id=destination.id)
        for order in range(20):
            await engine.start(emitter.id, input={"order": order})
        got = await place.read(20)
    assert [e.get_subject() for e in got] == [str(n) for n in range(20)]
    first = got[0]
    assert first.get_type() == "com.example.order.placed"
    assert first.get_source() == "https://t.example/orders"
    assert first.get_extension("comexampletenant") == "acme"
    assert first.get_data() == {"order": 0, "note": "caf\u00e9"}
    assert first.get_time() is not None
    async with asyncio.timeout(20):
        while (await engine.get_webhook(destination.id)).state != "healthy":  # noqa: ASYNC110
            await asyncio.sleep(0.01)


def _place(scheme: str, name: str) -> tuple[str, dict[str, str]]:
    if scheme == "nats":
        subject = f"in{name}.orders"
        url = f"nats://127.0.0.1:4222?subject=in{name}.>&durable=d{name}&stream=IN{name}"
        return url, {"subject": subject, "stream": f"IN{name}"}
    if scheme == "redis":
        return f"redis://127.0.0.1:6379/0?stream=in{name}&group=g{name}", {"stream": f"in{name}"}
    if scheme == "amqp":
        url = f"amqp://guest:guest@127.0.0.1:5672/?queue=in{name}"
        return url, {"queue": f"in{name}"}
    url = f"mqtt://127.0.0.1:1883?topic=in{name}/%23&client_id=c{name}"
    return url, {"topic": f"in{name}/orders"}


async def _prepare(scheme: str, place: dict[str, str]) -> None:
    if scheme == "nats":
        import nats

        client = await nats.connect("nats://127.0.0.1:4222")
        try:
            await client.jetstream().add_stream(
                name=place["stream"], subjects=[place["subject"].rsplit(".", 1)[0] + ".>"]
            )
        finally:
            await client.close()


async def _cleanup(scheme: str, place: dict[str, str]) -> None:
    import contextlib

    if scheme == "nats":
        import nats

        client = await nats.connect("nats://127.0.0.1:4222")
        with contextlib.suppress(Exception):
            await client.jetstream().delete_stream(place["stream"])
        await client.close()
    elif scheme == "redis":
        import redis.asyncio as aioredis

        redis_client = aioredis.Redis()
        await redis_client.delete(place["stream"])
        await redis_client.aclose()
    elif scheme == "amqp":
        import aio_pika

        from tests.contract.brokers import AMQP

        connection = await aio_pika.connect(AMQP)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(place["queue"])


ON_PLACED = """
document: {dsl: '1.0.3', namespace: t, name: on-placed, version: '1.0.0'}
schedule:
  on:
    one:
      with:
        type: com.outside.order.placed
do:
  - keep:
      set:
        order: ${ .[0].data.order }
"""

LISTENER = {
    "document": {"dsl": "1.0.0", "namespace": "t", "name": "listener", "version": "1.0.0"},
    "do": [{"keep": {"set": {"got": "${ . }"}}}],
}


def _waiter() -> dict[str, Any]:
    return {
        "document": {"dsl": "1.0.0", "namespace": "t", "name": "waiter", "version": "1.0.0"},
        "do": [
            {
                "await": {
                    "listen": {
                        "to": {
                            "one": {
                                "with": {"type": "com.outside.order.paid"},
                                "correlate": {
                                    "order": {
                                        "from": "${ .data.order }",
                                        "expect": "${ $input.order }",
                                    }
                                },
                            }
                        }
                    }
                }
            }
        ],
    }


async def _runs(engine: Engine, workflow_id: str, count: int) -> list[RunRecord]:
    async with asyncio.timeout(30):
        while True:
            page = await engine.store.list_runs(workflow_id=workflow_id, limit=50)
            done = [r for r in page.items if r.status == "completed"]
            if len(done) >= count:
                return done
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_sdk_events_on_the_broker_start_workflows_and_resume_a_listen(
    engine: Engine, scheme: str
) -> None:
    require_service(SERVICES[scheme], port=PORTS[scheme])
    name = unique()
    url, place = _place(scheme, name)
    await _prepare(scheme, place)
    try:
        source = await engine.start_source(f"s{name}", url)
        listener = await engine.deploy(LISTENER)
        await engine.subscribe(emitter_id=source.id, listener_id=listener.id)
        on_placed = await engine.deploy(ON_PLACED)
        waiter = await engine.deploy(_waiter())
        wrong = await engine.start(waiter.id, input={"order": 8}, wait=False)
        right = await engine.start(waiter.id, input={"order": 7}, wait=False)
        async with asyncio.timeout(30):
            while len(await engine.store.list_waits()) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        await produce(
            scheme, place, sdk_event(f"a{name}", "com.outside.order.placed", {"order": 1})
        )
        await produce(scheme, place, sdk_event(f"b{name}", "com.outside.order.paid", {"order": 7}))
        await produce_raw(scheme, place, b"not a cloud event")
        (started, *_) = await _runs(engine, listener.id, 1)
        (scheduled,) = await _runs(engine, on_placed.id, 1)
        assert scheduled.output == {"order": 1}
        ended = await engine.wait(right.id)
        assert ended.status == "completed", ended.error
        assert ended.output == [{"order": 7}]
        assert (await engine.get_run(wrong.id)).status == "running"
        page = await engine.events(source.id)
        stored = {e.event["id"]: e.event for e in page.items}
        assert set(stored) == {f"a{name}", f"b{name}"}
        assert stored[f"a{name}"]["comexampletenant"] == "acme"
        assert stored[f"a{name}"]["data"] == {"order": 1}
        assert started.input is not None
        async with asyncio.timeout(30):
            while not (errors := (await engine.events(source.id, event_name=ERRORS_CHANNEL)).items):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        assert "not a CloudEvent" in errors[0].event["data"]["reason"]
    finally:
        await _cleanup(scheme, place)


async def test_with_invalid_reject_a_bad_message_is_a_dead_letter_on_the_broker(
    engine: Engine,
) -> None:
    require_service("redis", port=6379)
    import redis.asyncio as aioredis

    name = unique()
    url, place = _place("redis", name)
    source = await engine.start_source(f"s{name}", url + "&invalid=reject")
    client = aioredis.Redis()
    try:
        await produce_raw("redis", place, b"not a cloud event")
        await produce("redis", place, sdk_event(f"a{name}", "com.outside.ok", {"order": 1}))
        async with asyncio.timeout(30):
            while not (dead := await client.xrange(f"{place['stream']}.dead")):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            while not (await engine.events(source.id)).items:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        assert dead[0][1] == {b"payload": b"not a cloud event"}
        assert (await engine.events(source.id, event_name=ERRORS_CHANNEL)).items == ()
        pending = await client.xpending(place["stream"], f"g{name}")
        assert pending["pending"] == 0
    finally:
        await client.delete(place["stream"], f"{place['stream']}.dead")
        await client.aclose()


async def test_invalid_reject_is_refused_where_the_broker_has_no_dead_letters(
    engine: Engine,
) -> None:
    from emitflow.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="mqtt:// has no dead letters"):
        await engine.start_source("m", "mqtt://127.0.0.1:1883?topic=x&invalid=reject")
