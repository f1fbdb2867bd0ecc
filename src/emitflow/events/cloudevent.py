"""The CloudEvent value (CloudEvents 1.0) and its structured JSON form.

Data is a JSON value, or ``bytes`` for binary data, which the structured form carries as
``data_base64`` (the JSON event format's rule), so it is stored and read back byte for byte.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from emitflow.errors import EventError

__all__ = ["CONTEXT_ATTRIBUTES", "CloudEvent"]

REQUIRED = ("id", "source", "specversion", "type")
CONTEXT_ATTRIBUTES = (*REQUIRED, "datacontenttype", "dataschema", "subject", "time")
_NAME = re.compile(r"^[a-z0-9]{1,}$")


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
        for name in REQUIRED:
            value = self.attributes.get(name)
            if not isinstance(value, str) or not value:
                raise EventError(
                    f"CloudEvent attribute {name!r} is missing or empty; "
                    f"every event needs a non-empty string {name!r}"
                )
        if self.attributes["specversion"] != "1.0":
            raise EventError(
                f"CloudEvent specversion {self.attributes['specversion']!r} is not supported; "
                "use '1.0'"
            )
        for name, value in self.attributes.items():
            if not _NAME.match(name) or name == "data":
                raise EventError(
                    f"CloudEvent attribute name {name!r} is invalid: names are lower-case "
                    "letters and digits only, and 'data' is reserved"
                )
            if value is not None and not isinstance(value, str | int | bool):
                raise EventError(
                    f"CloudEvent attribute {name!r} must be a string, integer or boolean, "
                    f"not {type(value).__name__}"
                )
        if isinstance(self.data, bytes):
            return
        try:
            json.dumps(self.data)
        except (TypeError, ValueError) as exc:
            raise EventError(
                f"CloudEvent data is not JSON-serialisable ({exc}); "
                "send JSON values (objects, arrays, strings, numbers, booleans, null)"
            ) from exc

    @classmethod
    def create(cls, *, type: str, source: str, data: Any = None, **attributes: Any) -> CloudEvent:
        """A new event; ``id`` (a UUID), ``time`` (now) and ``specversion`` are filled in."""
        attrs: dict[str, Any] = {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
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


def _decoded(value: Any) -> bytes:
    if not isinstance(value, str):
        raise EventError(f"'data_base64' must be a base64 string, not {type(value).__name__}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EventError(f"'data_base64' is not valid base64 ({exc})") from exc
