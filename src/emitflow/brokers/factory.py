"""Broker transports and consumers by URL scheme, from a lazy ``"module:Class"`` table.

A driver is imported only when its scheme is used; a missing driver is a
``ConfigurationError`` naming the install extra. Opening connects once with a deadline, so a
wrong URL or refused credentials is a clear ``BrokerError`` naming the broker, never a hang.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import Any
from urllib.parse import urlsplit

from emitflow.brokers.base import Consumer, Transport
from emitflow.errors import BrokerError, ConfigurationError

__all__ = [
    "BROKER_SCHEMES",
    "broker_name",
    "is_broker_url",
    "open_consumer",
    "open_transport",
    "reason",
]

_PKG = "emitflow.brokers."
#: scheme -> (transport class, consumer class, install extra, driver module)
_TABLE: dict[str, tuple[str, str | None, str, str]] = {
    "nats": (_PKG + "nats:NatsTransport", _PKG + "nats:NatsConsumer", "nats", "nats"),
    "redis": (_PKG + "redis:RedisTransport", _PKG + "redis:RedisConsumer", "redis", "redis"),
    "amqp": (_PKG + "amqp:AmqpTransport", _PKG + "amqp:AmqpConsumer", "amqp", "aio_pika"),
    "mqtt": (_PKG + "mqtt:MqttTransport", _PKG + "mqtt:MqttConsumer", "mqtt", "aiomqtt"),
    "kafka": (_PKG + "kafka:KafkaTransport", None, "kafka", "aiokafka"),
}
BROKER_SCHEMES: frozenset[str] = frozenset(_TABLE)
CONNECT_TIMEOUT = 5.0


def is_broker_url(url: str) -> bool:
    """True for a URL whose scheme names a broker (``nats://``, ``amqp://`` …)."""
    return urlsplit(url).scheme in _TABLE


def broker_name(url: str) -> str:
    """``scheme://host:port`` of a broker URL, without credentials, path or query."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def _load(url: str, consumer: bool) -> Any:
    scheme = urlsplit(url).scheme
    if scheme not in _TABLE:
        raise ConfigurationError(
            f"{scheme or url!r} is not a broker scheme: use one of "
            + ", ".join(f"{s}://" for s in sorted(_TABLE))
        )
    transport, consumer_path, extra, driver = _TABLE[scheme]
    path = consumer_path if consumer else transport
    if path is None:
        raise ConfigurationError(f"{scheme}:// cannot be a source yet (publishing only)")
    try:
        importlib.import_module(driver)
    except ImportError:
        raise ConfigurationError(
            f"{scheme}:// needs the {driver!r} driver: pip install 'emitflow[{extra}]'"
        ) from None
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


async def _connected(cls: Any, url: str, mode: str, seconds: float) -> Any:
    opened = cls(url, mode=mode)
    try:
        async with asyncio.timeout(seconds):
            await opened.connect()
    except TimeoutError:
        await opened.close()
        raise BrokerError(f"{broker_name(url)}: no answer within {seconds:g} s") from None
    except BrokerError:
        await opened.close()
        raise
    except Exception as exc:  # a driver's own error: translated, naming the broker
        await opened.close()
        raise BrokerError(f"{broker_name(url)}: cannot connect ({reason(exc, url)})") from exc
    return opened


def reason(exc: BaseException, url: str = "") -> str:
    """An exception's message for an error or a delivery record, without the URL's password."""
    text = str(exc).strip() or type(exc).__name__
    password = urlsplit(url).password if url else None
    if password:
        text = text.replace(password, "***")
    return text[:300]


async def open_transport(
    url: str, *, mode: str = "binary", seconds: float = CONNECT_TIMEOUT
) -> Transport:
    """A connected transport for a broker URL (``BrokerError`` naming it when it cannot)."""
    transport: Transport = await _connected(_load(url, False), url, mode, seconds)
    return transport


async def open_consumer(url: str, *, seconds: float = CONNECT_TIMEOUT) -> Consumer:
    """A connected consumer for a broker URL (``BrokerError`` naming it when it cannot)."""
    consumer: Consumer = await _connected(_load(url, True), url, "binary", seconds)
    return consumer
