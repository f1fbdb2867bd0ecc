"""Binary data: the CloudEvent value keeps bytes as ``data_base64``, webhooks send the bytes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from emitflow.events.cloudevent import CloudEvent
from emitflow.events.reading import read_event
from emitflow.runtime.webhooks import request_for
from emitflow.store.records import Webhook

BLOB = b"\x00\x01\xfe\xffpng"
ATTRIBUTES = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}


def test_bytes_round_trip_through_the_structured_form() -> None:
    event = CloudEvent(attributes={**ATTRIBUTES, "datacontenttype": "image/png"}, data=BLOB)
    structured = event.to_dict()
    assert structured["data_base64"] == base64.b64encode(BLOB).decode()
    assert "data" not in structured
    assert CloudEvent.from_dict(structured).data == BLOB


def test_a_binary_webhook_delivery_sends_the_bytes() -> None:
    event = CloudEvent(attributes={**ATTRIBUTES, "datacontenttype": "image/png"}, data=BLOB)
    now = datetime.now(UTC)
    hook = Webhook(id="wh_1", url="http://x", created_at=now, updated_at=now)
    headers, body = request_for(hook, event.to_dict())
    assert body == BLOB
    assert headers["Content-Type"] == "image/png"
    assert "ce-data_base64" not in headers


def test_reading_a_binary_event() -> None:
    structured = CloudEvent(attributes=ATTRIBUTES, data=BLOB).to_dict()
    encoded = base64.b64encode(BLOB).decode()
    assert read_event(structured, "data") == encoded
    assert read_event(structured, "raw") == encoded
    assert read_event(structured, "envelope")["data_base64"] == encoded
