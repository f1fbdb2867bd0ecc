"""Size-capped capture of a process's output: the first bytes are kept, the rest only counted.

The reader keeps draining past the cap so a chatty program never blocks on a full pipe; the
text then ends with a marker saying how much was written and how much was kept.
"""

from __future__ import annotations

__all__ = ["OutputCapture", "truncation_marker"]


def truncation_marker(total: int, kept: int) -> str:
    """The line appended to captured text that was cut short."""
    return f"\n[emitflow: output truncated: {total} bytes written, the first {kept} kept]\n"


class OutputCapture:
    """Keeps the first ``max_bytes`` bytes fed to it and counts everything."""

    __slots__ = ("_chunks", "_kept", "_max", "total")

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._chunks: list[bytes] = []
        self._kept = 0
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        """Account for ``chunk``; keep what fits under the cap."""
        self.total += len(chunk)
        room = self._max - self._kept
        if room > 0:
            part = chunk[:room]
            self._chunks.append(part)
            self._kept += len(part)

    @property
    def truncated(self) -> bool:
        """True when more was written than kept."""
        return self.total > self._kept

    def text(self) -> str:
        """The kept bytes as text (invalid UTF-8 replaced), with the marker when truncated."""
        text = b"".join(self._chunks).decode("utf-8", errors="replace")
        if self.truncated:
            text += truncation_marker(self.total, self._kept)
        return text
