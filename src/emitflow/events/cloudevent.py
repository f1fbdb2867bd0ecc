"""The CloudEvent value (CloudEvents 1.0) and its structured JSON form.

Data is a JSON value, or ``bytes`` for binary data, which the structured form carries as
``data_base64`` (the JSON event format's rule), so it is stored and read back byte for byte.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from emitflow.errors import EventError
from emitflow.ids import random_uuid

__all__ = ["CONTEXT_ATTRIBUTES", "CloudEvent"]

REQUIRED = ("id", "source", "specversion", "type")
CONTEXT_ATTRIBUTES = (*REQUIRED, "datacontenttype", "dataschema", "subject", "time")
_NAME = re.compile(r"^[a-z0-9]{1,}$")
#: Attribute names already found valid (a few hundred at most, so hostile input cannot grow it).
_VALID_NAMES: set[str] = set(CONTEXT_ATTRIBUTES)
_VALID_NAMES_KEPT = 512
#: The types of attribute values (``isinstance`` allows their subclasses too; bool is an int).
_ATTRIBUTE_TYPES = frozenset({str, int, bool, type(None)})
#: Values JSON encodes as they are; integers only within these bounds (a huge one can fail).
_JSON_SCALARS = frozenset({str, float, bool, type(None)})
_INT_BOUND = 1 << 64
_STR_KEYS = {str}
#: Past this many values, data is checked by encoding it (C) rather than by walking it.
_WALK_LIMIT = 256


def _now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class CloudEvent:
    """One CloudEvent: its context attributes (extensions included) and its data.

    ``attributes`` holds every attribute but ``data``; it is validated at construction, so a
    CloudEvent that exists is a valid one.
    """

    attributes: Mapping[str, Any]
    data: Any = None
    has_data: bool = field(default=True)

    def __post_init__(self) -> None:
        attributes = self.attributes
        for name in REQUIRED:
            value = attributes.get(name)
            if not isinstance(value, str) or not value:
                raise EventError(
                    f"CloudEvent attribute {name!r} is missing or empty; "
                    f"every event needs a non-empty string {name!r}"
                )
        if attributes["specversion"] != "1.0":
            raise EventError(
                f"CloudEvent specversion {attributes['specversion']!r} is not supported; use '1.0'"
            )
        _check_attributes(attributes)
        _check_data(self.data)

    def with_attributes(self, attributes: Mapping[str, Any]) -> CloudEvent:
        """This event with ``attributes`` set over its own (a new event; this one is kept).

        Only the given attributes are checked: the rest were when this event was made."""
        if any(name in REQUIRED for name in attributes):
            return CloudEvent(
                attributes={**self.attributes, **attributes}, data=self.data, has_data=self.has_data
            )
        _check_attributes(attributes)
        event = object.__new__(CloudEvent)
        # A frozen dataclass sets its fields this way in its own __init__.
        object.__setattr__(event, "attributes", {**self.attributes, **attributes})
        object.__setattr__(event, "data", self.data)
        object.__setattr__(event, "has_data", self.has_data)
        return event

    @classmethod
    def create(cls, *, type: str, source: str, data: Any = None, **attributes: Any) -> CloudEvent:
        """A new event; ``id`` (a UUID), ``time`` (now) and ``specversion`` are filled in."""
        attrs: dict[str, Any] = {
            "specversion": "1.0",
            "id": random_uuid(),
            "time": _now_rfc3339(),
            "source": source,
            "type": type,
        }
        attrs.update({k: v for k, v in attributes.items() if v is not None})
        if data is not None and "datacontenttype" not in attrs:
            attrs["datacontenttype"] = "application/json"
        return cls(attributes=attrs, data=data)

    @property
    def id(self) -> str:
        return str(self.attributes["id"])

    @property
    def source(self) -> str:
        return str(self.attributes["source"])

    @property
    def type(self) -> str:
        return str(self.attributes["type"])

    @property
    def subject(self) -> str | None:
        value = self.attributes.get("subject")
        return None if value is None else str(value)

    def to_dict(self) -> dict[str, Any]:
        """The structured JSON format (``application/cloudevents+json``) as a dict."""
        out = {k: v for k, v in self.attributes.items() if v is not None}
        if isinstance(self.data, bytes):
            out["data_base64"] = base64.b64encode(self.data).decode("ascii")
        elif self.has_data:
            out["data"] = self.data
        return out

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> CloudEvent:
        """Read the structured JSON format; raises ``EventError`` naming the bad field."""
        if not isinstance(obj, Mapping):
            raise EventError(f"a CloudEvent must be a JSON object, not {type(obj).__name__}")
        if "data_base64" in obj:
            if "data" in obj:
                raise EventError(
                    "a CloudEvent carries 'data' or 'data_base64', not both; keep one of them"
                )
            attrs = {k: v for k, v in obj.items() if k != "data_base64"}
            return cls(attributes=attrs, data=_decoded(obj["data_base64"]))
        attrs = {k: v for k, v in obj.items() if k != "data"}
        return cls(attributes=attrs, data=obj.get("data"), has_data="data" in obj)


def _check_attributes(attributes: Mapping[str, Any]) -> None:
    """Every attribute's name and the type of its value (``EventError`` naming the first bad)."""
    for name, value in attributes.items():
        if name not in _VALID_NAMES:
            if not _NAME.match(name) or name == "data":
                raise EventError(
                    f"CloudEvent attribute name {name!r} is invalid: names are lower-case "
                    "letters and digits only, and 'data' is reserved"
                )
            if len(_VALID_NAMES) < _VALID_NAMES_KEPT:
                _VALID_NAMES.add(name)
        if type(value) not in _ATTRIBUTE_TYPES and not isinstance(value, str | int):
            raise EventError(
                f"CloudEvent attribute {name!r} must be a string, integer or boolean, "
                f"not {type(value).__name__}"
            )


def _check_data(data: Any) -> None:
    """Refuse data JSON cannot encode (bytes are binary data, carried as base64)."""
    if isinstance(data, bytes) or _plain_json(data):
        return
    try:
        json.dumps(data)
    except (TypeError, ValueError) as exc:
        raise EventError(
            f"CloudEvent data is not JSON-serialisable ({exc}); "
            "send JSON values (objects, arrays, strings, numbers, booleans, null)"
        ) from exc


def _plain_json(value: Any) -> bool:
    """True when ``value`` is small and made of plain JSON values only (``dict`` with ``str``
    keys, ``list``, ``str``, ``float``, ``bool``, ``None``, modest ``int``s), which
    ``json.dumps`` always encodes; ``False`` when unsure: then encoding it decides. Walking a
    small value is several times cheaper than encoding it, and most event data is small."""
    return _walk(value, _WALK_LIMIT) >= 0


def _walk(value: Any, left: int) -> int:
    """What is left of the budget of values after walking ``value``; -1 when unsure."""
    kind = type(value)
    if kind in _JSON_SCALARS:
        return left
    if kind is int:
        return left if -_INT_BOUND < value < _INT_BOUND else -1
    if kind is not dict and kind is not list:
        return -1
    left -= len(value)
    if left < 0:
        return -1
    items: Iterable[Any] = value
    if kind is dict:
        if value and set(map(type, value)) != _STR_KEYS:
            return -1
        items = value.values()
    for item in items:
        if type(item) not in _JSON_SCALARS:
            left = _walk(item, left)
            if left < 0:
                return -1
    return left


def _decoded(value: Any) -> bytes:
    if not isinstance(value, str):
        raise EventError(f"'data_base64' must be a base64 string, not {type(value).__name__}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EventError(f"'data_base64' is not valid base64 ({exc})") from exc
