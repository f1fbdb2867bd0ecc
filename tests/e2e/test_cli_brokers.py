"""``emitflow run --broker``: the seed 001 example publishes its event to a real NATS JetStream,
where an independent client reads it and the ``cloudevents`` SDK parses it; a broker that cannot
be reached is a clear error naming it, at start, never a hang."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from cloudevents.core.bindings.http import HTTPMessage, from_http_event

from tests.conftest import require_service
from tests.contract.brokers import unique
from tests.e2e.test_cli_run import emitflow, orders_url, run_order

__all__ = ["orders_url"]


async def _read_stream(stream: str, subject: str) -> list[tuple[str, dict[str, str], bytes]]:
    import nats

    client = await nats.connect("nats://127.0.0.1:4222")
    try:
        js = client.jetstream()
        sub = await js.pull_subscribe(subject, stream=stream)
        messages = await sub.fetch(10, timeout=5)
        return [(m.subject, dict(m.headers or {}), m.data) for m in messages]
    finally:
        await js.delete_stream(stream)
        await client.close()


def test_the_seed_example_puts_the_placed_event_on_the_nats_stream(
    orders_url: str,
    tmp_path: Path,
) -> None:
    require_service("nats", port=4222)
    name = unique()
    # The seed also emits its error event (its tasks run in order); ?types= narrows to one.
    broker = (
        f"nats://127.0.0.1:4222?subject=s{name}.{{type}}&stream=S{name}"
        "&types=com.petstore.order.placed.*"
    )
    done = run_order(orders_url, tmp_path, "c-42", "--broker", broker)
    assert done.code == 0, done.stderr
    (emitted,) = [e for e in done.events if e["type"] == "com.petstore.order.placed.v1"]
    got = asyncio.run(_read_stream(f"S{name}", f"s{name}.>"))
    assert len(got) == 1
    subject, headers, body = got[0]
    assert subject == f"s{name}.com.petstore.order.placed.v1"
    assert headers["Nats-Msg-Id"] == emitted["id"]
    event = from_http_event(
        HTTPMessage(headers={k.lower(): v for k, v in headers.items()}, body=body)
    )
    assert event.get_type() == "com.petstore.order.placed.v1"
    assert event.get_subject() == emitted["subject"] == emitted["data"]["orderId"]
    assert event.get_data() == emitted["data"]
    assert json.loads(body)["client"]["firstName"]


def test_an_unreachable_broker_is_an_error_naming_it(tmp_path: Path) -> None:
    doc = tmp_path / "emit.yaml"
    doc.write_text(
        "document: {dsl: '1.0.0', namespace: t, name: e, version: '1.0.0'}\n"
        "do:\n  - tell:\n      emit:\n        event:\n          with:\n"
        "            source: https://t.example\n            type: t.e\n"
    )
    done = emitflow("run", str(doc), "--broker", "nats://user:pw0rd@127.0.0.1:9")
    assert done.code == 2
    assert "nats://127.0.0.1:9" in done.stderr
    assert "pw0rd" not in done.stderr
    done = emitflow("run", str(doc), "--broker", "gopher://x")
    assert done.code == 2 and "not a broker URL" in done.stderr
