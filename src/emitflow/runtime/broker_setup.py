"""Brokers for ``emitflow serve``: ``--broker``/``EMITFLOW_BROKERS``, ``--source``, and the
``emitflow.toml`` config file.

```toml
[[destinations]]                 # publish emitted events to a broker (or a webhook)
url = "nats://127.0.0.1:4222?subject=emitflow.{type}"
name = "events"                  # optional
emitters = ["p_*"]               # optional: whose events (default every workflow)
channel = ""                     # optional: which channel (default the default one)
types = ["com.petstore.*"]       # optional: type globs
mode = "binary"                  # optional: or "structured"

[[sources]]                      # consume a broker as the event source dc_<name>
name = "orders"
url = "redis://127.0.0.1:6379/0?stream=orders&group=emitflow"
```

A destination is created once (the same URL and mode again reuses the record, so its queue and
health survive restarts) and subscribed to each emitter. A broker that cannot be reached at
start is an error naming it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emitflow.brokers.config import BrokerSpec, parse_broker
from emitflow.errors import ConfigurationError
from emitflow.runtime.sources import SourceSpec
from emitflow.store.records import Webhook

if TYPE_CHECKING:
    from emitflow.runtime.engine import Engine

__all__ = ["BrokerSetup", "DestinationConfig", "attach", "load_config", "parse_source"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DestinationConfig:
    """A destination to create and subscribe: the broker, and whose events."""

    spec: BrokerSpec
    name: str = ""
    emitters: tuple[str, ...] = ("p_*",)


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerSetup:
    """Everything ``serve`` connects at start."""

    destinations: tuple[DestinationConfig, ...] = ()
    sources: tuple[SourceSpec, ...] = field(default_factory=tuple)

    def merged(self, other: BrokerSetup) -> BrokerSetup:
        """Both setups together."""
        return BrokerSetup(
            destinations=self.destinations + other.destinations,
            sources=self.sources + other.sources,
        )


def parse_source(text: str) -> SourceSpec:
    """``NAME=URL`` (``--source``) as a ``SourceSpec``."""
    name, sep, url = text.partition("=")
    if not sep or not url:
        raise ConfigurationError(
            f"--source {text!r}: use NAME=URL, e.g. orders=redis://127.0.0.1:6379/0?stream=orders"
        )
    parse_broker(url, "--source")
    return SourceSpec(name=name.strip(), url=url.strip())


def load_config(path: Path) -> BrokerSetup:
    """Read ``emitflow.toml``; a problem names the file, the entry and the key."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read it ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML ({exc})") from None
    unknown = set(document) - {"destinations", "sources"}
    if unknown:
        raise ConfigurationError(
            f"{path}: unknown table(s) {sorted(unknown)}; use [[destinations]] and [[sources]]"
        )
    destinations = tuple(
        _destination(entry, f"{path}: destinations[{i}]")
        for i, entry in enumerate(_tables(document, "destinations", path))
    )
    sources = tuple(
        _source(entry, f"{path}: sources[{i}]")
        for i, entry in enumerate(_tables(document, "sources", path))
    )
    return BrokerSetup(destinations=destinations, sources=sources)


def _tables(document: dict[str, Any], key: str, path: Path) -> list[dict[str, Any]]:
    value = document.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigurationError(f"{path}: {key} must be an array of tables ([[{key}]])")
    return value


def _text(entry: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str):
        raise ConfigurationError(f"{where}.{key}: expected a string")
    return value


def _destination(entry: dict[str, Any], where: str) -> DestinationConfig:
    allowed = {"url", "name", "emitters", "channel", "types", "mode"}
    if set(entry) - allowed:
        raise ConfigurationError(f"{where}: unknown key(s) {sorted(set(entry) - allowed)}")
    url = _text(entry, "url", where)
    spec = (
        parse_broker(url, f"{where}.url") if "://" in url and not url.startswith("http") else None
    )
    types = entry.get("types", [])
    emitters = entry.get("emitters", ["p_*"])
    for key, value in (("types", types), ("emitters", emitters)):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigurationError(f"{where}.{key}: expected a list of strings")
    mode = _text(entry, "mode", where, "binary")
    channel = _text(entry, "channel", where, "")
    base = spec.url if spec is not None else url
    return DestinationConfig(
        spec=BrokerSpec(url=base, types=tuple(types), channel=channel, mode=mode),
        name=_text(entry, "name", where, ""),
        emitters=tuple(emitters),
    )


def _source(entry: dict[str, Any], where: str) -> SourceSpec:
    allowed = {"name", "url"}
    if set(entry) - allowed:
        raise ConfigurationError(f"{where}: unknown key(s) {sorted(set(entry) - allowed)}")
    url = _text(entry, "url", where)
    parse_broker(url, f"{where}.url")
    try:
        return SourceSpec(name=_text(entry, "name", where), url=url)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}: {exc}") from None


def from_options(brokers: Sequence[BrokerSpec], sources: Sequence[str]) -> BrokerSetup:
    """The setup of ``--broker`` and ``--source`` options."""
    return BrokerSetup(
        destinations=tuple(DestinationConfig(spec=spec) for spec in brokers),
        sources=tuple(parse_source(text) for text in sources),
    )


async def attach(engine: Engine, setup: BrokerSetup) -> list[Webhook]:
    """Create (or reuse) and subscribe the destinations, start the sources."""
    existing = await engine.webhooks()
    made: list[Webhook] = []
    for config in setup.destinations:
        spec = config.spec
        found = [w for w in existing if w.url == spec.url and w.mode == spec.mode]
        destination = found[0] if found else None
        if destination is None:
            destination = await engine.create_webhook(spec.url, name=config.name, mode=spec.mode)
            existing.append(destination)
        for emitter in config.emitters:
            await engine.subscribe(
                emitter_id=emitter,
                listener_id=destination.id,
                event_name=spec.channel,
                filters=spec.filters(),
            )
        made.append(destination)
    for source in setup.sources:
        await engine.start_source(source.name, source.url)
    return made
