"""``BrokerSpec``: a broker URL as ``--broker`` and ``EMITFLOW_BROKERS`` give it.

``nats://127.0.0.1:4222?types=com.petstore.*,com.example.order.*&channel=orders`` publishes
the events whose ``type`` matches one of the globs (``*`` any run of characters), emitted on
that channel (default: the default channel ``""``); the other query parameters belong to the
transport (``subject=``, ``stream=`` …). ``mode=structured`` selects structured mode.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from emitflow.brokers.factory import BROKER_SCHEMES
from emitflow.errors import ConfigurationError

__all__ = ["BrokerSpec", "broker_specs", "parse_broker"]

_OWN = ("types", "channel", "mode")


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerSpec:
    """Where to publish (``url``, the transport's own) and what (``types`` globs, ``channel``)."""

    url: str
    types: tuple[str, ...] = ()
    channel: str = ""
    mode: str = "binary"

    def matches(self, event: Mapping[str, Any], channel: str = "") -> bool:
        """Whether ``event`` (on ``channel``) is one this broker publishes."""
        if channel != self.channel:
            return False
        kind = str(event.get("type", ""))
        return not self.types or any(fnmatch.fnmatchcase(kind, glob) for glob in self.types)

    def filters(self) -> list[dict[str, str]] | None:
        """The ``types`` narrowing as a subscription filter (CloudEvents SQL)."""
        if not self.types:
            return None
        likes = [
            "type LIKE '" + glob.replace("'", "''").replace("%", "\\%").replace("*", "%") + "'"
            for glob in self.types
        ]
        return [{"sql": " OR ".join(likes)}]


def parse_broker(text: str, where: str = "--broker") -> BrokerSpec:
    """A ``BrokerSpec`` from a URL (``ConfigurationError`` naming ``where`` if it is not one)."""
    parts = urlsplit(text.strip())
    if parts.scheme not in BROKER_SCHEMES or not parts.hostname:
        raise ConfigurationError(
            f"{where} {_shown(text)!r}: not a broker URL; use scheme://host:port with a scheme "
            "of " + ", ".join(sorted(BROKER_SCHEMES)) + " (e.g. nats://127.0.0.1:4222)"
        )
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    own = {k: v for k, v in pairs if k in _OWN}
    rest = [(k, v) for k, v in pairs if k not in _OWN]
    mode = own.get("mode", "binary")
    if mode not in ("binary", "structured"):
        raise ConfigurationError(f"{where}: mode={mode!r} is not binary or structured")
    types = tuple(t.strip() for t in own.get("types", "").split(",") if t.strip())
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest, safe="{}/*>"), ""))
    return BrokerSpec(url=url, types=types, channel=own.get("channel", ""), mode=mode)


def broker_specs(
    given: Iterable[str] = (), env: Mapping[str, str] | None = None
) -> list[BrokerSpec]:
    """The brokers of ``--broker`` options plus ``EMITFLOW_BROKERS`` (comma- or
    space-separated; a comma inside ``types=`` is kept with its URL)."""
    env = os.environ if env is None else env
    texts = list(given)
    found = env.get("EMITFLOW_BROKERS", "")
    texts.extend(_split_env(found))
    return [parse_broker(text) for text in texts]


def _split_env(value: str) -> list[str]:
    out: list[str] = []
    for piece in value.replace(" ", ",").split(","):
        if not piece:
            continue
        if "://" in piece or not out:
            out.append(piece)
        else:
            out[-1] += "," + piece
    return out


def _shown(text: str) -> str:
    parts = urlsplit(text)
    if parts.password:
        return text.replace(parts.password, "***")
    return text
