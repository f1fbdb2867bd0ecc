"""The CloudEvent value is valid by construction and names the bad field when it is not."""

from __future__ import annotations

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
