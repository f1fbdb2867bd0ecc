"""Broker figures against the loopback NATS JetStream and Redis.

- Emit → broker throughput: one run's ``for`` loop emits N events; a destination subscribed to
  the emitter publishes them; events/s from the run's start until the broker holds all N
  (JetStream stream count / Redis ``XLEN``). Baseline, same run: a plain client publishing the
  same N CloudEvents with the same encoding (``emitflow.brokers.encoding``) and the same acks
  (JetStream PubAck per message, pipelined 50 at a time; Redis ``XADD`` replies, pipelined 50 at
  a time). Target ratio ≥ 0.5.
- Broker → listener run started: a plain client publishes one CloudEvent at a time on a source's
  subject/stream; a subscribed workflow's run is created; p50/p99 from the publish to the run's
  ``created_at``. Target p50 ≤ 10 ms.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from emitflow.brokers.encoding import binary
from emitflow.brokers.redis import redis_fields
from emitflow.runtime import Engine, EngineSettings

if TYPE_CHECKING:
    # redis's stubs take XADD's fields as an invariant Dict over unions of key types: the
    # fields from ``redis_fields`` are cast to it.
    from redis.typing import EncodableT, FieldT

EVENTS = 3_000
LATENCY_SAMPLES = 300

EMITTER = """
document: {dsl: '1.0.3', namespace: bench, name: emitter, version: '1.0.0'}
do:
  - each:
      for: {each: n, in: '${ [range(.count)] }'}
      do:
        - announce:
            emit:
              event:
                with:
                  type: com.example.tick
                  source: /bench/emitter
                  data: {n: '${ $n }'}
"""

LISTENER = """
document: {dsl: '1.0.3', namespace: bench, name: listener, version: '1.0.0'}
do:
  - keep: {set: {seen: true}}
"""


def _events(count: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC).isoformat()
    return [
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "/bench/emitter",
            "type": "com.example.tick",
            "time": now,
            "datacontenttype": "application/json",
            "data": {"n": n},
        }
        for n in range(count)
    ]


class _Counter:
    """How many messages a stream holds, over one connection."""

    def __init__(self, scheme: str, name: str) -> None:
        self.scheme, self.name = scheme, name
        self.client: Any = None

    async def count(self) -> int:
        if self.scheme == "nats":
            import nats

            if self.client is None:
                self.client = await nats.connect("nats://127.0.0.1:4222")
            try:
                info = await self.client.jetstream().stream_info(self.name)
            except Exception:
                return 0
            return int(info.state.messages)
        import redis.asyncio as aioredis

        if self.client is None:
            self.client = aioredis.Redis()
        return int(await self.client.xlen(self.name))

    async def close(self) -> None:
        if self.client is not None:
            await (self.client.close() if self.scheme == "nats" else self.client.aclose())


async def _cleanup(scheme: str, name: str) -> None:
    if scheme == "nats":
        import nats

        client = await nats.connect("nats://127.0.0.1:4222")
        try:
            await client.jetstream().delete_stream(name)
        except Exception:
            pass
        finally:
            await client.close()
        return
    import redis.asyncio as aioredis

    redis_client = aioredis.Redis()
    await redis_client.delete(name)
    await redis_client.aclose()


async def _emitflow_rate(scheme: str) -> float:
    name = "B" + uuid.uuid4().hex[:8]
    url = (
        f"nats://127.0.0.1:4222?subject={name}.{{type}}&stream={name}"
        if scheme == "nats"
        else f"redis://127.0.0.1:6379/0?stream={name}"
    )
    with tempfile.TemporaryDirectory() as home:
        settings = EngineSettings(timers=False)
        async with Engine.open(f"sqlite:///{Path(home)}/b.db", settings=settings) as engine:
            destination = await engine.create_webhook(url)
            emitter = await engine.deploy(EMITTER)
            await engine.subscribe(emitter_id=emitter.id, listener_id=destination.id)
            counter = _Counter(scheme, name)
            started = time.perf_counter()
            await engine.start(emitter.id, input={"count": EVENTS})
            while await counter.count() < EVENTS:  # noqa: ASYNC110 - the broker's count
                await asyncio.sleep(0.01)
            elapsed = time.perf_counter() - started
            await counter.close()
    await _cleanup(scheme, name)
    return EVENTS / elapsed


async def _plain_rate(scheme: str) -> float:
    name = "P" + uuid.uuid4().hex[:8]
    events = _events(EVENTS)
    if scheme == "nats":
        import nats

        client = await nats.connect("nats://127.0.0.1:4222")
        js = client.jetstream()
        await js.add_stream(name=name, subjects=[f"{name}.>"])
        started = time.perf_counter()
        for start in range(0, EVENTS, 50):
            futures = []
            for event in events[start : start + 50]:
                headers, body, media = binary(event, "ce-")
                headers["content-type"] = media
                headers["Nats-Msg-Id"] = event["id"]
                futures.append(
                    await js.publish_async(f"{name}.com.example.tick", body, headers=headers)
                )
            for future in futures:
                await future
        elapsed = time.perf_counter() - started
        await client.close()
    else:
        import redis.asyncio as aioredis

        redis_client = aioredis.Redis()
        started = time.perf_counter()
        for start in range(0, EVENTS, 50):
            pipe = redis_client.pipeline(transaction=False)
            for event in events[start : start + 50]:
                pipe.xadd(name, cast("dict[FieldT, EncodableT]", redis_fields(event)))
            await pipe.execute()
        elapsed = time.perf_counter() - started
        await redis_client.aclose()
    await _cleanup(scheme, name)
    return EVENTS / elapsed


async def _publish_one(scheme: str, place: str, event: dict[str, Any]) -> None:
    if scheme == "nats":
        import nats

        headers, body, media = binary(event, "ce-")
        headers["content-type"] = media
        client = _CLIENTS.get("nats")
        if client is None:
            client = _CLIENTS["nats"] = await nats.connect("nats://127.0.0.1:4222")
        await client.jetstream().publish(f"{place}.e", body, headers=headers)
    else:
        import redis.asyncio as aioredis

        client = _CLIENTS.get("redis")
        if client is None:
            client = _CLIENTS["redis"] = aioredis.Redis()
        await client.xadd(place, cast("dict[FieldT, EncodableT]", redis_fields(event)))


_CLIENTS: dict[str, Any] = {}


async def _run_created(engine: Engine, workflow_id: str, n: int) -> datetime:
    while True:
        page = await engine.store.list_runs(workflow_id=workflow_id, limit=1)
        if page.items:
            trigger = page.items[0].trigger
            if isinstance(trigger, dict) and trigger.get("event") == {"n": n}:
                return page.items[0].created_at
        await asyncio.sleep(0.0005)


async def _latency(scheme: str) -> tuple[float, float]:
    name = "L" + uuid.uuid4().hex[:8]
    if scheme == "nats":
        import nats

        client = await nats.connect("nats://127.0.0.1:4222")
        await client.jetstream().add_stream(name=name, subjects=[f"{name}.>"])
        await client.close()
        url = f"nats://127.0.0.1:4222?subject={name}.>&durable=d{name}&stream={name}"
    else:
        url = f"redis://127.0.0.1:6379/0?stream={name}&group=g{name}"
    samples: list[float] = []
    with tempfile.TemporaryDirectory() as home:
        settings = EngineSettings(timers=False)
        async with Engine.open(f"sqlite:///{Path(home)}/l.db", settings=settings) as engine:
            source = await engine.start_source(f"s{name}", url)
            listener = await engine.deploy(LISTENER)
            await engine.subscribe(emitter_id=source.id, listener_id=listener.id)
            for n in range(LATENCY_SAMPLES):
                (event,) = _events(1)
                event["data"] = {"n": n}
                sent = datetime.now(UTC)
                await _publish_one(scheme, name, event)
                created = await _run_created(engine, listener.id, n)
                samples.append((created - sent).total_seconds() * 1000)
    client = _CLIENTS.pop(scheme)
    await (client.close() if scheme == "nats" else client.aclose())
    await _cleanup(scheme, name)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


async def _run() -> None:
    for scheme in ("nats", "redis"):
        ours = await _emitflow_rate(scheme)
        plain = await _plain_rate(scheme)
        print(
            f"{scheme}: emit -> broker {ours:,.0f} events/s; plain client, same encoding and "
            f"acks {plain:,.0f} events/s; ratio {ours / plain:.2f} (target >= 0.5)"
        )
        p50, p99 = await _latency(scheme)
        print(
            f"{scheme}: broker -> listener run created, {LATENCY_SAMPLES} events: "
            f"p50 {p50:.2f} ms, p99 {p99:.2f} ms (target p50 <= 10 ms)"
        )


def main() -> None:
    """Print the broker figures."""
    asyncio.run(_run())


if __name__ == "__main__":
    main()
