"""Size-capped capture of a process's output: the first and the last bytes are kept, the middle
only counted.

The reader keeps draining past the cap so a chatty program never blocks on a full pipe. The end
is kept as well as the start because the last lines before a fault (a traceback) are what
explains it; where bytes were dropped the text says ``[truncated N bytes]``.
"""

from __future__ import annotations

__all__ = ["OutputCapture", "truncation_marker"]


def truncation_marker(dropped: int) -> str:
    """The line that stands where captured text was cut."""
    return f"\n[truncated {dropped} bytes]\n"


class OutputCapture:
    """Keeps the first half and the last half of ``max_bytes`` fed to it, and counts all."""

    __slots__ = ("_head", "_head_max", "_tail", "_tail_max", "total")

    def __init__(self, max_bytes: int) -> None:
        self._head_max = max_bytes - max_bytes // 2
        self._tail_max = max_bytes // 2
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        """Account for ``chunk``; keep what fits at the start, and the latest bytes."""
        self.total += len(chunk)
        room = self._head_max - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if chunk and self._tail_max:
            self._tail += chunk[-self._tail_max :]
            excess = len(self._tail) - self._tail_max
            if excess > 0:
                del self._tail[:excess]

    @property
    def truncated(self) -> bool:
        """True when more was written than kept."""
        return self.total > len(self._head) + len(self._tail)

    def text(self) -> str:
        """The kept bytes as text (invalid UTF-8 replaced), the marker where bytes were cut."""
        head = bytes(self._head).decode("utf-8", errors="replace")
        tail = bytes(self._tail).decode("utf-8", errors="replace")
        if self.truncated:
            dropped = self.total - len(self._head) - len(self._tail)
            return head + truncation_marker(dropped) + tail
        return head + tail
