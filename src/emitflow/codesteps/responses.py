"""``check_response``: what ``pd.respond({...})`` may hand to an HTTP hook's answer.

A header the HTTP server cannot write (a CR or LF in it, a character outside Latin-1, a name
that is not an HTTP token) used to reach the server and end as an empty reply or a 500. It is
checked where the step calls ``pd.respond`` (so the step faults at that line) and again when
the step's result reaches the engine (a step that bypassed ``pd`` faults there). The server
computes ``Content-Length`` and the framing itself, so a step may not set those headers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["FRAMING_HEADERS", "ResponseError", "check_response"]

#: Headers the server sets from the body it sends; a step's own value would break the framing.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_FORBIDDEN = re.compile(r"[\r\n\x00]")


class ResponseError(ValueError):
    """A ``pd.respond`` value the hook could not send."""


def check_response(response: object) -> dict[str, Any]:
    """``{"status", "headers", "body"}`` ready to send; ``ResponseError`` naming the problem."""
    if not isinstance(response, Mapping):
        raise ResponseError(
            "pd.respond() takes a dict like {'status': 200, 'headers': {...}, 'body': ...}, "
            f"not {type(response).__name__}"
        )
    status = response.get("status", 200)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ResponseError(f"pd.respond() status must be an HTTP status 100-599, not {status!r}")
    headers = response.get("headers") or {}
    if not isinstance(headers, Mapping):
        raise ResponseError(
            f"pd.respond() headers must be a dict of name to text, not {type(headers).__name__}"
        )
    return {
        "status": status,
        "headers": {name: _value(name, value) for name, value in _named(headers)},
        "body": response.get("body"),
    }


def _named(headers: Mapping[Any, Any]) -> list[tuple[str, Any]]:
    named = []
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.match(name):
            raise ResponseError(
                f"pd.respond() header name {name!r} is not an HTTP header name "
                "(letters, digits and !#$%&'*+.^_`|~- only)"
            )
        if name.lower() in FRAMING_HEADERS:
            raise ResponseError(
                f"pd.respond() may not set the {name!r} header: the server sets it from the body"
            )
        named.append((name, value))
    return named


def _value(name: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ResponseError(
            f"pd.respond() header {name!r} must be text or a number, not {type(value).__name__}"
        )
    text = str(value)
    if _FORBIDDEN.search(text):
        raise ResponseError(
            f"pd.respond() header {name!r} holds a line break or NUL, which would split the "
            "answer; send one line of text"
        )
    try:
        text.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise ResponseError(
            f"pd.respond() header {name!r} holds {text[exc.start]!r}, which an HTTP header "
            "cannot carry (Latin-1 only); percent-encode it or put it in the body"
        ) from None
    return text
