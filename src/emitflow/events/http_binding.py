"""The CloudEvents HTTP protocol binding, receiving side: binary, structured and batch modes.

- binary: attributes in ``ce-*`` headers (percent-encoded values), ``Content-Type`` is
  ``datacontenttype``, the body is ``data`` — parsed as JSON when the type is JSON (``*/json``
  or ``*+json``), kept as text for ``text/*`` bodies that are UTF-8, and as bytes otherwise
  (stored as ``data_base64``, read back byte for byte);
- structured: ``application/cloudevents+json``, one event as a JSON object (``data`` or
  ``data_base64``);
- batch: ``application/cloudevents-batch+json``, a JSON array of such objects.
A JSON body sent as plain ``application/json`` without ``ce-`` headers is read as structured
(an object) or batch (an array) when it carries ``specversion``, a common client shortcut.
Every event is then checked as ``events.attributes.check_ingested`` says (``time``,
``dataschema``, extension names, ``emitflowhops``). Every problem names the event (its index in
a batch) and the field.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from emitflow.errors import EventError
from emitflow.events.attributes import check_ingested
from emitflow.events.cloudevent import CloudEvent

__all__ = ["BATCH", "STRUCTURED", "parse_http"]

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"


def parse_http(
    headers: Mapping[str, str], body: bytes, *, loads: Callable[[bytes], Any] | None = None
) -> list[CloudEvent]:
    """The CloudEvents an HTTP request carries (``headers`` with lower-case names).

    ``loads`` reads JSON (the API passes its strict reader, whose errors pass through)."""
    events = _events(headers, body, loads or _json)
    for index, event in enumerate(events):
        try:
            check_ingested(event)
        except EventError as exc:
            if len(events) == 1:
                raise
            raise EventError(f"event #{index} of the batch: {exc}") from exc
    return events


def _events(
    headers: Mapping[str, str], body: bytes, read: Callable[[bytes], Any]
) -> list[CloudEvent]:
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    if media == STRUCTURED:
        return [_structured(read(body), None)]
    if media == BATCH:
        return _batch(read(body))
    if any(name.startswith("ce-") for name in headers):
        return [_binary(headers, body, media, read)]
    if media in ("application/json", ""):
        value = read(body)
        if isinstance(value, list):
            return _batch(value)
        if isinstance(value, dict) and "specversion" in value:
            return [_structured(value, None)]
    raise EventError(
        "the request carries no CloudEvent: send 'ce-id', 'ce-source', 'ce-type' and "
        f"'ce-specversion' headers (binary mode), or Content-Type {STRUCTURED} or {BATCH}"
    )


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EventError(f"the body is not JSON: {exc}") from exc


def _structured(value: Any, index: int | None) -> CloudEvent:
    try:
        return CloudEvent.from_dict(value)
    except EventError as exc:
        if index is None:
            raise
        raise EventError(f"event #{index} of the batch: {exc}") from exc


def _batch(value: Any) -> list[CloudEvent]:
    if not isinstance(value, list):
        raise EventError(f"a batch ({BATCH}) is a JSON array of events")
    if not value:
        raise EventError("the batch is empty: send at least one event")
    return [_structured(item, index) for index, item in enumerate(value)]


def _binary(
    headers: Mapping[str, str], body: bytes, media: str, read: Callable[[bytes], Any]
) -> CloudEvent:
    attributes: dict[str, Any] = {
        name[3:]: unquote(value) for name, value in headers.items() if name.startswith("ce-")
    }
    if "datacontenttype" in attributes:
        raise EventError("binary mode: the data's type is the Content-Type header, not a header")
    if not body:
        return CloudEvent(attributes=attributes, data=None, has_data=False)
    if media:
        attributes["datacontenttype"] = headers["content-type"]
    if media.endswith("/json") or media.endswith("+json"):
        return CloudEvent(attributes=attributes, data=read(body))
    if not media:  # no type: JSON when it is (read strictly), else the bytes as they are
        try:
            json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return CloudEvent(attributes=attributes, data=bytes(body))
        return CloudEvent(attributes=attributes, data=read(body))
    if media.startswith("text/"):
        try:
            return CloudEvent(attributes=attributes, data=body.decode("utf-8"))
        except UnicodeDecodeError:
            pass  # not UTF-8: kept as the bytes it is
    return CloudEvent(attributes=attributes, data=bytes(body))
