"""How a consumed event is read (``listen.read``, ``schedule.read``): data, envelope, or raw.

- ``data``: the event's data (``null`` when it has none; binary data as its base64 text);
- ``envelope``: the whole event, its context attributes and data, as structured JSON;
- ``raw``: the data as it travelled, not decoded: a binary event's ``data_base64`` text, a text
  payload as it is, and JSON data as its JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["READ_MODES", "read_event"]

READ_MODES = ("data", "envelope", "raw")


def read_event(event: Mapping[str, Any], read: str) -> Any:
    """``event`` (structured JSON form) as ``read`` asks."""
    if read == "envelope":
        return dict(event)
    if read == "raw" or "data_base64" in event:
        return _raw(event)
    return event.get("data")


def _raw(event: Mapping[str, Any]) -> str | None:
    if "data_base64" in event:
        encoded = event["data_base64"]
        return encoded if isinstance(encoded, str) else None
    if "data" not in event or event["data"] is None:
        return None
    data = event["data"]
    if isinstance(data, str) and not _is_json(event.get("datacontenttype")):
        return data
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _is_json(content_type: object) -> bool:
    if not isinstance(content_type, str):
        return True  # no content type: the data is JSON
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json") or media == "text/json"
