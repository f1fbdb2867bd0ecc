"""The ``Transport`` contract, run against every broker's real server on loopback: a batch is
published in order and acknowledged, what arrives is a CloudEvent the ``cloudevents`` SDK reads
with every attribute, extension and data intact, and a wrong address is a clear, quick error
naming the broker."""

from __future__ import annotations

import pytest

from emitflow.brokers.factory import open_transport
from emitflow.errors import BrokerError, ConfigurationError
from tests.contract.brokers import target

SCHEMES = ["nats", "redis", "amqp", "mqtt"]


def _events(tag: str) -> list[dict[str, object]]:
    return [
        {
            "specversion": "1.0",
            "id": f"{tag}-1",
            "source": "https://t.example/orders",
            "type": "com.example.order.placed",
            "subject": "order-1",
            "time": "2026-12-02T10:00:00Z",
            "datacontenttype": "application/json",
            "dataschema": "https://t.example/schema.json",
            "partitionkey": "order-1",
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "data": {"order": 1, "items": ["a", "b"], "note": "caf\u00e9"},
        },
        {
            "specversion": "1.0",
            "id": f"{tag}-2",
            "source": "https://t.example/orders",
            "type": "com.example.order.note",
            "datacontenttype": "text/plain",
            "data": "plain text, not JSON",
        },
        {
            "specversion": "1.0",
            "id": f"{tag}-3",
            "source": "https://t.example/orders",
            "type": "com.example.order.empty",
        },
    ]


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_a_batch_is_acked_in_order_and_read_back_intact(scheme: str) -> None:
    async with target(scheme) as place:
        transport = await open_transport(place.url)
        try:
            events = _events(place.name)
            acks = await transport.publish(events)
            assert (acks.count, acks.error) == (3, None)
        finally:
            await transport.close()
        got = await place.read(3)
    assert [e.get_id() for e in got] == [f"{place.name}-{i}" for i in (1, 2, 3)]
    first, text, empty = got
    assert first.get_type() == "com.example.order.placed"
    assert first.get_source() == "https://t.example/orders"
    assert first.get_subject() == "order-1"
    assert first.get_dataschema() == "https://t.example/schema.json"
    assert first.get_extension("partitionkey") == "order-1"
    assert first.get_extension("traceparent") == events[0]["traceparent"]
    assert first.get_data() == {"order": 1, "items": ["a", "b"], "note": "caf\u00e9"}
    when = first.get_time()
    assert when is not None and when.year == 2026
    assert text.get_datacontenttype() == "text/plain"
    assert text.get_data() in ("plain text, not JSON", b"plain text, not JSON")
    assert empty.get_type() == "com.example.order.empty"


@pytest.mark.parametrize("scheme", [*SCHEMES, "mqtt311"])
async def test_structured_mode_is_read_back_intact(scheme: str) -> None:
    async with target(scheme.removesuffix("311")) as place:
        url = place.url + "&protocol=3.1.1" if scheme == "mqtt311" else place.url
        mode = "binary" if scheme == "mqtt311" else "structured"  # 3.1.1 is structured-only
        transport = await open_transport(url, mode=mode)
        try:
            events = _events(place.name)
            assert (await transport.publish(events)).count == 3
        finally:
            await transport.close()
        first, text, _ = await place.read(3)
    assert first.get_extension("traceparent") == events[0]["traceparent"]
    assert first.get_data() == {"order": 1, "items": ["a", "b"], "note": "caf\u00e9"}
    assert text.get_data() in ("plain text, not JSON", b"plain text, not JSON")


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_an_empty_batch_is_acked_and_close_twice_is_harmless(scheme: str) -> None:
    async with target(scheme) as place:
        transport = await open_transport(place.url)
        assert (await transport.publish([])).count == 0
        await transport.close()
        await transport.close()


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("nats://127.0.0.1:9", "nats://127.0.0.1:9"),
        ("redis://127.0.0.1:9/0", "redis://127.0.0.1:9"),
        ("amqp://guest:guest@127.0.0.1:9/", "amqp://127.0.0.1:9"),
        ("mqtt://127.0.0.1:9", "mqtt://127.0.0.1:9"),
    ],
)
async def test_a_wrong_address_is_a_quick_error_naming_the_broker(url: str, name: str) -> None:
    with pytest.raises(BrokerError, match=name):
        await open_transport(url, seconds=5)


async def test_refused_credentials_name_the_broker_and_hide_the_password() -> None:
    from tests.conftest import require_service

    require_service("redis", port=6379)
    with pytest.raises(BrokerError, match=r"redis://127\.0\.0\.1:6379") as caught:
        await open_transport("redis://nobody:hunter2@127.0.0.1:6379/0", seconds=5)
    assert "hunter2" not in str(caught.value)


async def test_refused_amqp_credentials_name_the_broker() -> None:
    from tests.conftest import require_service

    require_service("rabbitmq", port=5672)
    with pytest.raises(BrokerError, match=r"amqp://127\.0\.0\.1:5672") as caught:
        await open_transport("amqp://guest:wr0ngpass@127.0.0.1:5672/", seconds=10)
    assert "wr0ngpass" not in str(caught.value)


async def test_an_unknown_scheme_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="not a broker scheme"):
        await open_transport("gopher://127.0.0.1:70")
