"""The pipe protocol between the engine and a code-step worker: length-prefixed JSON frames.

A frame is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON. The worker
reads frames on its stdin and writes frames on its stdout; nothing else uses those pipes.

1. worker → engine, once at start: ``{"hello": {"pid", "uid", "dropped", "processes"}}``, or
   ``{"error": "<why the worker cannot serve>"}``.
2. engine → worker, per step, two frames: the head ``{"step", "timeout", "limits",
   "asynchronous"}``, which the worker reads, then the body ``{"code", "steps", "secrets",
   "environment"}``, which the worker passes on unread to the step's process (one decoding of
   the steps, not two).
3. worker → engine, per step, two frames: first the meta frame
   ``{"problem": <RFC 7807 object or null>, "logs": str, "logs_truncated": bool,
   "duration": float, "has_result": bool}``, then (when ``has_result``) the step's result
   exactly as the step's process wrote it: ``{"output", "emits", "exports", "exited",
   "exit_reason", "respond", "problem"}``. Keeping the result in a frame of its own means
   bytes written by user code can never be mistaken for the worker's own account of the step.
"""

from __future__ import annotations

import json
import os
import struct
from typing import TYPE_CHECKING, Any

from emitflow.errors import SandboxError

if TYPE_CHECKING:
    # The worker does not load asyncio (see codesteps/__init__.py); the engine's side does.
    import asyncio

__all__ = [
    "HEADER_SIZE",
    "FrameBuffer",
    "decode",
    "encode",
    "frame",
    "read_frame",
    "read_frame_fd",
    "write_fd",
]

_HEADER = struct.Struct(">I")
HEADER_SIZE = _HEADER.size
_MAX_LENGTH = 2**32 - 1


def frame(body: bytes) -> bytes:
    """The frame carrying ``body``."""
    if len(body) > _MAX_LENGTH:
        raise SandboxError(f"a code-step message of {len(body)} bytes is too large to send")
    return _HEADER.pack(len(body)) + body


def encode(message: Any) -> bytes:
    """The frame carrying ``message`` as compact JSON."""
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return frame(body.encode("utf-8"))


def decode(body: bytes) -> Any:
    """The JSON value of a frame's body."""
    try:
        return json.loads(body)
    except ValueError as exc:
        raise SandboxError(f"a code-step message is not valid JSON: {exc}") from exc


def _check_length(length: int, max_bytes: int) -> None:
    if length > max_bytes:
        raise SandboxError(
            f"a code-step message of {length} bytes is over the {max_bytes}-byte limit"
        )


async def read_frame(reader: asyncio.StreamReader, max_bytes: int) -> bytes | None:
    """The next frame's body, or ``None`` if the stream ended cleanly before one began."""
    from asyncio import IncompleteReadError

    try:
        header = await reader.readexactly(HEADER_SIZE)
    except IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise SandboxError("a code-step message was cut short after its first bytes") from exc
    (length,) = _HEADER.unpack(header)
    _check_length(length, max_bytes)
    try:
        return await reader.readexactly(length)
    except IncompleteReadError as exc:
        raise SandboxError(
            f"a code-step message was cut short: {len(exc.partial)} of {length} bytes"
        ) from exc


def _read_exactly_fd(fd: int, count: int) -> bytes:
    chunks: list[bytes] = []
    remaining = count
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame_fd(fd: int, max_bytes: int) -> bytes | None:
    """Blocking ``read_frame`` on a file descriptor (the worker's side)."""
    header = _read_exactly_fd(fd, HEADER_SIZE)
    if not header:
        return None
    if len(header) < HEADER_SIZE:
        raise SandboxError("a code-step message was cut short after its first bytes")
    (length,) = _HEADER.unpack(header)
    _check_length(length, max_bytes)
    body = _read_exactly_fd(fd, length)
    if len(body) < length:
        raise SandboxError(f"a code-step message was cut short: {len(body)} of {length} bytes")
    return body


def write_fd(fd: int, data: bytes) -> None:
    """Write all of ``data`` to a blocking file descriptor."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class FrameBuffer:
    """Collects one frame from chunks read off a non-blocking pipe, up to a size limit."""

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._data = bytearray()
        self.oversized = False

    def feed(self, chunk: bytes) -> None:
        """Add bytes read from the pipe; past the limit they are dropped and noted."""
        if self.oversized:
            return
        self._data += chunk
        if len(self._data) > self._max + HEADER_SIZE:
            self.oversized = True
            self._data.clear()

    @property
    def complete(self) -> bool:
        """True once the whole frame has arrived."""
        if len(self._data) < HEADER_SIZE:
            return False
        length: int = _HEADER.unpack_from(self._data)[0]
        return len(self._data) >= HEADER_SIZE + length

    def body(self) -> bytes | None:
        """The frame's body once all of it has arrived, else ``None``."""
        if self.oversized or len(self._data) < HEADER_SIZE:
            return None
        (length,) = _HEADER.unpack_from(self._data)
        if length > self._max:
            self.oversized = True
            return None
        end = HEADER_SIZE + length
        if len(self._data) < end:
            return None
        return bytes(self._data[HEADER_SIZE:end])
