"""What the CloudEvents spec asks of attributes an event arrives with, checked at ingestion.

``CloudEvent`` itself checks the required attributes and the names' alphabet; an event that
comes in over ``POST /v1/events`` must also have an RFC 3339 ``time``, a URI ``dataschema``,
extension names of at most 20 characters, and (emitflow's own) an ``emitflowhops`` that is a
small non-negative integer. Each problem names the attribute.
"""

from __future__ import annotations

import re
from datetime import datetime

from emitflow.errors import EventError
from emitflow.events.cloudevent import CONTEXT_ATTRIBUTES, CloudEvent

__all__ = ["MAX_HOPS_ACCEPTED", "check_ingested"]

#: The largest ``emitflowhops`` an ingested event may carry (the loop guard's limit is far below).
MAX_HOPS_ACCEPTED = 1000
_HOPS = "emitflowhops"
_EXTENSION = re.compile(r"^[a-z0-9]{1,20}$")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$")


def check_ingested(event: CloudEvent) -> None:
    """``EventError`` naming the first attribute the CloudEvents spec does not allow."""
    attributes = event.attributes
    for name, value in attributes.items():
        if name not in CONTEXT_ATTRIBUTES and not _EXTENSION.match(name):
            raise EventError(
                f"extension attribute {name!r} is invalid: extension names are 1 to 20 "
                "lower-case letters or digits"
            )
        if value is not None and name in CONTEXT_ATTRIBUTES and not isinstance(value, str):
            raise EventError(f"attribute {name!r} must be a string, not {type(value).__name__}")
    _time(attributes.get("time"))
    dataschema = attributes.get("dataschema")
    if dataschema is not None and not _URI.match(str(dataschema)):
        raise EventError(
            f"attribute 'dataschema' must be an absolute URI such as "
            f"'https://example.com/schemas/order.json', found {str(dataschema)[:80]!r}"
        )
    _hops(attributes.get(_HOPS))


def _time(value: object) -> None:
    if value is None:
        return
    text = str(value)
    valid = bool(_RFC3339.match(text))
    if valid:
        try:
            datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
        except ValueError:
            valid = False
    if not valid:
        raise EventError(
            f"attribute 'time' must be an RFC 3339 timestamp such as '2026-01-31T12:00:00Z', "
            f"found {text[:80]!r}"
        )


def _hops(value: object) -> None:
    if value is None:
        return
    hops: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        hops = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 4:
        hops = int(value)
    if hops is None or not 0 <= hops <= MAX_HOPS_ACCEPTED:
        raise EventError(
            f"attribute '{_HOPS}' (emitflow's hop count) must be an integer from 0 to "
            f"{MAX_HOPS_ACCEPTED}, found {str(value)[:40]!r}"
        )
