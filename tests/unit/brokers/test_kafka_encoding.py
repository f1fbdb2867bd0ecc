"""The Kafka binding's encoding, checked against the binding's rules and the ``cloudevents``
SDK's Kafka binding (no Kafka broker runs here: no broker round-trip is proved)."""

from __future__ import annotations

import json

from cloudevents.core.bindings.kafka import KafkaMessage, from_binary_event, from_structured_event

from emitflow.brokers.kafka import kafka_record

EVENT = {
    "specversion": "1.0",
    "type": "com.example.someevent",
    "source": "/mycontext/subcontext",
    "id": "1234-1234-1234",
    "time": "2018-04-05T03:56:24Z",
    "datacontenttype": "application/json",
    "partitionkey": "mykey",
    "comexampleextension1": "value",
    "data": {"key": "value"},
}


def test_binary_mode_has_ce_headers_content_type_and_the_partition_key() -> None:
    key, value, headers = kafka_record(EVENT)
    names = dict(headers)
    assert key == b"mykey"
    assert names["ce_specversion"] == b"1.0"
    assert names["ce_type"] == b"com.example.someevent"
    assert names["ce_source"] == b"/mycontext/subcontext"
    assert names["ce_id"] == b"1234-1234-1234"
    assert names["ce_time"] == b"2018-04-05T03:56:24Z"
    assert names["ce_comexampleextension1"] == b"value"
    assert names["content-type"] == b"application/json"
    assert "ce_datacontenttype" not in names
    assert json.loads(value) == {"key": "value"}
    parsed = from_binary_event(KafkaMessage(headers=names, key=key, value=value))
    assert parsed.get_id() == "1234-1234-1234"
    assert parsed.get_extension("comexampleextension1") == "value"
    assert parsed.get_data() == {"key": "value"}


def test_structured_mode_is_the_json_event_and_no_key_without_partitionkey() -> None:
    event = {k: v for k, v in EVENT.items() if k != "partitionkey"}
    key, value, headers = kafka_record(event, "structured")
    assert key is None
    assert dict(headers) == {"content-type": b"application/cloudevents+json"}
    parsed = from_structured_event(KafkaMessage(headers=dict(headers), key=key, value=value))
    assert (parsed.get_type(), parsed.get_data()) == ("com.example.someevent", {"key": "value"})
