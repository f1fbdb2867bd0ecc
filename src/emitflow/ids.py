"""Identifiers: the injectable id factory, random ids and UUIDs, and the emitter globs of
subscriptions.

Random ids and event UUIDs take their bits from ``os.urandom`` (the kernel's CSPRNG), read
ahead a few kilobytes at a time: a small read costs a system call that also releases the GIL,
and on a busy engine (a loop of emits, the store's writer thread running) getting the GIL back
cost more than the id itself. Every id still gets bits no other id gets, from the same source
as before, so ids stay unique and unguessable; a forked child drops what its parent read ahead.
"""

from __future__ import annotations

import os
import threading
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
    "random_bytes",
    "random_id",
    "random_uuid",
]

#: Makes a new id from a prefix: ``ids("r")`` → ``"r_…"``. Injected so tests get stable ids.
IdFactory = Callable[[str], str]

WORKFLOW_PREFIX = "p"
RUN_PREFIX = "r"
SUBSCRIPTION_PREFIX = "sub"

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: Two base-62 digits, the less significant first, for each number below 62**2.
_PAIRS = tuple(_ALPHABET[n % 62] + _ALPHABET[n // 62] for n in range(62 * 62))
#: Bytes read from ``os.urandom`` at a time (256 UUIDs' worth).
_READ_AHEAD = 4096
#: The RFC 4122 variant (``10xx``) of a UUID's 17th hex digit, from any hex digit.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


class _Urandom:
    """``os.urandom`` read ahead: each call gets bytes no other call gets (thread-safe)."""

    __slots__ = ("_at", "_block", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._block = b""
        self._at = 0

    def take(self, size: int) -> bytes:
        """``size`` fresh random bytes."""
        with self._lock:
            start = self._at
            end = start + size
            if end > len(self._block):
                self._block = os.urandom(max(_READ_AHEAD, size))
                start, end = 0, size
            self._at = end
            return self._block[start:end]

    def forget(self) -> None:
        """Drop what was read ahead (in a forked child: the parent hands out the same bytes)."""
        self._lock = threading.Lock()  # another thread may have held it at the fork
        self._block = b""
        self._at = 0


_URANDOM = _Urandom()
os.register_at_fork(after_in_child=_URANDOM.forget)


def random_bytes(size: int) -> bytes:
    """``size`` random bytes from ``os.urandom`` (read ahead; see the module's docstring)."""
    return _URANDOM.take(size)


def random_uuid() -> str:
    """A new random (version 4) UUID in its text form, as ``str(uuid.uuid4())``."""
    h = _URANDOM.take(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


def random_id(prefix: str) -> str:
    """``<prefix>_`` and 96 random bits in base 62 (17 characters)."""
    number = int.from_bytes(_URANDOM.take(12))  # as secrets.randbits(96)
    # Least significant digit first, two digits per division: 96 bits are 17 base-62 digits.
    pairs = []
    for _ in range(8):
        number, pair = divmod(number, 3844)
        pairs.append(_PAIRS[pair])
    return f"{prefix}_{''.join(pairs)}{_ALPHABET[number]}"


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
