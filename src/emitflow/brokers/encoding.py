"""CloudEvents on the wire of a broker: binary mode (attributes beside the data) and
structured mode (the whole event as JSON), both ways.

Every binding here follows the same shape: the attributes go into headers (``ce-`` for NATS,
``ce_`` for Kafka, ``cloudEvents:`` for AMQP, bare names for MQTT 5 user properties and
Redis stream fields) as strings, ``datacontenttype`` becomes the content type, and the data is
the body — JSON unless the content type says otherwise (text is sent as UTF-8). Reading
detects the mode: a structured content type, or a body that is a JSON object with
``specversion`` and no attribute headers, is structured; otherwise the prefixed headers are the
attributes. Anything else is not a CloudEvent (``EventError`` saying why).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from emitflow.brokers.base import Message
from emitflow.errors import EventError
from emitflow.events.cloudevent import CloudEvent
from emitflow.events.http_binding import STRUCTURED

__all__ = [
    "STRUCTURED",
    "attribute_text",
    "binary",
    "from_message",
    "nats_subject",
    "structured",
]


_BAD = re.compile(r"[\s*>]")


def nats_subject(template: str, event: Mapping[str, Any]) -> str:
    """A subject/routing key/topic from ``template`` (``{type}``, ``{source}``, ``{subject}``,
    ``{id}``); characters a subject cannot hold become ``_``."""

    def field(match: re.Match[str]) -> str:
        value = event.get(match.group(1))
        return _BAD.sub("_", str(value)) if value not in (None, "") else "_"

    return re.sub(r"\{(\w+)\}", field, template)


def attribute_text(value: Any) -> str:
    """An attribute's canonical string form (booleans ``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _is_json(media: str) -> bool:
    media = media.split(";")[0].strip().lower()
    return not media or media.endswith("/json") or media.endswith("+json")


def binary(event: Mapping[str, Any], prefix: str = "") -> tuple[dict[str, str], bytes, str]:
    """``(headers, body, content type)`` of ``event`` in binary mode, header names prefixed."""
    headers = {
        prefix + name: attribute_text(value)
        for name, value in event.items()
        if name not in ("data", "datacontenttype") and value is not None
    }
    media = str(event.get("datacontenttype") or "application/json")
    if "data" not in event or event["data"] is None:
        return headers, b"", media
    data = event["data"]
    if isinstance(data, str) and not _is_json(media):
        return headers, data.encode(), media
    return headers, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(), media


def structured(event: Mapping[str, Any]) -> bytes:
    """``event`` as one JSON object (``application/cloudevents+json``)."""
    return json.dumps(dict(event), ensure_ascii=False, separators=(",", ":")).encode()


def from_message(message: Message, prefix: str = "") -> CloudEvent:
    """The CloudEvent a broker message carries, binary or structured (detected)."""
    media = (message.content_type or "").split(";")[0].strip().lower()
    attrs = {
        name[len(prefix) :].lower(): value
        for name, value in message.headers.items()
        if name.lower().startswith(prefix.lower()) and name[len(prefix) :]
    }
    if media.startswith("application/cloudevents") or ("specversion" not in attrs):
        return _structured(message.body)
    if "datacontenttype" in attrs:
        attrs.pop("datacontenttype")
    if message.content_type:
        attrs["datacontenttype"] = message.content_type
    if not message.body:
        return CloudEvent(attributes=attrs, data=None, has_data=False)
    if _is_json(message.content_type or ""):
        return CloudEvent(attributes=attrs, data=_json(message.body))
    try:
        text = message.body.decode("utf-8")
    except UnicodeDecodeError:
        raise EventError(
            f"the {media} body is not UTF-8 text; emitflow keeps data as JSON or text"
        ) from None
    return CloudEvent(attributes=attrs, data=text)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EventError(f"the body is not JSON: {exc}") from None


def _structured(body: bytes) -> CloudEvent:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        value = None
    if not isinstance(value, dict) or "specversion" not in value:
        raise EventError(
            "not a CloudEvent: no attribute headers (binary mode) and the body is not a "
            "CloudEvent JSON object with 'specversion' (structured mode)"
        )
    return CloudEvent.from_dict(value)
