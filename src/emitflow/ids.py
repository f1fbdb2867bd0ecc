"""Identifiers: the injectable id factory and the emitter globs of subscriptions."""

from __future__ import annotations

import os
from collections.abc import Callable

from emitflow.errors import StoreError

__all__ = [
    "RUN_PREFIX",
    "SUBSCRIPTION_PREFIX",
    "WORKFLOW_PREFIX",
    "IdFactory",
    "check_triple",
    "emitter_patterns",
    "is_glob",
    "random_id",
]

#: Makes a new id from a prefix: ``ids("r")`` → ``"r_…"``. Injected so tests get stable ids.
IdFactory = Callable[[str], str]

WORKFLOW_PREFIX = "p"
RUN_PREFIX = "r"
SUBSCRIPTION_PREFIX = "sub"

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def random_id(prefix: str) -> str:
    """``<prefix>_`` and 96 random bits in base 62 (17 characters)."""
    number = int.from_bytes(os.urandom(12))  # as secrets.randbits(96), without its imports
    chars = []
    for _ in range(17):
        number, digit = divmod(number, 62)
        chars.append(_ALPHABET[digit])
    return f"{prefix}_{''.join(chars)}"


def is_glob(emitter_id: str) -> bool:
    """True for the emitter globs ``p_*`` and ``dc_*`` (any ``<prefix>_*``)."""
    return emitter_id.endswith("_*")


def emitter_patterns(emitter_id: str) -> tuple[str, ...]:
    """The subscription emitter ids an event of ``emitter_id`` matches: itself and its glob."""
    prefix, sep, _ = emitter_id.partition("_")
    if not sep or is_glob(emitter_id):
        return (emitter_id,)
    return (emitter_id, f"{prefix}_*")


def check_triple(emitter_id: str, listener_id: str, event_name: str) -> None:
    """Refuse a subscription triple that cannot be stored (empty ids, a glob listener)."""
    for what, value in (("emitter_id", emitter_id), ("listener_id", listener_id)):
        if not isinstance(value, str) or not value:
            raise StoreError(f"subscription {what} must be a non-empty string, not {value!r}")
    if is_glob(listener_id):
        raise StoreError(f"subscription listener_id {listener_id!r} cannot be a glob")
    if not isinstance(event_name, str):
        raise StoreError(f"subscription event_name must be a string, not {event_name!r}")
