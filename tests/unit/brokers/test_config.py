"""``--broker`` URLs: narrowing parameters, ``EMITFLOW_BROKERS``, and clear refusals."""

from __future__ import annotations

import pytest

from emitflow.brokers.config import broker_specs, parse_broker
from emitflow.cesql import evaluate
from emitflow.errors import ConfigurationError


def test_narrowing_is_taken_off_the_transport_url() -> None:
    spec = parse_broker(
        "nats://127.0.0.1:4222?subject=emitflow.{type}&types=com.petstore.*,x.y&channel=orders"
    )
    assert spec.url == "nats://127.0.0.1:4222?subject=emitflow.{type}"
    assert spec.types == ("com.petstore.*", "x.y")
    assert spec.channel == "orders"
    assert spec.matches({"type": "com.petstore.order.placed.v1"}, "orders")
    assert not spec.matches({"type": "com.petstore.order.placed.v1"}, "")
    assert not spec.matches({"type": "org.other"}, "orders")


def test_types_become_a_cesql_filter_with_the_same_meaning() -> None:
    (cesql,) = parse_broker("redis://h:6379?types=com.petstore.*").filters() or []
    base = {"specversion": "1.0", "id": "1", "source": "/s"}
    assert evaluate(cesql["sql"], {**base, "type": "com.petstore.order"}).value is True
    assert evaluate(cesql["sql"], {**base, "type": "org.petstore"}).value is False
    assert parse_broker("redis://h:6379").filters() is None


def test_the_environment_adds_brokers_and_keeps_commas_inside_types() -> None:
    env = {"EMITFLOW_BROKERS": "nats://a:4222?types=x.*,y.*,redis://b:6379"}
    specs = broker_specs(["mqtt://c:1883"], env)
    assert [s.url.split("?")[0] for s in specs] == [
        "mqtt://c:1883",
        "nats://a:4222",
        "redis://b:6379",
    ]
    assert specs[1].types == ("x.*", "y.*")


@pytest.mark.parametrize("bad", ["gopher://x", "nats://", "/relative", "https://h/x"])
def test_what_is_not_a_broker_url_is_refused_with_the_fix(bad: str) -> None:
    with pytest.raises(ConfigurationError, match=r"not a broker URL.*nats://127\.0\.0\.1:4222"):
        parse_broker(bad)


def test_a_password_is_not_repeated_in_the_refusal() -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_broker("ftp://u:s3cr3t@h")
    assert "s3cr3t" not in str(caught.value)
