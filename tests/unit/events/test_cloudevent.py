"""The CloudEvent value is valid by construction and names the bad field when it is not."""

from __future__ import annotations

import dataclasses

import pytest

from emitflow.errors import EventError
from emitflow.events import CloudEvent


def test_create_fills_id_time_and_specversion() -> None:
    event = CloudEvent.create(type="com.example.t", source="/s", data={"a": 1})
    body = event.to_dict()
    assert body["specversion"] == "1.0"
    assert body["id"] and body["time"].endswith("Z")
    assert body["datacontenttype"] == "application/json"
    assert body["data"] == {"a": 1}


def test_round_trip_through_the_structured_form() -> None:
    event = CloudEvent.create(type="t", source="/s", subject="x", data=[1, 2], partitionkey="k")
    assert CloudEvent.from_dict(event.to_dict()) == event


@pytest.mark.parametrize("missing", ["id", "source", "specversion", "type"])
def test_a_missing_required_attribute_is_named(missing: str) -> None:
    body = {"id": "1", "source": "/s", "specversion": "1.0", "type": "t"}
    del body[missing]
    with pytest.raises(EventError, match=repr(missing)):
        CloudEvent.from_dict(body)


@pytest.mark.parametrize("name", ["Upper", "with-dash", "data_x", ""])
def test_bad_attribute_names_are_refused(name: str) -> None:
    with pytest.raises(EventError, match="attribute name"):
        CloudEvent.from_dict(
            {"id": "1", "source": "/s", "specversion": "1.0", "type": "t", name: 1}
        )


def test_data_that_is_not_json_is_refused() -> None:
    with pytest.raises(EventError, match="not JSON-serialisable"):
        CloudEvent.create(type="t", source="/s", data={"x": object()})


def test_an_unsupported_specversion_is_refused() -> None:
    with pytest.raises(EventError, match="specversion"):
        CloudEvent.from_dict({"id": "1", "source": "/s", "specversion": "0.3", "type": "t"})


@pytest.mark.parametrize(
    "data",
    [
        {"x": {1, 2}},  # a set, deep down
        [1, [2, [object()]]],
        {("a", "b"): 1},  # a key JSON cannot hold
        {"n": 10**5000},  # more digits than int -> str converts
    ],
)
def test_data_json_cannot_encode_is_refused_at_any_depth(data: object) -> None:
    with pytest.raises(EventError, match="not JSON-serialisable"):
        CloudEvent.create(type="t", source="/s", data=data)


def test_circular_data_is_refused() -> None:
    loop: dict[str, object] = {}
    loop["self"] = loop
    with pytest.raises(EventError, match="not JSON-serialisable"):
        CloudEvent.create(type="t", source="/s", data=loop)


def _nested(depth: int) -> list[object]:
    value: list[object] = [1]
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "data",
    [
        {1: "int keys", None: "and null", 2.5: "and float ones"},  # json.dumps turns them to text
        (1, 2),
        float("nan"),
        2**70,
        {"big": list(range(5000))},
        _nested(40),
    ],
)
def test_data_json_encodes_is_accepted(data: object) -> None:
    assert CloudEvent.create(type="t", source="/s", data=data).data is data


def test_with_attributes_sets_them_on_a_new_event_and_checks_them() -> None:
    event = CloudEvent.create(type="t", source="/s", data={"a": 1}, subject="x")
    stamped = event.with_attributes({"emitflowhops": 2, "subject": "y"})
    assert stamped.attributes["emitflowhops"] == 2 and stamped.subject == "y"
    assert stamped.data is event.data and stamped.has_data == event.has_data
    assert "emitflowhops" not in event.attributes and event.subject == "x"
    assert stamped == CloudEvent.from_dict(stamped.to_dict())
    with pytest.raises(EventError, match="attribute name"):
        event.with_attributes({"Bad": 1})
    with pytest.raises(EventError, match="must be a string"):
        event.with_attributes({"ext": 1.5})
    with pytest.raises(EventError, match="'id' is missing or empty"):
        event.with_attributes({"id": ""})
    with pytest.raises(EventError, match="specversion"):
        event.with_attributes({"specversion": "0.3"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        stamped.data = None  # type: ignore[misc]
