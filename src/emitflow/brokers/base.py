"""The broker roles: a ``Transport`` publishes CloudEvents, a ``Consumer`` reads them.

A transport publishes a batch in order and says how many of it, from the start, the broker
acknowledged (JetStream PubAck, publisher confirm, PUBACK, XADD reply); the first failure stops
the batch, so a destination's events leave in queue order. A consumer hands each message to a
callback and acknowledges it only after the callback returned (the event is stored), or refuses
it when the callback says so (a dead letter on the broker, where the protocol has them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Acks", "Consumer", "Message", "MessageHandler", "Transport"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Acks:
    """How many events of a batch the broker acknowledged, from its start; ``error`` says why
    the next one was not (``None``: all were)."""

    count: int
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """A message as a broker delivered it: its headers (or fields) and its body."""

    headers: Mapping[str, str]
    body: bytes
    content_type: str | None = None


#: Takes a message; ``True``: acknowledge it, ``False``: refuse it (dead-letter it on the broker).
MessageHandler = Callable[[Message], Awaitable[bool]]


class Transport(Protocol):
    """Publishes CloudEvents (structured JSON objects) to one broker destination."""

    async def publish(self, batch: Sequence[Mapping[str, Any]]) -> Acks:
        """Publish ``batch`` in order; stop at the first event the broker does not ack."""
        ...

    async def close(self) -> None:
        """Release the connection."""
        ...


class Consumer(Protocol):
    """Consumes one broker subject/queue/topic/stream until cancelled."""

    async def consume(self, handler: MessageHandler) -> None:
        """Call ``handler`` for each message; ack it after ``handler`` returned ``True``,
        refuse it (dead-letter it on the broker) when it returned ``False``."""
        ...

    async def close(self) -> None:
        """Release the connection."""
        ...
