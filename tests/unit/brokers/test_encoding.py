"""Reading a broker message as a CloudEvent: binary or structured, detected; what is not one."""

from __future__ import annotations

import json

import pytest

from emitflow.brokers.base import Message
from emitflow.brokers.encoding import binary, from_message, nats_subject, structured
from emitflow.errors import EventError

EVENT = {
    "specversion": "1.0",
    "id": "1",
    "source": "/s",
    "type": "t.x",
    "subject": "a b*c>",
    "sampled": True,
    "datacontenttype": "application/json",
    "data": {"k": [1, 2]},
}


def test_binary_round_trip_with_a_prefix() -> None:
    headers, body, media = binary(EVENT, "ce-")
    assert headers["ce-sampled"] == "true" and "ce-datacontenttype" not in headers
    event = from_message(Message(headers=headers, body=body, content_type=media), "ce-")
    assert event.to_dict() == {**EVENT, "sampled": "true"}


def test_structured_is_detected_by_content_type_or_by_its_body() -> None:
    body = structured(EVENT)
    typed = Message(headers={}, body=body, content_type="application/cloudevents+json")
    untyped = Message(headers={}, body=body)
    assert from_message(typed).to_dict() == EVENT
    assert from_message(untyped).to_dict() == EVENT


def test_text_data_stays_text() -> None:
    headers, body, media = binary({**EVENT, "datacontenttype": "text/plain", "data": "hi"})
    event = from_message(Message(headers=headers, body=body, content_type=media))
    assert event.data == "hi"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"plain words", "not a CloudEvent"),
        (json.dumps({"hello": 1}).encode(), "not a CloudEvent"),
        (b"\xff\xfe", "not a CloudEvent"),
    ],
)
def test_what_is_not_a_cloudevent_says_so(body: bytes, why: str) -> None:
    with pytest.raises(EventError, match=why):
        from_message(Message(headers={"x": "y"}, body=body))


def test_a_binary_message_missing_a_required_attribute_names_it() -> None:
    with pytest.raises(EventError, match="'source'"):
        from_message(Message(headers={"specversion": "1.0", "id": "1", "type": "t"}, body=b"{}"))


def test_subject_templates_replace_what_a_subject_cannot_hold() -> None:
    assert nats_subject("e.{type}.{subject}", EVENT) == "e.t.x.a_b_c_"
    assert nats_subject("e.{missing}", EVENT) == "e._"
