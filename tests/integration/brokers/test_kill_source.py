"""kill -9 while a source consumes: after a restart every message is in the log, none twice.

A message is acknowledged only after its event is stored, so the ones in flight at the kill are
delivered again (Redis: the consumer's pending entries; JetStream: redelivery after the ack
wait), and the log stores an event once per (emitter, source, id)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

from emitflow.store.factory import open_store
from emitflow.store.records import EventQuery
from tests.conftest import ROOT, require_service
from tests.contract.brokers import unique
from tests.integration.brokers.producers import sdk_event

if TYPE_CHECKING:
    from redis.typing import EncodableT, FieldT

TOTAL = 1000


def _child(store: str, name: str, url: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.brokers.consume_child", store, name, url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "consuming"
    return process


def _end(process: subprocess.Popen[str]) -> None:
    """Wait for a child that was killed or told to stop, and close its pipe."""
    process.wait(timeout=30)
    if process.stdout is not None:
        process.stdout.close()


async def _fill_redis(stream: str) -> None:
    import redis.asyncio as aioredis

    from tests.integration.brokers.producers import attrs_and_body

    client = aioredis.Redis()
    try:
        pipe = client.pipeline(transaction=False)
        for i in range(TOTAL):
            attrs, body, media = attrs_and_body(sdk_event(f"k{i:04d}", "t.kill", {"order": i}))
            # redis's stubs take XADD's fields as an invariant Dict over unions of key types.
            fields = {**attrs, "datacontenttype": media, "data": body}
            pipe.xadd(stream, cast("dict[FieldT, EncodableT]", fields))
        await pipe.execute()
    finally:
        await client.aclose()


async def _group_state(stream: str, group: str) -> tuple[int, int]:
    """(entries read by the group, entries pending an ack)."""
    import redis.asyncio as aioredis

    client = aioredis.Redis()
    try:
        groups = await client.xinfo_groups(stream)
    finally:
        await client.aclose()
    for found in groups:
        if found["name"].decode() == group:
            return int(found.get("entries-read") or 0), int(found["pending"])
    return 0, 0


async def _stored(store: str, emitter_id: str) -> list[str]:
    async with open_store(store) as opened:
        ids: list[str] = []
        before = None
        while True:
            page = await opened.list_events(
                EventQuery(emitter_id=emitter_id), limit=500, before=before
            )
            ids.extend(e.event["id"] for e in page.items)
            if not page.has_more:
                return ids
            before = page.end_cursor


async def test_kill_9_while_a_redis_source_consumes(tmp_path: Path) -> None:
    require_service("redis", port=6379)
    name = unique()
    stream, group = f"kill{name}", f"g{name}"
    store = f"sqlite:///{tmp_path}/k.db"
    url = f"redis://127.0.0.1:6379/0?stream={stream}&group={group}"
    await _fill_redis(stream)
    try:
        first = _child(store, f"k{name}", url)
        async with asyncio.timeout(60):
            while (await _group_state(stream, group))[0] < 200:  # noqa: ASYNC110 - another process
                await asyncio.sleep(0.005)
        first.send_signal(signal.SIGKILL)
        _end(first)
        read_at_kill, pending_at_kill = await _group_state(stream, group)
        assert read_at_kill < TOTAL, "the kill came too late to prove anything"
        second = _child(store, f"k{name}", url)
        try:
            async with asyncio.timeout(60):
                while await _group_state(stream, group) != (TOTAL, 0):  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
                # Stored in the outbox before the ack; in the log once the dispatcher ran (rows
                # the killed process had leased wait for their lease to end).
                while len(await _stored(store, f"dc_k{name}")) < TOTAL:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        finally:
            second.send_signal(signal.SIGKILL)
            _end(second)
        ids = await _stored(store, f"dc_k{name}")
        assert sorted(ids) == [f"k{i:04d}" for i in range(TOTAL)]  # all, none twice
        print(f"killed after {read_at_kill} read, {pending_at_kill} of them unacked")
    finally:
        import redis.asyncio as aioredis

        client = aioredis.Redis()
        await client.delete(stream)
        await client.aclose()


async def _nats_state(stream: str, durable: str) -> tuple[int, int]:
    """(messages delivered to the consumer, messages waiting for an ack)."""
    import nats

    client = await nats.connect("nats://127.0.0.1:4222")
    try:
        info = await client.jetstream().consumer_info(stream, durable)
    except Exception:
        return 0, 0
    finally:
        await client.close()
    return int(info.delivered.stream_seq or 0), int(info.num_ack_pending or 0)


async def test_kill_9_while_a_nats_source_consumes(tmp_path: Path) -> None:
    require_service("nats", port=4222)
    import nats
    from cloudevents.core.bindings import http as sdk_http

    name = unique()
    stream, durable = f"KILL{name}", f"d{name}"
    store = f"sqlite:///{tmp_path}/k.db"
    url = f"nats://127.0.0.1:4222?subject=kill{name}.>&durable={durable}&stream={stream}&ack_wait=2"
    client = await nats.connect("nats://127.0.0.1:4222")
    js = client.jetstream()
    await js.add_stream(name=stream, subjects=[f"kill{name}.>"])
    try:
        for i in range(TOTAL):
            message = sdk_http.to_binary_event(sdk_event(f"k{i:04d}", "t.kill", {"order": i}))
            await js.publish(f"kill{name}.e", message.body, headers=dict(message.headers))
        first = _child(store, f"k{name}", url)
        async with asyncio.timeout(60):
            while (await _nats_state(stream, durable))[0] < 200:  # noqa: ASYNC110
                await asyncio.sleep(0.005)
        first.send_signal(signal.SIGKILL)
        _end(first)
        read_at_kill, pending_at_kill = await _nats_state(stream, durable)
        assert read_at_kill < TOTAL, "the kill came too late to prove anything"
        second = _child(store, f"k{name}", url)
        try:
            async with asyncio.timeout(90):
                while await _nats_state(stream, durable) != (TOTAL, 0):  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
                while len(await _stored(store, f"dc_k{name}")) < TOTAL:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        finally:
            second.send_signal(signal.SIGKILL)
            _end(second)
        ids = await _stored(store, f"dc_k{name}")
        assert sorted(ids) == [f"k{i:04d}" for i in range(TOTAL)]  # all, none twice
        print(f"killed after {read_at_kill} delivered, {pending_at_kill} of them unacked")
    finally:
        await js.delete_stream(stream)
        await client.close()


async def test_kill_9_while_an_mqtt_source_consumes(tmp_path: Path) -> None:
    require_service("mosquitto", port=1883)
    import aiomqtt

    name = unique()
    store = f"sqlite:///{tmp_path}/k.db"
    count = 500  # within Mosquitto's default queue of 1,000 messages per session
    url = f"mqtt://127.0.0.1:1883?topic=kill{name}/%23&client_id=k{name}"
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    from tests.integration.brokers.producers import attrs_and_body

    # The source's session exists (subscribed, kept while offline) before anything is sent, so
    # the broker queues all of it and the source starts with a backlog.
    keep = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]  # paho: untyped
    keep.SessionExpiryInterval = 600
    async with aiomqtt.Client(
        "127.0.0.1",
        1883,
        identifier=f"k{name}",
        protocol=aiomqtt.ProtocolVersion.V5,
        clean_start=False,
        properties=keep,
    ) as session:
        await session.subscribe(f"kill{name}/#", qos=1)
    async with aiomqtt.Client("127.0.0.1", 1883, protocol=aiomqtt.ProtocolVersion.V5) as client:
        for i in range(count):
            attrs, body, media = attrs_and_body(sdk_event(f"k{i:04d}", "t.kill", {"order": i}))
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]  # paho
            props.UserProperty = list(attrs.items())
            props.ContentType = media
            await client.publish(f"kill{name}/e", body, qos=1, properties=props)
    first = _child(store, f"k{name}", url)
    async with asyncio.timeout(60):
        while len(await _stored(store, f"dc_k{name}")) < 100:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    _end(first)
    at_kill = len(await _stored(store, f"dc_k{name}"))
    assert at_kill < count, "the kill came too late to prove anything"
    second = _child(store, f"k{name}", url)
    try:
        async with asyncio.timeout(90):
            while len(await _stored(store, f"dc_k{name}")) < count:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        second.send_signal(signal.SIGKILL)
        _end(second)
    ids = await _stored(store, f"dc_k{name}")
    assert sorted(ids) == [f"k{i:04d}" for i in range(count)]  # all, none twice
    print(f"killed with {at_kill} of {count} stored")
    async with aiomqtt.Client(  # end the persistent session
        "127.0.0.1", 1883, identifier=f"k{name}", clean_session=True
    ):
        pass
