"""Keeping credentials out of what a call shows: error details, logs and ``output: response``.

URLs lose their user info and the values of query parameters whose names say they hold a
credential; headers lose the values of ``Authorization``-like headers. Secrets that travel
elsewhere (in a path, a body) are the engine's ``Redactor``'s job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode

import httpx

__all__ = ["MASK", "excerpt", "redact_headers", "redact_url", "scrub"]

MASK = "***"

SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "api-key", "x-auth-token"}
)
# Query parameter names (lower-cased) that conventionally carry a credential.
_SENSITIVE_QUERY = ("token", "secret", "password", "passwd", "apikey", "api_key", "signature")


def redact_url(url: httpx.URL | str) -> str:
    """``url`` without user info and with credential-like query values masked."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return MASK
    if parsed.userinfo:
        parsed = parsed.copy_with(username=None, password=None)
    if parsed.query:
        pairs = parse_qsl(parsed.query.decode("ascii", "replace"), keep_blank_values=True)
        if any(_sensitive_query(name) for name, _ in pairs):
            masked = [(name, MASK if _sensitive_query(name) else value) for name, value in pairs]
            parsed = parsed.copy_with(query=urlencode(masked, safe="*").encode("ascii"))
    return str(parsed)


def _sensitive_query(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SENSITIVE_QUERY)


def redact_headers(headers: httpx.Headers | Mapping[str, str]) -> dict[str, str]:
    """Headers as a plain map (repeated ones joined by commas), credentials masked."""
    items: Iterable[tuple[str, str]] = headers.items()
    return {name: MASK if name.lower() in SENSITIVE_HEADERS else value for name, value in items}


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every occurrence of each non-empty secret replaced by the mask."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def excerpt(text: str, limit: int = 200) -> str:
    """The start of ``text`` on one line, cut at ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
