"""An event sink that appends each CloudEvent as one structured JSON line to a file or stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from emitflow.events.cloudevent import CloudEvent

__all__ = ["JsonLinesSink"]


class JsonLinesSink:
    """Writes ``event.to_dict()`` as JSON, one per line; ``-`` means stderr.

    ``redact`` is applied to each event's JSON object before writing (secrets never leave).
    The file is opened for append on first use and flushed after every line, so a reader
    tailing it sees each event as soon as it is published.
    """

    def __init__(self, target: str | Path, redact: Callable[[Any], Any] | None = None) -> None:
        self._target = str(target)
        self._redact = redact or (lambda value: value)
        self._stream: TextIO | None = None

    async def publish(self, event: CloudEvent) -> None:
        """Append one event."""
        stream = self._open()
        stream.write(json.dumps(self._redact(event.to_dict()), ensure_ascii=False) + "\n")
        stream.flush()

    def _open(self) -> TextIO:
        if self._stream is None:
            if self._target == "-":
                self._stream = sys.stderr
            else:
                path = Path(self._target)
                path.parent.mkdir(parents=True, exist_ok=True)
                self._stream = path.open("a", encoding="utf-8")
        return self._stream

    def close(self) -> None:
        """Close the file (never stderr)."""
        if self._stream is not None and self._stream is not sys.stderr:
            self._stream.close()
        self._stream = None
